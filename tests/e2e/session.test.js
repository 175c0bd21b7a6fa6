// Browser end-to-end checks of a session's life in the bundled web client, against a
// real `kindred` (harness.js starts it and Debian's Chromium): a scheduled room with a
// waiting room, from the closed door to the next meeting's date; a participant turned
// away, kindly; a report seen with the conversation around it and resolved by a
// second facilitator; the moderation log every facilitator reads.
// A missing binary or browser fails the test: it never skips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  useKindred, api, openPage, joinThroughUi, joinAt, joinOnForm, say, handClock, socketsOpened, assertAccessible,
  base, serverLog, SHOTS, PAST_EVERY_RETRY_MS, joinToWait,
} from './harness.js';

useKindred();

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/**
 * A weekday two days from now: never the day of the run, so the next session is
 * always ahead, whatever the time of day (the schedule's zone is London's).
 */
function dayAfterTomorrow() {
  return WEEKDAYS[(new Date().getUTCDay() + 2) % 7];
}

/** The day and the start time the page itself would write for an instant. */
function localWords(page, ms) {
  return page.evaluate((t) => ({
    weekday: new Intl.DateTimeFormat(undefined, { weekday: 'long' }).format(t),
    time: new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(t),
  }), ms);
}

/** A facilitator sends a member a note from the member menu (the warn flow). */
async function warn(sam, name, reason) {
  const row = sam.locator('#members li.member', { hasText: name });
  await row.locator('.menu-button').click();
  await row.getByRole('menuitem', { name: 'Warn…' }).click();
  const dialog = sam.locator('dialog.dialog', { hasText: `Send ${name} a private note` });
  await dialog.waitFor();
  await sam.fill('#dialog-input', reason);
  await dialog.getByRole('button', { name: 'Send the note' }).click();
}

/** The texts of a facilitator's moderation log, in order. */
function logTexts(page) {
  return page.locator('#mod-log li.log-entry').allInnerTexts();
}

