// Browser checks of access: axe-core (the npm package, injected into the page) on
// the directory, the join form and the room as a participant (with the crisis card)
// and as a facilitator (with an open alert, and with a dialog over it), on a
// 360 × 740 phone and a 1280 × 800 screen, light and dark, with no violation of any
// impact (what axe cannot decide alone is printed for a person to review), and the
// same on every other view: the waiting room from both sides, each moderation dialog and what the
// member reads of it, the paused and held banners, the pages where a stay cannot
// begin or ends, too many tabs, and "Need help now" from the directory;
// the keyboard path (the skip link goes to the message box, one Tab stop per
// message, arrows within it); what a screen reader hears during a resume (one
// summary, not every message); and the facilitator's panel on a phone (the tools
// in a menu, the alerts with their count on a button of their own, crisis alerts
// first, the tab's title, never scrolled away by private messages, and "handled
// by" shared between facilitators).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  useKindred, api, openPage, watch, joinThroughUi, joinAt, say, assertAccessible,
  base, proxy, serverLog, SHOTS, PHONE, DESKTOP, WAIT,
} from './harness.js';

useKindred();

/** The two screens every view is checked on: a phone held upright, and a laptop. */
const PHONE_SCREEN = { width: 360, height: 740 };
const WIDE_SCREEN = { width: 1280, height: 800 };

/** Each width and colour scheme a view is checked in: a phone and a wide screen, light and dark. */
const LOOKS = ['light', 'dark'].flatMap((colorScheme) => [['phone', PHONE_SCREEN], ['desktop', WIDE_SCREEN]]
  .map(([label, viewport]) => ({ label, viewport, colorScheme, name: `${label}, ${colorScheme}` })));

test('axe-core finds nothing on the directory, the join form and the room, in either role, width or colour scheme', { timeout: 240_000 }, async (t) => {
  let n = 0;
  for (const { label, viewport, colorScheme } of LOOKS) {
    await t.test(`${label}, ${colorScheme}`, async () => {
      n += 1;
      const room = await api('POST', '/api/rooms', {
        open: true, facilitated: false, title: `Accessible Circle ${n}`, topic: 'Everyone welcome',
        description: 'A calm group for checking that everyone can take part.', capacity: 10,
      }, true);
      const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
      const sam = await openPage(`sam ${n}`, { viewport, colorScheme, address: `198.18.0.${n * 2}` });
      const ada = await openPage(`ada ${n}`, { viewport, colorScheme, address: `198.18.0.${n * 2 + 1}` });
      try {
        await ada.goto(`${base}/`);
        await ada.locator('#room-list').waitFor();
        await assertAccessible(ada, `directory, ${label}, ${colorScheme}`);
        await ada.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
        await ada.locator('#guidelines').waitFor();
        await assertAccessible(ada, `join form, ${label}, ${colorScheme}`);

        await joinAt(sam, new URL(invite.url, base).href, `Sam${n}`);
        await joinThroughUi(ada, base, room.id, `Ada${n}`);
        await say(sam, 'Welcome, everyone. Take your time.');
        await say(ada, 'Thank you. It is my first time.');
        await say(ada, 'I want to kill myself');
        await ada.locator('#crisis-card').waitFor();
        await sam.locator('#alerts li.alert[data-kind="crisis"]').waitFor({ state: 'attached' });
        await ada.locator('#timeline li.msg', { hasText: 'Take your time' }).waitFor();
        // A message for each kind of line: someone else's, one's own, the facilitator's.
        await assertAccessible(ada, `room as a participant, ${label}, ${colorScheme}`);
        await ada.click('#crisis-seen-button');
        await sam.locator('#timeline li.msg', { hasText: 'my first time' }).waitFor();
        await assertAccessible(sam, `room as a facilitator, ${label}, ${colorScheme}`);
        // A dialog over the room while the alert is still open.
        if (onPhone(sam)) await sam.click('#tools-button');
        await sam.locator('#facilitator-tools').getByRole('button', { name: 'Announce' }).click();
        await checkDialog(sam, 'Pin an announcement', `a dialog over an open alert, ${label}, ${colorScheme}`, 'Cancel');
        if (onPhone(sam)) await sam.click('#tools-button');
        if (label === 'phone') {
          // The sheets and the tools menu, open.
          await sam.click('#alerts-button');
          await assertAccessible(sam, `facilitator's alerts sheet, ${colorScheme}`);
          await sam.click('#alerts-button');
          await sam.click('#tools-button');
          await assertAccessible(sam, `facilitator's tools, ${colorScheme}`);
          await ada.click('#private-button');
          await assertAccessible(ada, `participant's private sheet, ${colorScheme}`);
        }
        if (colorScheme === 'light') {
          await ada.screenshot({ path: path.join(SHOTS, `kindred-e2e-participant-${label}.png`) });
          await sam.screenshot({ path: path.join(SHOTS, `kindred-e2e-facilitator-${label}.png`) });
        }
        assert.deepEqual([...sam.problems, ...ada.problems], []);
      } catch (e) {
        e.message += `\n--- kindred log ---\n${serverLog.slice(-2000)}`;
        throw e;
      } finally {
        await sam.context().close();
        await ada.context().close();
      }
    });
  }
});

