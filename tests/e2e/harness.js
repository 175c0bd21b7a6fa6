// The harness of the browser checks: starts the binary named by KINDRED_BIN on a
// port it binds itself, behind a TCP relay, launches Debian's Chromium (never a
// downloaded browser) through playwright-core, and gives the steps every check
// shares: the admin API, a person's browser, joining through the page, saying
// something.
// `useKindred()` in a test file starts all this before its tests and stops it after.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.KINDRED_BIN;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SHOTS = process.env.KINDRED_E2E_SCREENSHOTS || os.tmpdir();
export const ADMIN = 'e2e-admin-token-0123456789abcdef0123'; // the server wants 32+ bytes
export const WAIT = 15_000;

let server;
/** What the server printed, for a failing check's message. */
export let serverLog = '';
/** The server's own address, and the relay in front of it (`proxy.url`). */
export let base;
export let proxy;
let browser;

/**
 * The address the server says it listens on ("Kindred is listening on http://…"), once
 * it has bound its port itself (`--bind 127.0.0.1:0`). A port chosen here and handed
 * to the server would be free only until this process let go of it: on a machine
 * where other runs start servers and relays too, one of them could take it first, and
 * the checks would then talk to someone else's server, which stops under them.
 */
function listeningAddress(child) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`kindred never said where it listens.\n${serverLog}`)), WAIT);
    const read = (d) => {
      seen += d;
      const found = seen.match(/Kindred is listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (!found) return;
      clearTimeout(timer);
      child.stdout.off('data', read);
      resolve(found[1]);
    };
    child.stdout.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kindred exited (code ${code}) before listening.\n${serverLog}`));
    });
  });
}

/**
 * A TCP relay in front of the server, so a member's network can really drop:
 * `cut()` resets every open connection (the browser sees 1006, as on a train in a
 * tunnel) and refuses new ones until `restore()`.
 */
async function startRelay(targetPort) {
  const open = new Set();
  let down = false;
  const relay = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  // Its own port, chosen as it binds (nobody can take it in between).
  await new Promise((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${relay.address().port}`,
    cut() {
      down = true;
      for (const socket of open) socket.resetAndDestroy ? socket.resetAndDestroy() : socket.destroy();
      open.clear();
    },
    restore() {
      down = false;
    },
    close() {
      this.cut();
      return new Promise((resolve) => relay.close(() => resolve()));
    },
  };
}

export async function api(method, urlPath, body, admin = false) {
  const headers = { 'content-type': 'application/json' };
  if (admin) headers.authorization = `Bearer ${ADMIN}`;
  const res = await fetch(`${base}${urlPath}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${urlPath} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function waitForServer() {
  const deadline = Date.now() + WAIT;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) break;
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kindred did not become healthy (exit code ${server.exitCode}).\n${serverLog}`);
}

/**
 * Start the server, the relay and the browser before a file's tests; stop them after.
 * `args`: more flags for the server (a shorter limit a file's checks need).
 */
export function useKindred(args = []) {
  before(() => start(args));
  after(stop);
}