test('a whole session: the waiting room, a note, a held room, and when the group meets next', { timeout: 180_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    title: 'Thursday Evening Circle',
    topic: 'Anxiety & low mood',
    description: 'A peer-led group for anyone living with anxiety or depression.',
    capacity: 10,
    waiting_room: true,
    schedule: { weekday: dayAfterTomorrow(), start: '19:00', minutes: 90, timezone: 'Europe/London' },
  }, true);
  assert.equal(room.open, false, 'the room starts between sessions');
  assert.equal(room.waiting_room, true);
  assert.ok(room.next_session && room.next_session.starts_at > Date.now(), `a next session: ${JSON.stringify(room.next_session)}`);
  // One invite for the facilitator's first arrival and their return.
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { uses: 2 }, true);
  const calendar = `/api/rooms/${room.id}/calendar.ics`;
  const reason = 'Please speak from your own experience rather than telling others what to do.';

  const sam = await openPage('sam', { address: '198.51.100.10' });
  const maya = await openPage('maya', { address: '198.51.100.11' });
  const pages = [sam, maya];
  let lee;
  try {
    await t.test('before the session, the directory and the room page say when the group meets next', async () => {
      const words = await localWords(maya, room.next_session.starts_at);
      await maya.goto(`${base}/`);
      const card = maya.locator('#room-list li', { hasText: 'Thursday Evening Circle' });
      await card.locator('.room-status', { hasText: 'Not meeting right now' }).waitFor();
      const line = card.locator('.next-session-line');
      assert.match(await line.innerText(), /^Meets next: /);
      assert.ok((await line.innerText()).includes(words.weekday), `${await line.innerText()} names ${words.weekday}`);
      assert.equal(await line.getByRole('link', { name: /^Add to calendar: Thursday Evening Circle$/ }).getAttribute('href'), calendar);

      await maya.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
      const note = maya.locator('#closed-note .next-session');
      await note.waitFor();
      const when = await note.locator('.next-when').innerText();
      assert.ok(when.includes(words.weekday) && when.includes(words.time), `"${when}" says ${words.weekday} at ${words.time}`);
      assert.match(await note.innerText(), /The group meets next on .*\.\s+Add to calendar\s+Times are shown in your own time zone\./s);
      const link = note.getByRole('link', { name: /^Add to calendar: Thursday Evening Circle$/ });
      assert.equal(await link.getAttribute('href'), calendar);
      const feed = await fetch(`${base}${calendar}`);
      assert.equal(feed.status, 200);
      assert.match(feed.headers.get('content-type'), /^text\/calendar/);
      assert.match(await feed.text(), /BEGIN:VCALENDAR/);

      // The same from the join answer: a form filled in before the session closed.
      const refused = await fetch(`${base}/api/rooms/${room.id}/join`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Maya', accept_guidelines: true }),
      });
      assert.equal(refused.status, 403);
      const body = await refused.json();
      assert.equal(body.code, 'closed');
      assert.deepEqual(body.next_session, room.next_session, 'the 403 closed says when the group meets next');
    });

    await t.test('the facilitator comes in with the invite and opens the session; the waiting room is on', async () => {
      await joinAt(sam, new URL(invite.url, base).href, 'Sam');
      const banner = sam.locator('#session-banner');
      await banner.waitFor({ state: 'visible' });
      await banner.getByRole('button', { name: 'Open the session' }).click();
      await banner.waitFor({ state: 'hidden' });
      await sam.locator('#waiting-room-button[aria-pressed="true"]').waitFor();
      await sam.locator('#waiting-panel').waitFor({ state: 'visible' });
      assert.match(await sam.locator('#waiting-list').innerText(), /Nobody is waiting right now\./);
    });

    await t.test('the participant joins and waits on a calm screen', async () => {
      await maya.reload();
      await maya.locator('#room-status', { hasText: 'Meeting now' }).waitFor();
      assert.match(await maya.locator('#waiting-room-note').innerText(), /This group has a waiting room: once you join, a facilitator will let you in\./);
      await joinToWait(maya, maya.url(), 'Maya');
      const screen = maya.locator('#waiting-screen');
      assert.equal((await screen.locator('#waiting-title').innerText()).trim(), 'Thursday Evening Circle');
      assert.match(await screen.innerText(), /A peer-led group for anyone living with anxiety or depression\./);
      assert.match(await maya.locator('#waiting-guidelines').innerText(), /stays here/);
      assert.match(await maya.locator('#waiting-status').innerText(), /A facilitator will let you in shortly\./);
      await screen.getByRole('button', { name: 'Leave' }).waitFor();
      assert.ok(!(await maya.locator('#composer').isVisible()), 'no room, no composer while waiting');
      await maya.waitForFunction(() => document.activeElement && document.activeElement.id === 'waiting-title');
      await maya.setViewportSize({ width: 360, height: 780 });
      await maya.screenshot({ path: path.join(SHOTS, 'kindred-e2e-waiting.png'), fullPage: true });
      await maya.setViewportSize({ width: 1200, height: 860 });
    });

    await t.test('the facilitator sees the knock and lets her in', async () => {
      const knock = sam.locator('#alerts li.alert[data-kind="knock"]');
      await knock.waitFor();
      assert.match(await knock.innerText(), /Maya is in the waiting room/);
      await knock.getByRole('button', { name: 'See who is waiting' }).click();
      await sam.waitForFunction(() => document.activeElement && document.activeElement.id === 'waiting-heading');
      const waiting = sam.locator('#waiting-list li.waiting-member', { hasText: 'Maya' });
      await waiting.waitFor();
      assert.match(await sam.locator('#waiting-heading').innerText(), /Waiting \(1\)/);
      await sam.screenshot({ path: path.join(SHOTS, 'kindred-e2e-knock.png') });
      await waiting.getByRole('button', { name: 'Admit Maya' }).click();

      await maya.locator('#waiting-screen').waitFor({ state: 'hidden' });
      await maya.locator('#composer').waitFor({ state: 'visible' });
      await maya.locator('#members li.member', { hasText: 'Sam' }).waitFor();
      await maya.locator('#members li.member', { hasText: 'Maya' }).waitFor();
      await sam.locator('#members li.member', { hasText: 'Maya' }).waitFor();
      await sam.locator('#waiting-list li.waiting-member').waitFor({ state: 'detached' });
      await knock.waitFor({ state: 'detached' });
      await say(maya, 'Hello, thank you for letting me in.');
      await sam.locator('#timeline li.msg', { hasText: 'thank you for letting me in' }).waitFor();
    });

    await t.test('the facilitator sends her a note, and she reads it', async () => {
      await warn(sam, 'Maya', reason);
      const card = maya.locator('#warning-card');
      await card.waitFor();
      assert.equal((await card.locator('#warning-reason').innerText()).trim(), reason);
      await card.getByRole('button', { name: 'I understand' }).click();
      await card.waitFor({ state: 'detached' });
      await sam.locator('#alerts li.warning-note', { hasText: 'Maya has read the note.' }).waitFor();
      await maya.locator('#composer-input:not([aria-disabled="true"])').waitFor();
    });

    await t.test('the facilitator leaves: the room is held, and she writes to the facilitators privately', async () => {
      await sam.click('#leave-button');
      await sam.locator('dialog.dialog', { hasText: 'Leave the room?' }).getByRole('button', { name: 'Leave' }).click();
      await sam.locator('.banner.ended', { hasText: "You've left the room." }).waitFor();

      const banner = maya.locator('#held-banner');
      await banner.waitFor({ state: 'visible' });
      assert.match(await banner.innerText(), /No facilitator is here right now\. Posting is paused until one is back: nothing is sent meanwhile/);
      assert.match(await banner.innerText(), /write to the facilitators privately/);
      await maya.locator('#composer-input[aria-disabled="true"]').waitFor();
      await banner.getByRole('button', { name: 'Write to the facilitators' }).click();
      await maya.waitForFunction(() => document.activeElement && document.activeElement.id === 'whisper-text');
      await maya.keyboard.type('I could use a word when someone is back.');
      await maya.keyboard.press('Enter');
      const kept = maya.locator('#whispers li.whisper.kept', { hasText: 'I could use a word' });
      await kept.waitFor();
      assert.match(await kept.innerText(), /No facilitator is connected right now; your message will be given to the first one who arrives\./);
      assert.ok(await maya.locator('#whisper-error').isHidden(), 'kept, not refused');
      await maya.screenshot({ path: path.join(SHOTS, 'kindred-e2e-held-kept.png') });
    });

    await t.test('the facilitator comes back with the same invite and reads her message first, counted and announced', async () => {
      await sam.goto('about:blank');
      // Everything said to a screen reader from the moment the page loads.
      await sam.addInitScript(() => {
        window.heard = [];
        new MutationObserver((records) => {
          for (const r of records) {
            if (r.target.id !== 'announcer' && r.target.id !== 'announcer-urgent') continue;
            for (const node of r.addedNodes) window.heard.push(`${r.target.id}: ${node.textContent}`);
          }
        }).observe(document, { childList: true, subtree: true });
      });
      // The same link in the same browser: back in his own seat, without the form.
      await sam.goto(new URL(invite.url, base).href);
      await sam.locator('#conn-status[data-state="live"]').waitFor();
      const kept = sam.locator('#whispers-away li.whisper.kept', { hasText: 'I could use a word' });
      await kept.waitFor();
      assert.match(await kept.innerText(), /Maya → the facilitators/);
      assert.match(await kept.innerText(), /Sent while you were away\./);
      // First: above the alerts, counted there, on the Alerts button and in the tab's title.
      const section = sam.locator('#whispers-away-section');
      assert.match(await section.innerText(), /Sent while no facilitator was here \(1 unread\)/);
      assert.ok(await section.evaluate((el) => !!(el.compareDocumentPosition(document.getElementById('alerts')) & Node.DOCUMENT_POSITION_FOLLOWING)),
        'the kept message comes before the alerts');
      assert.match(await sam.title(), /^\(1 sent while away\) /);
      await assertAccessible(sam, 'a kept private message, first among the alerts');
      await sam.waitForFunction(() => window.heard.some((item) => item.startsWith('announcer-urgent: Sent while no facilitator was here: private message from Maya: I could use a word')));
      // Read: the count goes, the message stays.
      await section.getByRole('button', { name: 'Mark as read' }).click();
      await sam.waitForFunction(() => !document.title.includes('sent while away'));
      assert.match(await section.innerText(), /I could use a word/);
      assert.doesNotMatch(await section.innerText(), /unread/);
      await maya.locator('#timeline li.event', { hasText: 'A facilitator is back.' }).waitFor();
      await maya.locator('#held-banner').waitFor({ state: 'hidden' });
      await maya.locator('#composer-input:not([aria-disabled="true"])').waitFor();
    });

    await t.test('the facilitator closes the session, and she reads when the group meets next', async () => {
      // Lee fills in the form while the session is on, and presses Join after it closed.
      lee = await openPage('lee', { address: '198.51.100.12' });
      pages.push(lee);
      await lee.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
      await lee.locator('#join-button').waitFor();
      await lee.check('#accept');
      await lee.fill('#pseudonym', 'Lee');

      await sam.click('#close-session-button');
      await sam.locator('dialog.dialog').waitFor();
      await sam.click('dialog.dialog button[value="ok"]');
      const ended = maya.locator('.banner.ended');
      await ended.locator('.next-session').waitFor();
      assert.match(await ended.innerText(), /This session has ended\./);
      const words = await localWords(maya, room.next_session.starts_at);
      const when = await ended.locator('.next-when').innerText();
      assert.ok(when.includes(words.weekday) && when.includes(words.time), `"${when}" says ${words.weekday} at ${words.time}`);
      assert.match(await ended.innerText(), /The group meets next on /);
      assert.equal(await ended.getByRole('link', { name: /^Add to calendar: Thursday Evening Circle$/ }).getAttribute('href'), calendar);
      assert.doesNotMatch(await ended.innerText(), /\bnull\b/);
      await maya.setViewportSize({ width: 360, height: 780 });
      // On a phone the private messages are a sheet over the room: put it away.
      if (await maya.locator('#sidebar.open').count()) await maya.locator('#sidebar .sheet-close').click();
      await maya.screenshot({ path: path.join(SHOTS, 'kindred-e2e-next-session.png'), fullPage: true });

      await lee.click('#join-button');
      const note = lee.locator('#closed-note');
      await note.waitFor();
      assert.match(await note.innerText(), /This group is not meeting right now\./);
      const leeWhen = await note.locator('.next-when').innerText();
      assert.ok(leeWhen.includes(words.weekday) && leeWhen.includes(words.time), `"${leeWhen}" says ${words.weekday} at ${words.time}`);
      assert.equal(await note.getByRole('link', { name: /^Add to calendar: Thursday Evening Circle$/ }).getAttribute('href'), calendar);
      assert.equal(await lee.locator('#join-error').count(), 0, 'told as a fact, not shown as an error');
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await lee?.context().close();
    await maya.context().close();
    await sam.context().close();
  }
});