const onPhone = (page) => page.viewportSize().width <= 800;

/** On a phone the side panels are a sheet: open it at one view (a wide screen shows them anyway). */
async function openSheet(page, view) {
  if (!onPhone(page)) return;
  if (await page.locator(`#sidebar.open[data-view="${view}"]`).count()) return;
  await page.click(`#${view}-button`);
  await page.locator(`#sidebar.open[data-view="${view}"]`).waitFor();
}

/** Put the sheet away again, so nothing of it lies over the room. */
async function closeSheet(page) {
  if (!onPhone(page) || !(await page.locator('#sidebar.open').count())) return;
  await page.locator('#sidebar .sheet-close').click();
  await page.locator('#sidebar.open').waitFor({ state: 'detached' });
}

/** A facilitator's tool: on a phone, from the menu under "Tools" (left open). */
async function tool(page, id) {
  if (onPhone(page) && !(await page.locator('#facilitator-tools.open').count())) await page.click('#tools-button');
  await page.click(`#${id}`);
}

/** An item of the member menu, from the list of who is here. */
async function fromMemberMenu(page, name, item) {
  await openSheet(page, 'people');
  const row = page.locator('#members li.member', { hasText: name });
  await row.locator('.menu-button').click();
  await row.getByRole('menuitem', { name: item }).click();
}

/** The skip link, followed from the keyboard, moves the focus on to something shown. */
async function skipLinkLeadsSomewhere(page, where) {
  await page.locator('.skip-link').focus();
  await page.keyboard.press('Enter');
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    const moved = el !== document.body && !el.classList.contains('skip-link');
    return { id: el.id, tag: el.tagName, shown: moved && el.checkVisibility() };
  });
  assert.ok(focused.shown, `${where}: the skip link led to ${JSON.stringify(focused)}`);
}

