// What a screen reader hears, over a whole session: everything added to the
// announcer's two live regions (web-client/announcer.js), recorded in the page from
// the moment it loads and across reloads (kept in the tab's session storage by the
// test's own observer), and read at the end. Each thing a person should hear is said
// exactly once, nothing they had heard is said again as new after a reload, a
// resume or a return, and the page has no live region but those two.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useKindred, api, openPage, say, proxy, serverLog, PHONE, DESKTOP, HEARD, listen, heard } from './harness.js';

useKindred();

/** Wait until this tab has heard `item` (as `heard` writes it). */
function hears(page, item) {
  return page.waitForFunction(([key, it]) => JSON.parse(sessionStorage.getItem(key) || '[]').includes(it), [HEARD, item]);
}

/** Every live region on the page, by id (or class): only the announcer's two may be there. */
function liveRegions(page) {
  return page.evaluate(() => [...document.querySelectorAll(
    '[aria-live], [role="status"], [role="alert"], [role="log"], [role="marquee"], [role="timer"], output',
  )].map((el) => el.id || el.className));
}

async function onlyTheAnnouncer(page, where) {
  assert.deepEqual(await liveRegions(page), ['announcer', 'announcer-urgent'], `${where}: no live region but the announcer's`);
}

/** Join on the form a tab shows (guidelines accepted first), into the room or its waiting room. */
async function join(page, url, name, { waiting = false } = {}) {
  await page.goto(url);
  await page.locator('#guidelines').waitFor();
  await page.check('#accept');
  await page.fill('#pseudonym', name);
  await page.click('#join-button');
  if (waiting) await page.locator('#waiting-screen').waitFor({ state: 'visible' });
  else await page.locator('#conn-status[data-state="live"]').waitFor();
}

/** A facilitator back through their own link in the browser that used it: their seat, no form. */
async function comeBack(page, link) {
  await page.goto(link);
  await page.locator('#conn-status[data-state="live"]').waitFor();
}

/** Reload a tab and wait until it is back in the room. */
async function reload(page) {
  await page.reload();
  await page.locator('#conn-status[data-state="live"]').waitFor();
}

/** The facilitator leaves the room by its Leave button. */
async function leave(page) {
  await page.click('#leave-button');
  await page.locator('dialog.dialog', { hasText: 'Leave the room?' }).getByRole('button', { name: 'Leave' }).click();
  await page.locator('.banner.ended', { hasText: "You've left the room." }).waitFor();
}

/** Items heard more than once. */
function repeated(items) {
  return items.filter((item, i) => items.indexOf(item) !== i);
}

const LOST = 'polite: Connection lost. Trying to reconnect; what you write waits until you are back.';
const BACK = 'polite: Connected again.';
const OFFLINE = 'urgent: You are offline right now; please try again in a moment.';
const CLOSED = 'urgent: This session has ended. Thank you all for tonight. Take good care.';