test('someone turned away from the waiting room is told kindly and not reconnected; Admit all lets the rest in', { timeout: 120_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    facilitated: false,
    waiting_room: true,
    title: 'Saturday Morning Circle',
    topic: 'Starting the weekend gently',
    capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '198.51.100.20' });
  const rue = await openPage('rue', { address: '198.51.100.21' });
  const oak = await openPage('oak', { address: '198.51.100.22' });
  const pen = await openPage('pen', { address: '198.51.100.23' });
  const pages = [sam, rue, oak, pen];
  // Rue's clock is run by hand, and her page's connections counted.
  await handClock(rue.context());
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    const roomUrl = `${base}/?room=${encodeURIComponent(room.id)}`;
    await joinToWait(rue, roomUrl, 'Rue');
    await joinToWait(oak, roomUrl, 'Oak');
    await joinToWait(pen, roomUrl, 'Pen');
    await sam.locator('#waiting-list li.waiting-member').nth(2).waitFor();
    assert.deepEqual(await sam.locator('#waiting-list li.waiting-member .member-name').allInnerTexts(), ['Rue', 'Oak', 'Pen'],
      'oldest first');

    await t.test('a participant may leave the waiting room', async () => {
      await pen.locator('#waiting-leave-button').click();
      await pen.locator('dialog.dialog', { hasText: 'Leave the waiting room?' }).getByRole('button', { name: 'Leave' }).click();
      await pen.locator('#waiting-status', { hasText: "You've left the waiting room." }).waitFor();
      await sam.locator('#waiting-list li.waiting-member', { hasText: 'Pen' }).waitFor({ state: 'detached' });
    });

    await t.test('the facilitator turns Rue away; she reads a kind word, and the page does not try again', async () => {
      const row = sam.locator('#waiting-list li.waiting-member', { hasText: 'Rue' });
      await row.getByRole('button', { name: 'Turn away Rue' }).click();
      const dialog = sam.locator('dialog.dialog', { hasText: 'Turn Rue away?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Turn away' }).click();

      const status = rue.locator('#waiting-status');
      await status.locator('.waiting-main', { hasText: "A facilitator wasn't able to let you into this session." }).waitFor();
      assert.match(await status.innerText(), /Thank you for waiting\./);
      assert.match(await status.innerText(), /other groups.*crisis line/s);
      assert.equal(await rue.locator('#waiting-status[role="alert"], #waiting-status .form-error').count(), 0, 'not an alarm');
      await rue.getByRole('link', { name: 'See other groups' }).waitFor();
      await row.waitFor({ state: 'detached' });
      await rue.screenshot({ path: path.join(SHOTS, 'kindred-e2e-denied.png') });
      // With her clock run past every backoff, the page has tried nothing more.
      await rue.clock.runFor(PAST_EVERY_RETRY_MS);
      assert.equal(await socketsOpened(rue), 1, 'no new connection after being turned away');
      assert.equal(await rue.locator('#conn-status').getAttribute('data-state'), 'ended');
      assert.equal(await rue.evaluate((k) => sessionStorage.getItem(k), `kindred:${room.id}`), null, 'her place is forgotten');
    });

    await t.test('Admit all lets everyone still waiting in', async () => {
      await sam.locator('#admit-all-button').click();
      await oak.locator('#composer').waitFor({ state: 'visible' });
      await sam.locator('#members li.member', { hasText: 'Oak' }).waitFor();
      assert.match(await sam.locator('#waiting-list').innerText(), /Nobody is waiting right now\./);
      await say(oak, 'Good morning.');
      await sam.locator('#timeline li.msg', { hasText: 'Good morning.' }).waitFor();
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});