/** The open dialog, checked, then answered with the button named `answer`. */
async function checkDialog(page, title, where, answer) {
  const dialog = page.locator('dialog[open]', { hasText: title });
  await dialog.waitFor();
  await assertAccessible(page, where);
  await dialog.getByRole('button', { name: answer, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

test('axe-core finds nothing on the waiting room, the moderation dialogs and what a member reads of them', { timeout: 240_000 }, async (t) => {
  let n = 0;
  for (const look of LOOKS) {
    await t.test(look.name, async () => {
      n += 1;
      const { viewport, colorScheme, name } = look;
      const room = await api('POST', '/api/rooms', {
        open: true, waiting_room: true, title: `Gentle Circle ${n}`, topic: 'Everyone welcome',
        description: 'A calm group for checking that everyone can take part.', capacity: 10,
      }, true);
      const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
      const sam = await openPage(`sam ${n}`, { viewport, colorScheme, address: `198.18.4.${n * 2}` });
      const ada = await openPage(`ada ${n}`, { viewport, colorScheme, address: `198.18.4.${n * 2 + 1}` });
      try {
        await joinAt(sam, new URL(invite.url, base).href, `Sam${n}`);

        // The waiting room, from both sides.
        await ada.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
        await ada.locator('#guidelines').waitFor();
        await ada.check('#accept');
        await ada.fill('#pseudonym', `Ada${n}`);
        await ada.click('#join-button');
        await ada.locator('#waiting-screen').waitFor({ state: 'visible' });
        await assertAccessible(ada, `waiting screen, ${name}`);
        await skipLinkLeadsSomewhere(ada, `waiting screen, ${name}`);
        await ada.click('#waiting-leave-button');
        await checkDialog(ada, 'Leave the waiting room?', `leave-the-waiting-room dialog, ${name}`, 'Keep waiting');

        await openSheet(sam, 'alerts');
        const waiting = sam.locator('#waiting-list li.waiting-member', { hasText: `Ada${n}` });
        await waiting.waitFor({ state: 'visible' });
        await sam.locator('#alerts li.alert[data-kind="knock"]').waitFor({ state: 'visible' });
        await assertAccessible(sam, `facilitators' waiting list, ${name}`);
        await waiting.getByRole('button', { name: `Turn away Ada${n}` }).click();
        await checkDialog(sam, `Turn Ada${n} away?`, `turn-away dialog, ${name}`, 'Cancel');
        await waiting.getByRole('button', { name: `Admit Ada${n}` }).click();
        await ada.locator('#composer').waitFor({ state: 'visible' });
        await closeSheet(sam);

        // A mute: the dialog, then what the member alone reads.
        await fromMemberMenu(sam, `Ada${n}`, 'Mute…');
        await sam.locator('#mute-dialog').waitFor();
        await sam.fill('#mute-reason', "Let's take a breath; we'll come back to you.");
        await assertAccessible(sam, `mute dialog, ${name}`);
        await sam.click('#mute-confirm');
        await ada.locator('#mute-notice').waitFor();
        await assertAccessible(ada, `mute notice, ${name}`);
        await fromMemberMenu(sam, `Ada${n}`, 'Unmute');
        await ada.locator('#mute-notice').waitFor({ state: 'detached' });

        // A note: the dialog, then the card.
        await fromMemberMenu(sam, `Ada${n}`, 'Warn…');
        await sam.locator('dialog[open]', { hasText: 'a private note' }).waitFor();
        await sam.fill('#dialog-input', 'Please speak from your own experience.');
        await checkDialog(sam, 'a private note', `warn dialog, ${name}`, 'Send the note');
        await closeSheet(sam);
        await ada.locator('#warning-card').waitFor();
        await assertAccessible(ada, `warning card, ${name}`);
        await ada.locator('#warning-card').getByRole('button', { name: 'I understand' }).click();
        await ada.locator('#composer-input:not([aria-disabled="true"])').waitFor();

        // A report.
        await say(sam, 'Welcome, everyone. Take your time.');
        const message = ada.locator('#timeline li.msg', { hasText: 'Take your time' });
        await message.getByRole('button', { name: 'Report' }).click();
        await checkDialog(ada, 'Report this message', `report dialog, ${name}`, 'Cancel');

        // A pause: the dialog, then the banner.
        await tool(sam, 'pause-button');
        await checkDialog(sam, 'Pause the room', `pause dialog, ${name}`, 'Pause');
        await ada.locator('#paused-banner').waitFor({ state: 'visible' });
        await assertAccessible(ada, `paused banner, ${name}`);
        await tool(sam, 'pause-button');
        await ada.locator('#paused-banner').waitFor({ state: 'hidden' });

        // The facilitator leaves: the dialog, their page after, and the held room.
        await sam.click('#leave-button');
        await checkDialog(sam, 'Leave the room?', `leave dialog, ${name}`, 'Leave');
        await sam.locator('.banner.ended', { hasText: "You've left the room." }).waitFor();
        await assertAccessible(sam, `the page after leaving, ${name}`);
        await skipLinkLeadsSomewhere(sam, `the page after leaving, ${name}`);
        await ada.locator('#held-banner').waitFor({ state: 'visible' });
        await assertAccessible(ada, `held banner, ${name}`);
        assert.deepEqual([...sam.problems, ...ada.problems], []);
      } catch (e) {
        e.message += `\n--- kindred log ---\n${serverLog.slice(-2000)}`;
        throw e;
      } finally {
        await sam.context().close();
        await ada.context().close();
      }
    });
  }
});

test('axe-core finds nothing on the pages where a stay cannot begin or ends, nor on Need help now', { timeout: 240_000 }, async (t) => {
  let n = 0;
  for (const look of LOOKS) {
    await t.test(look.name, async () => {
      n += 1;
      const { viewport, colorScheme, name } = look;
      // No `open`: between sessions until the facilitator opens one; it meets weekly,
      // so its pages say when, with a calendar link.
      const weekday = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][(new Date().getUTCDay() + 2) % 7];
      const room = await api('POST', '/api/rooms', {
        facilitated: false, title: `Evening Circle ${n}`, topic: 'Everyone welcome',
        schedule: { weekday, start: '19:00', minutes: 90, timezone: 'Europe/London' },
        description: 'A calm group for checking that everyone can take part.', capacity: 10,
      }, true);
      const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
      const sam = await openPage(`sam ${n}`, { viewport, colorScheme, address: `198.18.5.${n * 3}` });
      const ada = await openPage(`ada ${n}`, { viewport, colorScheme, address: `198.18.5.${n * 3 + 1}` });
      const bo = await openPage(`bo ${n}`, { viewport, colorScheme, address: `198.18.5.${n * 3 + 2}` });
      const pages = [sam, ada, bo];
      try {
        // "Need help now", from the directory.
        await ada.goto(`${base}/`);
        await ada.locator('#room-list li', { hasText: `Evening Circle ${n}` }).locator('.next-session-line').waitFor();
        await ada.click('#need-help-link');
        await ada.locator('#crisis-card a[href^="tel:"]').first().waitFor();
        // Opened by hand, by someone who has written nothing: nobody is thanked for words.
        assert.doesNotMatch(await ada.locator('#crisis-card').innerText(), /Thank you for|trusting us|It sounds like/);
        await assertAccessible(ada, `Need help now on the directory, ${name}`);

        // Between sessions: the participant's page, and the facilitator's banner.
        await ada.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
        await ada.locator('#closed-note .next-session').waitFor();
        await assertAccessible(ada, `a group between sessions, ${name}`);
        await joinAt(sam, new URL(invite.url, base).href, `Sam${n}`);
        const banner = sam.locator('#session-banner');
        await banner.waitFor({ state: 'visible' });
        await assertAccessible(sam, `the facilitator before the session, ${name}`);
        await banner.getByRole('button', { name: 'Open the session' }).click();
        await banner.waitFor({ state: 'hidden' });

        // Too many tabs: Ada's page and four more connections of hers, then a copy of the tab.
        await joinThroughUi(ada, base, room.id, `Ada${n}`);
        await joinThroughUi(bo, base, room.id, `Bo${n}`);
        await ada.evaluate(([roomId, wait]) => {
          const { token } = JSON.parse(sessionStorage.getItem(`kindred:${roomId}`));
          return Promise.all([1, 2, 3, 4].map(() => new Promise((resolve, reject) => {
            const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws`);
            ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token }));
            ws.onmessage = (e) => { if (JSON.parse(e.data).type === 'welcome') resolve(); };
            ws.onclose = (e) => reject(new Error(`closed ${e.code}`));
            setTimeout(() => reject(new Error('not welcomed')), wait);
          })));
        }, [room.id, WAIT]);
        const key = `kindred:${room.id}`;
        const session = await ada.evaluate((k) => sessionStorage.getItem(k), key);
        const sixth = watch(await ada.context().newPage(), `ada ${n} sixth tab`);
        pages.push(sixth);
        await sixth.addInitScript(([k, v]) => sessionStorage.setItem(k, v), [key, session]);
        await sixth.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
        await sixth.locator('#blocked-banner').waitFor({ state: 'visible' });
        await assertAccessible(sixth, `too many tabs, ${name}`);

        // A ban: the dialog, the page that says so, and the join form that says it again.
        await fromMemberMenu(sam, `Ada${n}`, 'Ban from the group…');
        await checkDialog(sam, `Ban Ada${n} from the group?`, `ban dialog, ${name}`, 'Ban');
        await closeSheet(sam);
        await ada.locator('.banner.ended', { hasText: "so you can't rejoin it" }).waitFor({ state: 'visible' });
        await assertAccessible(ada, `banned, ${name}`);
        const again = watch(await ada.context().newPage(), `ada ${n} again`);
        pages.push(again);
        await again.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
        await again.locator('#guidelines').waitFor();
        await again.check('#accept');
        await again.fill('#pseudonym', `Ada again ${n}`);
        await again.click('#join-button');
        await again.locator('#join-error', { hasText: 'asked you to leave this group' }).waitFor();
        await assertAccessible(again, `banned, on the join form, ${name}`);

        // The session closes: the dialog, and the page a participant is left with.
        await tool(sam, 'close-session-button');
        await checkDialog(sam, 'Close the session for everyone?', `close-session dialog, ${name}`, 'Close session');
        await bo.locator('.banner.ended .next-session').waitFor({ state: 'visible' });
        await assertAccessible(bo, `the session has ended, ${name}`);
        assert.deepEqual(pages.flatMap((p) => p.problems), []);
      } catch (e) {
        e.message += `\n--- kindred log ---\n${serverLog.slice(-2000)}`;
        throw e;
      } finally {
        for (const p of [sam, ada, bo]) await p.context().close();
      }
    });
  }
});

test('the keyboard path: the skip link reaches the message box, one Tab stop per message, arrows inside it', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', { open: true, facilitated: false, title: 'Keyboard Circle', capacity: 10 }, true);
  const kim = await openPage('kim', { address: '198.18.1.1' });
  const lee = await openPage('lee', { address: '198.18.1.2' });
  try {
    await joinThroughUi(kim, base, room.id, 'Kim');
    await joinThroughUi(lee, base, room.id, 'Lee');
    for (let i = 1; i <= 4; i += 1) await say(lee, `Lee's message ${i}`);
    await kim.locator('#timeline li.msg', { hasText: "Lee's message 4" }).waitFor();

    // The skip link comes first on the page, and it leads to the message box.
    assert.equal(await kim.evaluate(() => document.querySelector('a[href], button, textarea, input, select').className), 'skip-link');
    await kim.locator('.skip-link').focus();
    assert.match(await kim.evaluate(() => document.activeElement.textContent), /message box/);
    await kim.keyboard.press('Enter');
    assert.equal(await kim.evaluate(() => document.activeElement.id), 'composer-input');

    // From the conversation's scroll area, Tab visits each message once.
    await kim.locator('.scroller').focus();
    const stops = [];
    for (let i = 0; i < 12; i += 1) {
      await kim.keyboard.press('Tab');
      const where = await kim.evaluate(() => {
        const el = document.activeElement;
        const msg = el.closest('#timeline li.msg');
        return msg ? msg.dataset.seq : el.id || el.tagName;
      });
      if (where === 'composer-input') break;
      stops.push(where);
    }
    assert.equal(stops.length, 4, `one stop per message, then the message box: ${stops}`);
    assert.equal(new Set(stops).size, 4);
    // Within a message, the arrows move between its actions.
    await kim.locator('#timeline li.msg').nth(0).locator('.react-button').focus();
    await kim.keyboard.press('ArrowRight');
    assert.equal((await kim.evaluate(() => document.activeElement.textContent)).trim(), 'Report');
    assert.deepEqual([...kim.problems, ...lee.problems], []);
  } finally {
    await kim.context().close();
    await lee.context().close();
  }
});

test("a member's menu by keyboard: arrows, Home and End move, Tab leaves it closed", { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', { open: true, title: 'Menu Circle', capacity: 10 }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam menu', { address: '198.18.1.3' });
  const ivy = await openPage('ivy menu', { address: '198.18.1.4' });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(ivy, base, room.id, 'Ivy');
    const row = sam.locator('#members li.member', { hasText: 'Ivy' });
    await row.waitFor();
    const button = row.locator('.menu-button');
    await button.focus();
    await sam.keyboard.press('Enter');
    const focused = () => sam.evaluate(() => document.activeElement.textContent.trim());
    assert.equal(await focused(), 'Mute…', 'the first item has focus');
    await sam.keyboard.press('End');
    assert.equal(await focused(), 'Ban from the group…');
    await sam.keyboard.press('Home');
    assert.equal(await focused(), 'Mute…');
    await sam.keyboard.press('ArrowUp');
    assert.equal(await focused(), 'Ban from the group…', 'the arrows wrap');
    await sam.keyboard.press('Tab');
    assert.equal(await button.getAttribute('aria-expanded'), 'false');
    assert.ok(await row.locator('.menu').isHidden(), 'Tab leaves the menu closed');
    const after = await sam.evaluate(() => !!document.activeElement.closest('.menu'));
    assert.equal(after, false, 'focus is not left in a hidden menu');
    assert.deepEqual([...sam.problems, ...ivy.problems], []);
  } finally {
    await sam.context().close();
    await ivy.context().close();
  }
});

test('a resume that brings many messages is summed up for a screen reader, not read out one by one', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', { open: true, facilitated: false, title: 'Listening Circle', capacity: 10 }, true);
  const una = await openPage('una', { address: '198.18.2.1' });
  const vic = await openPage('vic', { address: '198.18.2.2' });
  try {
    await joinThroughUi(una, proxy.url, room.id, 'Una');
    await joinThroughUi(vic, base, room.id, 'Vic');
    await say(vic, 'Hello Una.');
    await una.locator('#timeline li.msg', { hasText: 'Hello Una.' }).waitFor();
    // Record every item the announcer is given from now on.
    await una.evaluate(() => {
      window.heard = [];
      const watchRegion = (id) => new MutationObserver((records) => {
        for (const r of records) for (const node of r.addedNodes) window.heard.push(`${id}: ${node.textContent}`);
      }).observe(document.getElementById(id), { childList: true });
      watchRegion('announcer');
      watchRegion('announcer-urgent');
    });
    proxy.cut();
    await una.locator('#conn-status[data-state="waiting"]').waitFor();
    // Eight: with the greeting before and the welcome after, ten, as many as a member
    // may send at once before the rate limit (PROTOCOL.md §17).
    for (let i = 1; i <= 8; i += 1) {
      await say(vic, `Vic while you were away ${i}`);
      await vic.locator('#timeline li.msg', { hasText: `away ${i}` }).waitFor();
    }
    proxy.restore();
    await una.locator('#timeline li.msg', { hasText: 'away 8' }).waitFor({ timeout: 25_000 });
    // A message after the resume is said as it comes, and after anything the resume
    // still had to say (a burst is summed up once it has passed, so a burst still
    // open would take this message into its count).
    await say(vic, 'Welcome back, Una. How was your day?');
    await una.waitForFunction(() => window.heard.some((item) => item !== 'announcer: 8 new messages'
      && /Welcome back, Una|new message/.test(item)));
    const heard = await una.evaluate(() => window.heard);
    assert.deepEqual(heard, [
      'announcer: Connection lost. Trying to reconnect; what you write waits until you are back.',
      'announcer: Connected again.',
      'announcer: 8 new messages',
      'announcer: Vic: Welcome back, Una. How was your day?',
    ], `the drop and the return once each, one summary, then the next message: ${JSON.stringify(heard)}`);
    // The transcript is not a live region; focus stayed where it was.
    assert.equal(await una.locator('#timeline').getAttribute('aria-live'), null);
    assert.equal(await una.locator('[role="log"]').count(), 0);
    assert.equal(await una.evaluate(() => document.activeElement.id), 'composer-input');
    assert.deepEqual([...una.problems, ...vic.problems], []);
  } finally {
    await una.context().close();
    await vic.context().close();
  }
});

test("the facilitator's panel on a phone: tools in a menu, alerts first with a count, never scrolled away, handled by either", { timeout: 150_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', { open: true, facilitated: false, title: 'Phone Circle', capacity: 10 }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { uses: 2 }, true);
  const sam = await openPage('sam', { viewport: PHONE, address: '198.18.3.1' });
  const kai = await openPage('kai', { viewport: DESKTOP, address: '198.18.3.2' });
  const ash = await openPage('ash', { address: '198.18.3.3' });
  const bea = await openPage('bea', { address: '198.18.3.4' });
  const pages = [sam, kai, ash, bea];
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinAt(kai, new URL(invite.url, base).href, 'Kai');
    await joinThroughUi(ash, base, room.id, 'Ash');
    await joinThroughUi(bea, base, room.id, 'Bea');

    await t.test('on a phone the toolbar is a menu under "Tools"', async () => {
      const toolbar = sam.locator('#facilitator-tools');
      assert.ok(await toolbar.isHidden(), 'folded away');
      await sam.click('#tools-button');
      await toolbar.waitFor({ state: 'visible' });
      assert.equal(await sam.locator('#tools-button').getAttribute('aria-expanded'), 'true');
      await sam.click('#tools-button');
      await toolbar.waitFor({ state: 'hidden' });
      // On a wide screen it is simply there.
      await kai.locator('#facilitator-tools').waitFor({ state: 'visible' });
      assert.ok(await kai.locator('#tools-button').isHidden());
    });

    await t.test('a report, then a crisis: the count on the button and the title, crisis first', async () => {
      await say(bea, 'Anxiety is not a real illness.');
      const message = ash.locator('#timeline li.msg', { hasText: 'not a real illness' });
      await message.waitFor();
      await message.getByRole('button', { name: 'Report' }).click();
      await ash.click('dialog.dialog button[value="ok"]');
      await sam.locator('#alerts-button .count-badge', { hasText: '1' }).waitFor();
      await say(ash, 'I want to kill myself');
      await sam.locator('#alerts-button .count-badge.urgent', { hasText: '2' }).waitFor();
      assert.match(await sam.title(), /^\(2 alerts\) Phone Circle/);
      await sam.click('#alerts-button');
      const first = sam.locator('#alerts > li').first();
      assert.equal(await first.getAttribute('data-kind'), 'crisis', 'crisis alerts first');
      await first.getByRole('button', { name: 'Go to message' }).waitFor({ state: 'visible' });
      await sam.screenshot({ path: path.join(SHOTS, 'kindred-e2e-facilitator-alerts-phone.png') });
      await sam.click('#alerts-button');
    });

    await t.test('private messages arriving never push the alerts out of sight', async () => {
      const alerts = kai.locator('#alerts-panel');
      const before = await alerts.boundingBox();
      for (let i = 1; i <= 6; i += 1) {
        await ash.fill('#whisper-text', `A private word, number ${i}, with a few more words to take up room.`);
        await ash.press('#whisper-text', 'Enter');
        await kai.locator('#whispers li', { hasText: `number ${i},` }).waitFor();
      }
      const after = await alerts.boundingBox();
      assert.deepEqual(after, before, 'the alerts panel did not move, nor shrink');
      const crisis = await kai.locator('#alerts li.alert[data-kind="crisis"]').boundingBox();
      assert.ok(crisis.y >= 0 && crisis.y < DESKTOP.height, `the crisis alert is still in sight: ${JSON.stringify(crisis)}`);
    });

    await t.test('when one facilitator handles the crisis alert, the other reads who did', async () => {
      const crisis = kai.locator('#alerts li.alert[data-kind="crisis"]');
      await crisis.getByRole('button', { name: /^Done/ }).click();
      await crisis.waitFor({ state: 'detached' });
      await sam.click('#alerts-button');
      await sam.locator('#alerts li.alert-handled', { hasText: 'The crisis alert about Ash was handled by Kai.' }).waitFor();
      await sam.locator('#alerts-button .count-badge', { hasText: '1' }).waitFor();
      assert.match(await sam.title(), /^\(1 alert[,)]/);
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});