test('a whole session as a screen reader hears it: each thing once, for a participant and a facilitator, and nothing old as new', { timeout: 240_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true, waiting_room: true, title: 'Wednesday Circle', topic: 'Living with anxiety', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { uses: 2 }, true);
  const link = new URL(invite.url, proxy.url).href;
  const roomUrl = `${proxy.url}/?room=${encodeURIComponent(room.id)}`;
  // Both through the relay, so their network can drop.
  const sam = await openPage('sam', { viewport: DESKTOP, address: '198.18.9.1' });
  const maya = await openPage('maya', { viewport: PHONE, address: '198.18.9.2' });
  const pages = [sam, maya];
  try {
    await listen(sam);
    await listen(maya);

    await t.test('join, the waiting room and admission', async () => {
      await join(sam, link, 'Sam');
      await onlyTheAnnouncer(sam, "the facilitator's room");
      // Maya presses Join before ticking the box: the form's error is said.
      await maya.goto(roomUrl);
      await maya.locator('#guidelines').waitFor();
      await maya.fill('#pseudonym', 'Maya');
      await maya.click('#join-button');
      await hears(maya, 'urgent: Please read the guidelines and tick the box to accept them.');
      await join(maya, roomUrl, 'Maya', { waiting: true });
      await onlyTheAnnouncer(maya, 'the waiting screen');
      await hears(sam, 'polite: Maya is in the waiting room.');
      await sam.getByRole('button', { name: 'Admit Maya' }).click();
      await hears(maya, 'polite: You are in. Welcome to the group.');
      await onlyTheAnnouncer(maya, "the participant's room");
    });

    await t.test('messages, and a crisis alert for the facilitator', async () => {
      await say(sam, 'Welcome, Maya. Glad you are here.');
      await hears(maya, 'polite: Sam: Welcome, Maya. Glad you are here.');
      await say(maya, 'Thank you. I am a bit nervous.');
      await hears(sam, 'polite: Maya: Thank you. I am a bit nervous.');
      await say(maya, 'I want to end it all');
      await maya.locator('#crisis-card').waitFor();
      await maya.click('#crisis-seen-button');
      await hears(sam, 'urgent: Crisis alert: Maya may need support.');
      await onlyTheAnnouncer(sam, 'the facilitator with a crisis alert');
    });

    await t.test('a reload on each side says nothing already heard', async () => {
      await reload(maya);
      await say(sam, 'Take your time, Maya.');
      await hears(maya, 'polite: Sam: Take your time, Maya.');
      // The crisis alert is given again after the welcome: shown, not said again.
      await reload(sam);
      await sam.locator('#alerts li.alert[data-kind="crisis"]').waitFor();
      await say(maya, 'Thank you, Sam.');
      await hears(sam, 'polite: Maya: Thank you, Sam.');
    });

    await t.test('the network drops: said once, an error notice said, and the return said', async () => {
      proxy.cut();
      try {
        await hears(maya, LOST);
        await hears(sam, LOST);
        await maya.click('#hand-button');
        await maya.locator('#notices .notice', { hasText: 'You are offline right now' }).waitFor();
        await hears(maya, OFFLINE);
        await sam.click('#lock-button');
        await sam.locator('#notices .notice', { hasText: 'You are offline right now' }).waitFor();
        await hears(sam, OFFLINE);
      } finally {
        proxy.restore();
      }
      await hears(maya, BACK);
      await hears(sam, BACK);
      await maya.locator('#conn-status[data-state="live"]').waitFor();
      await sam.locator('#conn-status[data-state="live"]').waitFor();
    });

    await t.test('the room held and back, with a kept private message for the returning facilitator', async () => {
      await leave(sam);
      await hears(maya, 'polite: No facilitator is here right now. Posting is paused until one is back.');
      await maya.locator('#held-banner').getByRole('button', { name: 'Write to the facilitators' }).click();
      await maya.waitForFunction(() => document.activeElement && document.activeElement.id === 'whisper-text');
      await maya.keyboard.type('Sam, are you coming back? I am feeling a bit wobbly.');
      await maya.keyboard.press('Enter');
      await maya.locator('#whispers li.whisper.kept', { hasText: 'a bit wobbly' }).waitFor();
      if (await maya.locator('#sidebar.open').count()) await maya.locator('#sidebar .sheet-close').click();

      await comeBack(sam, link);
      await hears(sam, 'urgent: Sent while no facilitator was here: private message from Maya: Sam, are you coming back? I am feeling a bit wobbly.');
      await sam.waitForFunction(() => /^\(1 sent while away, 1 alert\) /.test(document.title));
      await hears(maya, 'polite: A facilitator is back. You can share again.');
    });

    await t.test('the close, said once to each, and what became of the open alert', async () => {
      await sam.click('#close-session-button');
      const dialog = sam.locator('dialog.dialog');
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Close anyway' }).click();
      await hears(maya, CLOSED);
      await hears(sam, CLOSED);
      await hears(sam, 'polite: When the session closed, an alert was still open: Maya (crisis). They closed with the session.');
      await hears(sam, "polite: The session's debrief: 0 minutes, 1 member, 5 messages. It is shown below the notice.");
      await onlyTheAnnouncer(maya, "the participant's page after the close");
      await onlyTheAnnouncer(sam, "the facilitator's page after the close");
    });

    await t.test('each heard exactly what was news to them, once, in order', async () => {
      // Read once the last words each should hear are in (the close, and for the
      // facilitator what became of the alert, said after it).
      const mayaHeard = await heard(maya);
      assert.deepEqual(mayaHeard, [
        'urgent: Please read the guidelines and tick the box to accept them.',
        'polite: You are in. Welcome to the group.',
        'polite: Sam: Welcome, Maya. Glad you are here.',
        'polite: Sam: Take your time, Maya.',
        LOST,
        OFFLINE,
        BACK,
        'polite: No facilitator is here right now. Posting is paused until one is back.',
        'polite: A facilitator is back. You can share again.',
        CLOSED,
      ], `Maya heard: ${JSON.stringify(mayaHeard, null, 1)}`);
      const samHeard = await heard(sam);
      assert.deepEqual(samHeard, [
        'polite: Maya is in the waiting room.',
        'polite: Maya: Thank you. I am a bit nervous.',
        'polite: Maya: I want to end it all',
        'urgent: Crisis alert: Maya may need support.',
        'polite: Maya: Thank you, Sam.',
        LOST,
        OFFLINE,
        BACK,
        "polite: You've left the room. Take good care of yourself.",
        'urgent: Sent while no facilitator was here: private message from Maya: Sam, are you coming back? I am feeling a bit wobbly.',
        CLOSED,
        'polite: When the session closed, an alert was still open: Maya (crisis). They closed with the session.',
        "polite: The session's debrief: 0 minutes, 1 member, 5 messages. It is shown below the notice.",
      ], `Sam heard: ${JSON.stringify(samHeard, null, 1)}`);
      for (const [who, items] of [['Maya', mayaHeard], ['Sam', samHeard]]) {
        assert.deepEqual(repeated(items), [], `${who} heard nothing twice`);
        assert.equal(items.filter((i) => /new messages?$/.test(i)).length, 0, `${who} was told of no old message as new`);
        assert.equal(items.filter((i) => /not open yet/.test(i)).length, 0, `${who} never heard the session was not open`);
      }
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    proxy.restore();
    for (const p of pages) await p.context().close();
  }
});

test('a kept private message is counted in the tab title and said to the returning facilitator, once, also after a reload', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', { open: true, title: 'Friday Circle', capacity: 10 }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { uses: 2 }, true);
  const link = new URL(invite.url, proxy.url).href;
  const sam = await openPage('sam kept', { viewport: DESKTOP, address: '198.18.9.11' });
  const pip = await openPage('pip kept', { viewport: DESKTOP, address: '198.18.9.12' });
  const pages = [sam, pip];
  const kept = 'urgent: Sent while no facilitator was here: private message from Pip: Sam, are you coming back? I am feeling a bit wobbly.';
  try {
    await listen(sam);
    await join(sam, link, 'Sam');
    await join(pip, `${proxy.url}/?room=${encodeURIComponent(room.id)}`, 'Pip');
    await sam.locator('#members li.member', { hasText: 'Pip' }).waitFor();
    await leave(sam);
    await pip.locator('#held-banner').getByRole('button', { name: 'Write to the facilitators' }).click();
    await pip.fill('#whisper-text', 'Sam, are you coming back? I am feeling a bit wobbly.');
    await pip.press('#whisper-text', 'Enter');
    await pip.locator('#whispers li.whisper.kept', { hasText: 'a bit wobbly' }).waitFor();

    // Back through the same link: the message first, counted in the title, said.
    await comeBack(sam, link);
    await sam.locator('#whispers-away li.whisper.kept', { hasText: 'a bit wobbly' }).waitFor();
    await sam.waitForFunction(() => document.title.startsWith('(1 sent while away) '));
    await hears(sam, kept);

    // A reload: still counted until marked read, but not said again. A private
    // message written after it is said, so anything the reload would have said
    // came before.
    await reload(sam);
    await sam.locator('#whispers-away li.whisper.kept', { hasText: 'a bit wobbly' }).waitFor();
    await sam.waitForFunction(() => document.title.startsWith('(1 sent while away) '));
    await pip.fill('#whisper-text', 'Thank you for coming back.');
    await pip.press('#whisper-text', 'Enter');
    await hears(sam, 'polite: Private message from Pip: Thank you for coming back.');
    const items = await heard(sam);
    assert.equal(items.filter((i) => i === kept).length, 1, `said once: ${JSON.stringify(items, null, 1)}`);
    assert.deepEqual(repeated(items), [], `nothing said twice: ${JSON.stringify(items, null, 1)}`);

    // Marked read: the count goes from the title.
    await sam.getByRole('button', { name: 'Mark as read' }).click();
    await sam.waitForFunction(() => !document.title.includes('sent while away'));
    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});
