// Browser end-to-end test of the bundled web client against a real `kindred`.
//
// Starts the binary named by KINDRED_BIN on a free port, creates a room over the
// admin API, and drives Debian's Chromium (never a downloaded browser) through
// playwright-core: two members join through the UI, talk, react and raise a hand;
// one loses her network while the other posts five messages and, back again, sees
// each exactly once and in order; a facilitator pauses the room and the member's
// next message is refused kindly. A missing binary or browser fails the test: it
// never skips.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.KINDRED_BIN;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = process.env.KINDRED_E2E_SCREENSHOTS || os.tmpdir();
const ADMIN = 'e2e-admin-token-0123456789abcdef0123'; // the server wants 32+ bytes
const WAIT = 15_000;

let server;
let serverLog = '';
let base;
let proxy;
let browser;

/** A port nobody is listening on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * A TCP relay in front of the server, so a member's network can really drop:
 * `cut()` resets every open connection (the browser sees 1006, as on a train in a
 * tunnel) and refuses new ones until `restore()`.
 */
async function startRelay(targetPort) {
  const port = await freePort();
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
  await new Promise((resolve) => relay.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
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

async function api(method, urlPath, body, admin = false) {
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

before(async () => {
  assert.ok(BIN, 'KINDRED_BIN must name a built kindred binary (cargo build --release; KINDRED_BIN=target/release/kindred)');
  assert.ok(existsSync(BIN), `KINDRED_BIN=${BIN} does not exist`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(path.resolve(BIN), [
    '--bind', `127.0.0.1:${port}`,
    '--admin-token', ADMIN,
    '--demo-room', 'false',
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' } });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitForServer();
  proxy = await startRelay(port);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: WAIT,
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await proxy?.close().catch(() => {});
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
});

/** A member's browser tab, with its errors collected. */
async function openPage(name) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`${name}: uncaught ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
      page.problems.push(`${name}: ${m.text()}`);
    }
  });
  return page;
}

/** Accept the guidelines, pick a name, join; resolves once the welcome is shown. */
async function joinThroughUi(page, origin, roomId, name, invite) {
  const query = `room=${encodeURIComponent(roomId)}${invite ? `&invite=${encodeURIComponent(invite)}` : ''}`;
  await page.goto(`${origin}/?${query}`);
  await page.locator('#guidelines').waitFor();
  assert.match(await page.locator('#guidelines').innerText(), /stays here/);
  // Joining without accepting is refused in the page, kindly.
  await page.fill('#pseudonym', name);
  await page.click('#join-button');
  assert.match(await page.locator('#join-error').innerText(), /guidelines/);
  await page.check('#accept');
  await page.click('#join-button');
  await page.locator('#conn-status[data-state="live"]').waitFor();
  await page.locator('#members li.member', { hasText: name }).waitFor();
}

async function say(page, text) {
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
}

/** Texts of the messages in a page's conversation, in order. */
function messageTexts(page) {
  return page.locator('#timeline li.msg .msg-text').allInnerTexts();
}

test('two members and a facilitator share a room through the web client', { timeout: 150_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    title: 'Tuesday Evening Circle',
    topic: 'Anxiety & low mood',
    description: 'A peer-led group for anyone living with anxiety or depression. Gentle, confidential, come as you are.',
    capacity: 20,
  }, true);

  const alice = await openPage('alice');
  const bob = await openPage('bob');
  try {
    await t.test('the directory lists the room', async () => {
      await bob.goto(`${base}/`);
      await bob.locator('#room-list li', { hasText: 'Tuesday Evening Circle' }).waitFor();
    });

    // Alice comes in through the relay, so her network can be cut later.
    await joinThroughUi(alice, proxy.url, room.id, 'Alice');
    await joinThroughUi(bob, base, room.id, 'Bob');
    await alice.locator('#members li.member', { hasText: 'Bob' }).waitFor();

    await t.test('Alice says something and Bob sees it', async () => {
      await say(alice, "Hello everyone, it's my first time here.");
      await bob.locator('#timeline li.msg', { hasText: "it's my first time here" }).waitFor();
      // Her own copy comes from the timeline, once; nothing is left pending.
      await alice.locator('#timeline li.msg.mine', { hasText: "it's my first time here" }).waitFor();
      await alice.locator('#outbox li').waitFor({ state: 'detached' }).catch(() => {});
      assert.equal(await alice.locator('#outbox li').count(), 0);
    });

    await t.test("Bob types and Alice sees that he is typing", async () => {
      await bob.fill('#composer-input', 'I know that feeling');
      await alice.locator('#typing', { hasText: 'Bob is typing' }).waitFor();
      await bob.fill('#composer-input', '');
    });

    await t.test('Bob reacts with a heart and Alice sees it', async () => {
      const message = bob.locator('#timeline li.msg', { hasText: "it's my first time here" });
      await message.locator('.react-button').click();
      await message.locator('.picker-button[data-emoji="heart"]').click();
      const reaction = alice.locator('#timeline li.msg', { hasText: "it's my first time here" })
        .locator('.reaction[data-emoji="heart"]');
      await reaction.waitFor();
      assert.equal(await reaction.locator('.count').innerText(), '1');
    });

    await t.test("Alice raises her hand and Bob's member list shows it", async () => {
      await alice.click('#hand-button');
      await bob.locator('#members li.member.hand-raised', { hasText: 'Alice' }).waitFor();
      await alice.locator('#hand-button[aria-pressed="true"]').waitFor();
    });

    await t.test('Alice loses her network, misses nothing and sees nothing twice', async () => {
      // Mark what she sees now: a resume appends to the view, a reset would rebuild it.
      await alice.locator('#timeline li.msg', { hasText: "it's my first time here" })
        .evaluate((el) => { el.dataset.e2eMark = 'before-the-drop'; });
      proxy.cut();
      await alice.locator('#conn-status[data-state="waiting"]').waitFor();
      // Written while away: it waits and goes out once she is back.
      await say(alice, 'Sorry, my connection is patchy tonight.');
      await alice.locator('#outbox li[data-status="waiting"]').waitFor();
      for (let i = 1; i <= 5; i += 1) {
        await say(bob, `Bob message ${i} of 5`);
        await bob.locator('#timeline li.msg', { hasText: `Bob message ${i} of 5` }).waitFor();
      }
      assert.equal(await bob.locator('#outbox li').count(), 0, 'every one of Bob\'s messages was acknowledged');
      proxy.restore();
      await alice.locator('#timeline li.msg', { hasText: 'Bob message 5 of 5' }).waitFor({ timeout: 25_000 });
      await alice.locator('#conn-status[data-state="live"]').waitFor();
      await bob.locator('#timeline li.msg', { hasText: 'connection is patchy' }).waitFor();
      await alice.locator('#timeline li.msg.mine', { hasText: 'connection is patchy' }).waitFor();

      const seen = await messageTexts(alice);
      assert.deepEqual(seen.filter((s) => s.startsWith('Bob message')),
        [1, 2, 3, 4, 5].map((i) => `Bob message ${i} of 5`));
      assert.equal(seen.filter((s) => s.includes("it's my first time here")).length, 1);
      assert.equal(await alice.locator('#timeline li.msg[data-e2e-mark="before-the-drop"]').count(), 1,
        'the welcome said "resumed": the view was kept, not rebuilt');
      assert.equal(seen.filter((s) => s.includes('connection is patchy')).length, 1);
      const bobSaw = await messageTexts(bob);
      assert.equal(bobSaw.filter((s) => s.includes('connection is patchy')).length, 1, 'the retried send was applied once');
      assert.equal(await alice.locator('#outbox li').count(), 0);
      // Nobody saw her leave and come back: the grace period kept her seat.
      assert.equal(await bob.locator('#timeline li.event', { hasText: 'Alice lost their connection' }).count(), 0);
    });

    await t.test('a facilitator pauses the room; Alice sees the pause and her message waits', async () => {
      const invite = await api('POST', `/api/rooms/${room.id}/invites`, { ttl_seconds: 3600 }, true);
      const sam = await openPage('sam');
      try {
        await joinThroughUi(sam, base, room.id, 'Sam', invite.token);
        await sam.locator('.toolbar[aria-label="Facilitator tools"]').waitFor();
        await sam.locator('#alerts').waitFor();
        await alice.locator('#members li.member', { hasText: 'Sam' }).locator('.badge', { hasText: 'facilitator' }).waitFor();

        await sam.click('#pause-button');
        await sam.locator('dialog.dialog').waitFor();
        await sam.click('dialog.dialog button[value="ok"]');
        await alice.locator('#paused-banner').waitFor({ state: 'visible' });
        assert.match(await alice.locator('#paused-banner').innerText(), /paused/i);
        await sam.locator('#pause-button', { hasText: 'Resume room' }).waitFor();

        await say(alice, 'Can I add something?');
        const refused = alice.locator('#outbox li[data-status="failed"][data-code="paused"]');
        await refused.waitFor();
        assert.match(await refused.innerText(), /paused/i);
        assert.equal(await bob.locator('#timeline li.msg', { hasText: 'Can I add something?' }).count(), 0);

        await alice.screenshot({ path: path.join(SHOTS, 'kindred-e2e-alice.png') });
        await sam.screenshot({ path: path.join(SHOTS, 'kindred-e2e-facilitator.png') });
        await alice.setViewportSize({ width: 390, height: 800 });
        await alice.screenshot({ path: path.join(SHOTS, 'kindred-e2e-alice-phone.png') });
        assert.deepEqual(sam.problems, []);
      } finally {
        await sam.context().close();
      }
    });

    assert.deepEqual([...alice.problems, ...bob.problems], [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await alice.context().close();
    await bob.context().close();
  }
});

test('a crisis alert raised while no facilitator is here reaches the first one, once, until Done', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    title: 'Late Night Check-in',
    topic: 'For when it is hard to sleep',
    capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { ttl_seconds: 3600 }, true);

  const willow = await openPage('willow');
  let sam;
  try {
    await joinThroughUi(willow, base, room.id, 'Willow');

    // Nobody facilitates yet: a private message reaches nobody, and she is told so.
    await willow.fill('#whisper-text', 'Is anyone there?');
    await willow.press('#whisper-text', 'Enter');
    await willow.locator('#whisper-error').waitFor({ state: 'visible' });
    assert.match(await willow.locator('#whisper-error').innerText(), /facilitator/i);
    assert.equal(await willow.locator('#whispers li').count(), 0, 'the whisper is not shown as sent');
    assert.equal(await willow.inputValue('#whisper-text'), 'Is anyone there?', 'her words are kept to send later');

    await say(willow, 'I want to kill myself');
    await willow.locator('#crisis-card').waitFor();
    await willow.locator('#timeline li.msg.mine', { hasText: 'I want to kill myself' }).waitFor();

    sam = await openPage('sam');
    await joinThroughUi(sam, base, room.id, 'Sam', invite.token);
    const crisis = sam.locator('#alerts li.alert[data-kind="crisis"]');
    await crisis.waitFor();
    assert.match(await crisis.innerText(), /Willow/);

    // A whisper from Willow now comes after any alert the server had to give Sam.
    await willow.fill('#whisper-text', 'Thank you for being here.');
    await willow.press('#whisper-text', 'Enter');
    await sam.locator('#whispers li', { hasText: 'Thank you for being here.' }).waitFor();
    await willow.locator('#whisper-error').waitFor({ state: 'hidden' });
    assert.equal(await crisis.count(), 1, 'the crisis alert is shown once');

    const done = crisis.getByRole('button', { name: /^Done/ });
    assert.equal((await done.innerText()).trim(), 'Done');
    assert.match(await done.getAttribute('aria-label'), /^Done/);
    await done.click();
    await crisis.waitFor({ state: 'detached' });
    // `ack_warning` has no answer; a round trip that follows it proves it arrived.
    await sam.fill('#whisper-text', 'I saw your message, Willow. I am here.');
    await sam.press('#whisper-text', 'Enter');
    await sam.locator('#whispers li.mine', { hasText: 'I am here.' }).waitFor();

    await sam.reload();
    await sam.locator('#conn-status[data-state="live"]').waitFor();
    await sam.locator('#alerts').waitFor();
    // Any open alert would come before this whisper.
    await willow.fill('#whisper-text', 'I will stay a while.');
    await willow.press('#whisper-text', 'Enter');
    await sam.locator('#whispers li', { hasText: 'I will stay a while.' }).waitFor();
    assert.equal(await sam.locator('#alerts li.alert').count(), 0, 'the handled alert is not given again');
    assert.match(await sam.locator('#alerts').innerText(), /Nothing needs your attention/);

    assert.deepEqual([...willow.problems, ...sam.problems], [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await sam?.context().close();
    await willow.context().close();
  }
});