test('a report shows the conversation around it, and a second facilitator resolves it for both', { timeout: 120_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    facilitated: false,
    title: 'Sunday Evening Circle',
    topic: 'Getting ready for the week',
    capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { uses: 2 }, true);
  const sam = await openPage('sam', { address: '198.51.100.30' });
  const kai = await openPage('kai', { address: '198.51.100.31' });
  const ash = await openPage('ash', { address: '198.51.100.32' });
  const bea = await openPage('bea', { address: '198.51.100.33' });
  const pages = [sam, kai, ash, bea];
  const said = [
    [ash, 'This week was hard, but I made it here.'],
    [bea, 'I am glad you came.'],
    [ash, 'Some days I do not leave the flat.'],
    [bea, 'Everyone is diagnosed with something these days.'],
  ];
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinAt(kai, new URL(invite.url, base).href, 'Kai');
    await joinThroughUi(ash, base, room.id, 'Ash');
    await joinThroughUi(bea, base, room.id, 'Bea');
    for (const [page, text] of said) {
      await say(page, text);
      await sam.locator('#timeline li.msg', { hasText: text }).waitFor();
    }
    await ash.locator('#timeline li.msg', { hasText: said[3][1] }).waitFor();

    await t.test('Ash reports a message; both facilitators see it with the messages before it', async () => {
      const message = ash.locator('#timeline li.msg', { hasText: said[3][1] });
      await message.getByRole('button', { name: 'Report' }).click();
      const dialog = ash.locator('dialog.dialog', { hasText: 'Report this message' });
      await dialog.waitFor();
      await ash.fill('#dialog-input', 'It makes light of what people live with.');
      await dialog.getByRole('button', { name: 'Send report' }).click();

      for (const page of [sam, kai]) {
        const alert = page.locator('#alerts li.alert[data-kind="report"]');
        await alert.waitFor();
        assert.match(await alert.innerText(), /Ash reported a message: “It makes light of what people live with\.”/);
        const quotes = alert.locator('.report-context li.quote');
        assert.deepEqual(await quotes.locator('.msg-text').allInnerTexts(), said.map(([, text]) => text),
          'up to three messages before it, then the reported one, oldest first');
        const reported = alert.locator('.report-context li.quote.reported');
        assert.equal(await reported.count(), 1);
        assert.match(await reported.innerText(), /Bea\s+reported/i);
        assert.match(await reported.innerText(), /diagnosed with something/);
        assert.equal(await page.locator('#alerts-heading').innerText(), 'Alerts (1)');
      }
      await sam.screenshot({ path: path.join(SHOTS, 'kindred-e2e-report.png') });
    });

    await t.test('Kai resolves it: it leaves his list, and Sam reads that Kai handled it', async () => {
      await kai.locator('#alerts li.alert[data-kind="report"]').getByRole('button', { name: "Resolve Ash's report" }).click();
      await kai.locator('#alerts li.alert[data-kind="report"]').waitFor({ state: 'detached' });
      assert.equal(await kai.locator('#alerts-heading').innerText(), 'Alerts');

      const handled = sam.locator('#alerts li.alert-handled');
      await handled.waitFor();
      assert.match(await handled.innerText(), /Ash's report was handled by Kai\./);
      assert.equal(await sam.locator('#alerts li.alert[data-kind="report"]').count(), 0);
      assert.equal(await sam.locator('#alerts-heading').innerText(), 'Alerts');
      await sam.locator('#mod-log li.log-entry[data-action="resolve"]', { hasText: 'Kai marked an alert as handled' }).waitFor();
      await kai.locator('#mod-log li.log-entry[data-action="resolve"]', { hasText: 'You marked an alert as handled' }).waitFor();
      await handled.getByRole('button', { name: /^Dismiss/ }).click();
      await handled.waitFor({ state: 'detached' });
    });

    await t.test('after a reload the resolved report is not given again', async () => {
      await sam.reload();
      await sam.locator('#conn-status[data-state="live"]').waitFor();
      await sam.locator('#mod-log li.log-entry[data-action="resolve"]').waitFor();
      // Open alerts come right after the welcome, before the log: none came.
      assert.equal(await sam.locator('#alerts li.alert').count(), 0);
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});

test('every facilitator reads the moderation log: the whole of it on arrival, then each entry once', { timeout: 120_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    facilitated: false,
    title: 'Wednesday Lunchtime Circle',
    topic: 'A break in the middle of the week',
    capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { uses: 2 }, true);
  const sam = await openPage('sam', { address: '198.51.100.40' });
  const ash = await openPage('ash', { address: '198.51.100.41' });
  const kai = await openPage('kai', { address: '198.51.100.42' });
  const pages = [sam, ash, kai];
  const reason = 'Please give others room to share too.';
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(ash, base, room.id, 'Ash');
    await sam.locator('#mod-log').waitFor();
    assert.match(await sam.locator('#mod-log').innerText(), /Nothing yet this session\./);

    await t.test("the facilitator's actions are logged as they happen, with whom and why", async () => {
      await sam.click('#waiting-room-button');
      await sam.locator('#waiting-room-button[aria-pressed="true"]').waitFor();
      await ash.locator('#timeline li.event', { hasText: 'The waiting room is on' }).waitFor();
      const row = sam.locator('#members li.member', { hasText: 'Ash' });
      await row.locator('.menu-button').click();
      await row.getByRole('menuitem', { name: 'Mute…' }).click();
      // The dialog offers a length (5 minutes first) and an optional reason.
      await sam.locator('#mute-dialog').waitFor();
      await sam.click('#mute-confirm');
      await ash.locator('#timeline li.event', { hasText: 'Ash is muted until' }).waitFor();
      await sam.click('#lock-button');
      await sam.locator('#lock-button[aria-pressed="true"]').waitFor();
      await sam.click('#lock-button');
      await sam.locator('#lock-button[aria-pressed="false"]').waitFor();
      await warn(sam, 'Ash', reason);
      await sam.locator('#mod-log li.log-entry[data-action="warn"]').waitFor();
      const texts = await logTexts(sam);
      assert.equal(texts.length, 5, texts.join('\n'));
      assert.match(texts[0], /\d.*You turned the waiting room on\./);
      assert.match(texts[1], /You muted Ash for 5 minutes\./);
      assert.match(texts[2], /You locked the room\./);
      assert.match(texts[3], /You unlocked the room\./);
      assert.match(texts[4], /You sent Ash a note: “Please give others room to share too\.”/);
      assert.equal(await sam.locator('#mod-log-heading').innerText(), 'Moderation log (5)');
    });

    await t.test('a second facilitator arriving reads the whole log, with who did each thing', async () => {
      await joinAt(kai, new URL(invite.url, base).href, 'Kai');
      await kai.locator('#mod-log li.log-entry').nth(4).waitFor();
      const texts = await logTexts(kai);
      assert.equal(texts.length, 5, texts.join('\n'));
      assert.match(texts[0], /Sam turned the waiting room on\./);
      assert.match(texts[1], /Sam muted Ash for 5 minutes\./);
      assert.match(texts[4], /Sam sent Ash a note: “Please give others room to share too\.”/);
      assert.equal(await ash.locator('#mod-log').count(), 0, 'participants have no log');
    });

    await t.test('a new entry reaches both once, and a reload shows each entry once', async () => {
      const row = kai.locator('#members li.member', { hasText: 'Ash' });
      await row.locator('.menu-button').click();
      await row.getByRole('menuitem', { name: 'Unmute' }).click();
      await sam.locator('#mod-log li.log-entry[data-action="unmute"]', { hasText: 'Kai unmuted Ash.' }).waitFor();
      await kai.locator('#mod-log li.log-entry[data-action="unmute"]', { hasText: 'You unmuted Ash.' }).waitFor();
      await sam.reload();
      await sam.locator('#conn-status[data-state="live"]').waitFor();
      await sam.locator('#mod-log li.log-entry').nth(5).waitFor();
      // Another live entry after the reload: appended, nothing doubled.
      await kai.click('#waiting-room-button');
      await sam.locator('#mod-log li.log-entry[data-action="waiting_room"]', { hasText: 'Kai turned the waiting room off.' }).waitFor();
      const texts = await logTexts(sam);
      assert.equal(texts.length, 7, texts.join('\n'));
      assert.equal(new Set(await sam.locator('#mod-log li.log-entry').evaluateAll((els) => els.map((e) => e.dataset.id))).size, 7);
      await sam.locator('#waiting-room-button[aria-pressed="false"]').waitFor();
      await sam.screenshot({ path: path.join(SHOTS, 'kindred-e2e-mod-log.png') });
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});

test('closing a session with a crisis alert still open asks first, and after the close says what became of it', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true, title: 'Late Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam closing', { address: '198.51.100.30' });
  const maya = await openPage('maya closing', { address: '198.51.100.31' });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(maya, base, room.id, 'Maya');
    await say(maya, 'I want to kill myself');
    await sam.locator('#alerts li.alert[data-kind="crisis"]', { hasText: 'Maya' }).waitFor();

    // Asked first, by name, and the first answer keeps the session going.
    await sam.click('#close-session-button');
    const dialog = sam.locator('dialog.dialog[open]');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /An alert is still open: Maya \(crisis\)\. If someone may be at risk, reach out to them before you close\./);
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await say(sam, 'Maya, I am here. Can we talk privately?');
    await maya.locator('#timeline li.msg', { hasText: 'Can we talk privately?' }).waitFor();

    // Closed anyway: nothing is left on screen to act on, and what was open is said.
    await sam.click('#close-session-button');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Close anyway', exact: true }).click();
    await maya.locator('.banner.ended', { hasText: 'This session has ended.' }).waitFor();
    const note = sam.locator('#alerts-at-close');
    await note.waitFor({ state: 'attached' });
    assert.match(await note.innerText(), /When the session closed, this alert was still open: Maya \(crisis\)\./);
    assert.match(await note.innerText(), /safeguarding steps/);
    assert.equal(await sam.locator('#alerts li.alert').count(), 0, 'no alert is left with actions that can do nothing');
    await assertAccessible(sam, "the facilitator's page after closing with an alert open");
    assert.deepEqual([...sam.problems, ...maya.problems], []);
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-2000)}`;
    throw e;
  } finally {
    await sam.context().close();
    await maya.context().close();
  }
});

test("the room's page before the session changes by itself when the facilitator opens it, and leaves focus where it was", { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: false, title: 'Early Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam opening', { address: '198.51.100.40' });
  const nia = await openPage('nia before', { viewport: { width: 360, height: 740 }, address: '198.51.100.41' });
  // Nia's clock runs by hand: what her page would do by itself in a while is done at once.
  await handClock(nia.context());
  try {
    await nia.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
    await nia.locator('#closed-note').waitFor();
    assert.match(await nia.locator('#room-status').innerText(), /Not meeting right now/);
    await nia.locator('#guidelines').focus();
    // Nothing has begun: a while later the page still says so.
    await nia.clock.runFor(60_000);
    await nia.locator('#closed-note').waitFor();

    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    const banner = sam.locator('#session-banner');
    await banner.getByRole('button', { name: 'Open the session' }).click();
    await banner.waitFor({ state: 'hidden' });

    // Within a quarter of a minute, without a tap: the form to join, and focus untouched.
    await nia.clock.runFor(15_000);
    await nia.locator('#join-button').waitFor();
    assert.match(await nia.locator('#room-status').innerText(), /Meeting now/);
    assert.equal(await nia.locator('#closed-note').count(), 0);
    assert.notEqual(await nia.evaluate(() => document.activeElement?.id), 'accept', 'focus is not moved onto the form');
    await joinOnForm(nia, 'Nia');
    assert.deepEqual([...sam.problems, ...nia.problems], []);
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-2000)}`;
    throw e;
  } finally {
    await sam.context().close();
    await nia.context().close();
  }
});