async function start(args) {
  assert.ok(BIN, 'KINDRED_BIN must name a built kindred binary (cargo build --release; KINDRED_BIN=target/release/kindred)');
  assert.ok(existsSync(BIN), `KINDRED_BIN=${BIN} does not exist`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  server = spawn(path.resolve(BIN), [
    '--bind', '127.0.0.1:0',
    '--admin-token', ADMIN,
    '--demo-room', 'false',
    // The browser connects from 127.0.0.1, a trusted proxy: a page that sends
    // X-Forwarded-For (openPage's `address`) is seen as coming from that address, so
    // people in a test can be on different networks. Pages without it are 127.0.0.1.
    '--trust-forwarded-for', 'true',
    ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' } });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  base = await listeningAddress(server);
  await waitForServer();
  proxy = await startRelay(Number(new URL(base).port));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: WAIT,
  });
}

async function stop() {
  reportNeedsReview();
  await browser?.close().catch(() => {});
  await proxy?.close().catch(() => {});
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Collect a tab's uncaught errors and CSP violations in `page.problems`. */
export function watch(page, name) {
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`${name}: uncaught ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
      page.problems.push(`${name}: ${m.text()}`);
    }
  });
  return page;
}

/**
 * A person's browser (a context of its own: its own storage) and a tab in it, with
 * its errors collected. `address`: the network the server sees them on
 * (X-Forwarded-For, believed from 127.0.0.1); absent, 127.0.0.1.
 */
export async function openPage(name, { address, viewport, locale, colorScheme } = {}) {
  const context = await browser.newContext({
    viewport: viewport || { width: 1200, height: 860 },
    extraHTTPHeaders: address ? { 'x-forwarded-for': address } : undefined,
    locale,
    colorScheme,
  });
  context.setDefaultTimeout(WAIT);
  return watch(await context.newPage(), name);
}

/** Accept the guidelines, pick a name, join; resolves once the welcome is shown. */
export async function joinThroughUi(page, origin, roomId, name, invite) {
  const query = `room=${encodeURIComponent(roomId)}${invite ? `&invite=${encodeURIComponent(invite)}` : ''}`;
  await joinAt(page, `${origin}/?${query}`, name);
}

/** The same, from a link (a room's, or a facilitator's invite link). */
export async function joinAt(page, url, name) {
  await page.goto(url);
  await joinOnForm(page, name);
}

/** Join through the form of a room with a waiting room: the page shows the waiting screen. */
export async function joinToWait(page, url, name) {
  await page.goto(url);
  await page.locator('#guidelines').waitFor();
  await page.check('#accept');
  await page.fill('#pseudonym', name);
  await page.click('#join-button');
  await page.locator('#waiting-screen').waitFor({ state: 'visible' });
}

/** The same, on the join form the tab shows. */
export async function joinOnForm(page, name) {
  await page.locator('#guidelines').waitFor();
  assert.match(await page.locator('#guidelines').innerText(), /stays here/);
  // Joining without accepting is refused in the page, kindly.
  await page.fill('#pseudonym', name);
  await page.click('#join-button');
  assert.match(await page.locator('#join-error').innerText(), /guidelines/);
  await page.check('#accept');
  await page.click('#join-button');
  await page.locator('#conn-status[data-state="live"]').waitFor();
  // On a phone the member list is in a sheet, folded away: there, not shown.
  await page.locator('#members li.member', { hasText: name }).waitFor({ state: 'attached' });
}

/**
 * Write in the composer and press Enter. `force`: the composer may be
 * `aria-disabled` (muted, paused…), which still takes a draft, as a person's
 * keyboard does.
 */
export async function say(page, text) {
  await page.locator('#composer-input').fill(text, { force: true });
  await page.press('#composer-input', 'Enter');
}

/**
 * Give a person's browser a clock run by hand, and count the WebSockets its pages
 * open (`socketsOpened`). Call it before the pages it concerns load. Then
 * `page.clock.runFor(ms)` fires at once every timer due within `ms`: whatever a
 * page would do on its own by then (try again after a backoff, say) is done when
 * it returns, so its absence afterwards is shown without waiting on the wall clock.
 */
export async function handClock(context) {
  await context.clock.install();
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    window.kindredSockets = 0;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.kindredSockets += 1;
      }
    };
  });
}

/** How many WebSockets a page of a `handClock` browser has opened since it loaded. */
export function socketsOpened(page) {
  return page.evaluate(() => window.kindredSockets);
}

/** Longer than any wait of the web client before it tries again (connection.js: 10 s at most). */
export const PAST_EVERY_RETRY_MS = 60_000;

/**
 * One more connection of the member a page has joined as, opened from that page
 * with the member's token (sessionStorage `kindred:<room id>`): `send(frame)` puts a
 * frame on it as it is, as a client that keeps none of the web client's own rules
 * would, so that a check reaches the server's rule and not only the page's.
 * Resolves once the connection is welcomed.
 */
export async function secondConnection(page, roomId) {
  await page.evaluate(([id, wait]) => new Promise((resolve, reject) => {
    const { token } = JSON.parse(sessionStorage.getItem(`kindred:${id}`));
    const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws`);
    window.kindredSecond = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token }));
    ws.onmessage = (e) => { if (JSON.parse(e.data).type === 'welcome') resolve(); };
    ws.onclose = (e) => reject(new Error(`the second connection closed: ${e.code} ${e.reason}`));
    setTimeout(() => reject(new Error('the second connection was not welcomed')), wait);
  }), [roomId, WAIT]);
  return {
    send: (frame) => page.evaluate((f) => window.kindredSecond.send(JSON.stringify(f)), frame),
    close: () => page.evaluate(() => window.kindredSecond.close(1000)),
  };
}

/** Texts of the messages in a page's conversation, in order. */
export function messageTexts(page) {
  return page.locator('#timeline li.msg .msg-text').allInnerTexts();
}

/** The neutral site of the quick exit (web-client/quickexit.js). */
export const NEUTRAL = 'https://www.bbc.co.uk/weather';

/** A phone's page and a wide screen's, for the checks run at both widths. */
export const PHONE = { width: 360, height: 640 };
export const DESKTOP = { width: 1280, height: 860 };

let axeSource;
/**
 * Rules axe-core may report on Kindred's pages and that a person has judged
 * acceptable, each with the reason (rule id → why). Empty: every finding fails.
 * An entry here is a decision to read again, not a way to quiet a check.
 */
export const AXE_ALLOWED = new Map([]);

/**
 * Run axe-core (the npm package, injected into the page as a script) on what the
 * page shows now, with its default rules (WCAG 2.x A and AA, and best practices).
 * Resolves to `{violations, incomplete}`: each `{id, impact, help, nodes}`, where
 * `incomplete` is what axe could not decide alone and a person should look at.
 */
export async function axe(page) {
  if (!axeSource) {
    const require = createRequire(import.meta.url);
    axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  }
  // The page's CSP allows no inline script: evaluate the source instead.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations', 'incomplete'] });
    const brief = (list) => list.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        summary: (n.failureSummary || n.any.concat(n.all, n.none).map((c) => c.message).join('; '))
          .replace(/\s*\n\s*/g, ' ').slice(0, 300),
      })),
    }));
    return { violations: brief(r.violations), incomplete: brief(r.incomplete) };
  });
}

/** What axe-core could not decide on each view, gathered for the end of the file. */
const needsReview = [];

/**
 * Print what axe-core left for a person to review, one line per rule and element,
 * and keep it beside the screenshots (`kindred-e2e-axe-review-<file>.txt`).
 */
function reportNeedsReview() {
  if (needsReview.length === 0) return;
  const file = path.basename(process.argv[1] || 'e2e', '.test.js');
  const text = `axe-core needs review (${needsReview.length}), ${file}:\n${needsReview.join('\n')}\n`;
  console.log(text);
  writeFileSync(path.join(SHOTS, `kindred-e2e-axe-review-${file}.txt`), text);
}

/**
 * No axe-core violation of any impact (minor, moderate, serious, critical) on the
 * page as it is now, save the rules in `AXE_ALLOWED`. What axe leaves for a person
 * to review (its "incomplete" results: a contrast it cannot measure because the
 * text is scrolled under something, say) does not fail the check; each is printed
 * with the view, its rule and its element when the file's tests end.
 */
export async function assertAccessible(page, where) {
  const { violations, incomplete } = await axe(page);
  const failing = violations.filter((v) => !AXE_ALLOWED.has(v.id));
  for (const v of incomplete) {
    for (const n of v.nodes) needsReview.push(`${where}: ${v.id} (${v.impact || 'no impact'}) at ${n.target}: ${n.summary}`);
  }
  assert.deepEqual(failing, [], `${where}: axe-core found\n${JSON.stringify(failing, null, 2)}`);
  return { violations, incomplete };
}

/** Where a test's observer keeps what a tab heard, in that tab's session storage. */
export const HEARD = 'kindred-e2e.heard';

/**
 * Record, in every page this person's browser loads from now on, each item added
 * to the announcer's regions: `polite: …` or `urgent: …`.
 */
export async function listen(page) {
  await page.context().addInitScript((key) => {
    const regions = { announcer: 'polite', 'announcer-urgent': 'urgent' };
    new MutationObserver((records) => {
      for (const r of records) {
        const how = regions[r.target.id];
        if (!how) continue;
        for (const node of r.addedNodes) {
          const heard = JSON.parse(sessionStorage.getItem(key) || '[]');
          heard.push(`${how}: ${node.textContent}`);
          sessionStorage.setItem(key, JSON.stringify(heard));
        }
      }
    }).observe(document, { childList: true, subtree: true });
  }, HEARD);
}

/** Everything this tab has heard so far, in order. */
export function heard(page) {
  return page.evaluate((key) => JSON.parse(sessionStorage.getItem(key) || '[]'), HEARD);
}
