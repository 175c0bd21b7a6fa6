// Browser end-to-end test of the bundled web client against a real `kindred`.
//
// harness.js starts the binary named by KINDRED_BIN on a free port and Debian's
// Chromium (never a downloaded browser); each check creates its rooms over the
// admin API and drives the page through playwright-core: two members join through the UI, talk, react and raise a hand;
// one loses her network while the other posts five messages and, back again, sees
// each exactly once and in order; a facilitator pauses the room and the member's
// next message is refused kindly; a facilitator who came in through the invite
// link bans a member, who cannot come back from the same browser under a new name;
// a member with the room open in too many tabs is told why; a room that is not
// meeting turns a participant away calmly until a facilitator opens the session; a
// facilitator's private note is read before its member posts again; a facilitated
// room waits, and says so, while no facilitator is here.
// A missing binary or browser fails the test: it never skips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  useKindred, api, openPage, watch, joinThroughUi, joinAt, joinOnForm, say, messageTexts, handClock, socketsOpened,
  base, proxy, serverLog, SHOTS, PAST_EVERY_RETRY_MS,
} from './harness.js';

useKindred();

test('two members and a facilitator share a room through the web client', { timeout: 150_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    facilitated: false,
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

        // The composer waits, and says why; what she writes is refused kindly, in
        // one line, and her words stay in the box.
        await alice.locator('#composer-input[aria-disabled="true"]').waitFor();
        assert.match(await alice.locator('#composer-hint').innerText(), /paused/i);
        await say(alice, 'Can I add something?');
        const refused = alice.locator('#composer-status[data-code="paused"]');
        await refused.waitFor();
        assert.match(await refused.innerText(), /paused/i);
        assert.equal(await alice.inputValue('#composer-input'), 'Can I add something?');
        assert.equal(await alice.locator('#outbox li').count(), 0, 'no refused card left behind');
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
    open: true,
    facilitated: false,
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
    // Any open alert would come before this whisper (words that bring no alert of
    // their own: the classifier takes "I will stay a while." for a check-in).
    await willow.fill('#whisper-text', 'Thanks, the breathing helped today.');
    await willow.press('#whisper-text', 'Enter');
    await sam.locator('#whispers li', { hasText: 'the breathing helped today' }).waitFor();
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

test('a facilitator from an invite link bans a member, who cannot come back from the same browser under a new name', { timeout: 120_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    facilitated: false,
    title: 'Thursday Grief Circle',
    topic: 'Living with loss',
    capacity: 10,
  }, true);
  // Every field of an invite has a default: the body may be an empty object.
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const link = new URL(invite.url, base);
  assert.equal(new URLSearchParams(link.hash.slice(1)).get('invite'), invite.token,
    `the invite link carries the token in its fragment: ${invite.url}`);
  assert.ok(!link.search.includes(invite.token), `the token is not in the link's query: ${invite.url}`);

  // Each person on a network of their own, as in life.
  const sam = await openPage('sam', { address: '203.0.113.10' });
  const rowan = await openPage('rowan', { address: '203.0.113.20' });
  const rowanContext = rowan.context();
  const joinBodies = [];
  rowanContext.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === `/api/rooms/${room.id}/join`) joinBodies.push(r.postDataJSON());
  });
  let jo;
  const pages = [sam, rowan];
  try {
    await t.test('the facilitator opens the invite link, joins as a facilitator, and the token leaves the address bar', async () => {
      await sam.goto(link.href);
      await sam.locator('#join-form .note', { hasText: 'You are joining as a facilitator.' }).waitFor();
      await joinOnForm(sam, 'Sam');
      await sam.locator('.toolbar[aria-label="Facilitator tools"]').waitFor();
      await sam.locator('#members li.member', { hasText: 'Sam' }).locator('.badge', { hasText: 'facilitator' }).waitFor();
      assert.ok(!sam.url().includes(invite.token), `no token in ${sam.url()}`);
      assert.ok(!/invite/.test(sam.url()), `no invite in ${sam.url()}`);
      assert.equal(new URL(sam.url()).searchParams.get('room'), room.id);
    });

    await t.test('Rowan is banned by the facilitator and told so, calmly', async () => {
      await joinThroughUi(rowan, base, room.id, 'Rowan');
      const row = sam.locator('#members li.member', { hasText: 'Rowan' });
      await row.locator('.menu-button').click();
      await row.getByRole('menuitem', { name: 'Ban from the group…' }).click();
      await sam.locator('dialog.dialog', { hasText: 'Ban Rowan from the group?' }).waitFor();
      await sam.click('dialog.dialog button[value="ok"]');

      const ended = rowan.locator('.banner.ended');
      await ended.waitFor({ state: 'visible' });
      assert.match(await ended.innerText(), /A facilitator has asked you to leave this group, so you can't rejoin it\./);
      assert.match(await ended.innerText(), /crisis line/);
      await rowan.locator('#composer').waitFor({ state: 'hidden' });
      await sam.locator('#timeline li.event', { hasText: 'Rowan was removed from the group.' }).waitFor();
      await row.waitFor({ state: 'detached' });
    });

    await t.test('from the same browser on another network, under a new name, Rowan cannot rejoin', async () => {
      // Her phone moved from Wi-Fi to mobile data: only the browser is the same.
      await rowanContext.setExtraHTTPHeaders({ 'x-forwarded-for': '203.0.113.21' });
      const again = watch(await rowanContext.newPage(), 'rowan again');
      pages.push(again);
      await again.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
      await again.locator('#guidelines').waitFor();
      await again.check('#accept');
      await again.fill('#pseudonym', 'Robin');
      await again.click('#join-button');
      const refusal = again.locator('#join-error', { hasText: 'asked you to leave this group' });
      await refusal.waitFor();
      assert.match(await refusal.innerText(),
        /^A facilitator has asked you to leave this group, so you can't rejoin it\. .*crisis line/);
      await refusal.getByRole('link', { name: 'See the other groups' }).waitFor();
      await again.screenshot({ path: path.join(SHOTS, 'kindred-e2e-banned.png') });
      assert.equal(await again.locator('#conn-status').innerText(), '', 'no connection was opened');
      assert.equal(await sam.locator('#members li.member', { hasText: 'Robin' }).count(), 0);

      // Both joins named the same browser: a random id kept for Kindred, nothing else.
      assert.equal(joinBodies.length, 2, 'two joins from Rowan\'s browser');
      const device = await again.evaluate(() => localStorage.getItem('kindred.device'));
      assert.match(device, /^[A-Za-z0-9_-]{22}$/);
      assert.deepEqual(joinBodies.map((b) => b.device), [device, device]);
    });

    await t.test('someone else, from their own browser, can still join', async () => {
      jo = await openPage('jo', { address: '203.0.113.30' });
      pages.push(jo);
      await joinThroughUi(jo, base, room.id, 'Jo');
      await sam.locator('#members li.member', { hasText: 'Jo' }).waitFor();
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await jo?.context().close();
    await rowanContext.close();
    await sam.context().close();
  }
});

test('a member with the room open in too many tabs is told why, and reconnects after closing one', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    facilitated: false,
    title: 'Sunday Morning Coffee',
    topic: 'An easy start to the week',
    capacity: 10,
  }, true);
  const first = await openPage('kit');
  const context = first.context();
  const tabs = [first];
  try {
    await joinThroughUi(first, base, room.id, 'Kit');
    // A duplicated tab starts with a copy of the tab's session storage: the same
    // member, on one more connection. The server allows five (per member, default).
    const key = `kindred:${room.id}`;
    const session = await first.evaluate((k) => sessionStorage.getItem(k), key);
    assert.ok(session, 'the first tab keeps its place in the room');
    const duplicate = async (i) => {
      const tab = watch(await context.newPage(), `kit tab ${i}`);
      tabs.push(tab);
      await tab.addInitScript(([k, v]) => sessionStorage.setItem(k, v), [key, session]);
      await tab.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
      return tab;
    };
    for (let i = 2; i <= 5; i += 1) {
      const tab = await duplicate(i);
      await tab.locator('#conn-status[data-state="live"]').waitFor();
    }
    // The sixth tab's clock is run by hand, and its connections counted.
    await handClock(context);
    const sixth = await duplicate(6);
    const banner = sixth.locator('#blocked-banner');
    await banner.waitFor({ state: 'visible' });
    assert.match(await banner.innerText(), /open in too many tabs or windows\. Close one, then reconnect\./);
    assert.equal(await sixth.locator('#conn-status').innerText(), 'Not connected');
    await sixth.locator('#conn-status[data-state="blocked"]').waitFor();
    // It waits for her rather than trying again on its own and taking another tab's
    // place: with its clock run past every backoff, it has opened no other connection.
    await sixth.clock.runFor(PAST_EVERY_RETRY_MS);
    assert.equal(await socketsOpened(sixth), 1, 'only the connection that was refused');
    assert.equal(await sixth.locator('#conn-status').getAttribute('data-state'), 'blocked');
    for (const tab of tabs.slice(0, 5)) assert.equal(await tab.locator('#conn-status').getAttribute('data-state'), 'live');

    // She closes one tab and presses Reconnect (again, if the server had not yet
    // noticed the closed tab, as she would).
    await tabs[0].close();
    let state = 'blocked';
    for (let attempt = 0; attempt < 10 && state !== 'live'; attempt += 1) {
      if (attempt > 0) await sixth.waitForTimeout(300);
      await sixth.getByRole('button', { name: 'Reconnect' }).click();
      await sixth.locator('#conn-status[data-state="live"], #conn-status[data-state="blocked"]').waitFor();
      state = await sixth.locator('#conn-status').getAttribute('data-state');
    }
    assert.equal(state, 'live', 'after closing a tab, Reconnect brings her back');
    await banner.waitFor({ state: 'hidden' });
    await sixth.locator('#members li.member', { hasText: 'Kit' }).waitFor();
    await say(sixth, 'Morning, all.');
    await tabs[1].locator('#timeline li.msg', { hasText: 'Morning, all.' }).waitFor();

    assert.deepEqual(tabs.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await context.close();
  }
});

test('a room meets in sessions: a participant waits until the facilitator opens one', { timeout: 120_000 }, async (t) => {
  // No `open`: the room starts between sessions.
  const room = await api('POST', '/api/rooms', {
    title: 'Wednesday Recovery Circle',
    topic: 'One day at a time',
    capacity: 10,
  }, true);
  assert.equal(room.open, false, 'a new room starts closed');
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);

  const maya = await openPage('maya', { address: '203.0.113.40' });
  const sam = await openPage('sam', { address: '203.0.113.41' });
  let lee;
  const pages = [maya, sam];
  try {
    await t.test('the directory and the room page say calmly that the group is not meeting, and a participant cannot join', async () => {
      await maya.goto(`${base}/`);
      const card = maya.locator('#room-list li', { hasText: 'Wednesday Recovery Circle' });
      await card.locator('.room-status', { hasText: 'Not meeting right now' }).waitFor();
      assert.equal(await card.getByRole('link', { name: 'Join Wednesday Recovery Circle' }).count(), 0);

      await maya.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
      await maya.locator('#guidelines').waitFor();
      assert.equal((await maya.locator('#room-status').innerText()).trim(), 'Not meeting right now');
      const note = maya.locator('#closed-note');
      assert.match(await note.innerText(), /This group is not meeting right now\. Please come back when its next session opens\./);
      await note.getByRole('link', { name: 'See the other groups' }).waitFor();
      assert.equal(await maya.locator('#join-button').count(), 0, 'no Join button while the group is not meeting');
      assert.equal(await maya.locator('#pseudonym').count(), 0);
      await maya.screenshot({ path: path.join(SHOTS, 'kindred-e2e-not-meeting.png') });

      // The server refuses a participant's join too, whatever the page shows.
      const res = await fetch(`${base}/api/rooms/${room.id}/join`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Maya', accept_guidelines: true }),
      });
      assert.equal(res.status, 403);
      assert.equal((await res.json()).code, 'closed');
    });

    await t.test('the facilitator comes in through the invite link and opens the session', async () => {
      await sam.goto(new URL(invite.url, base).href);
      await sam.locator('#join-form .note', { hasText: 'You are joining as a facilitator.' }).waitFor();
      await sam.locator('#facilitator-closed-note').waitFor();
      await joinOnForm(sam, 'Sam');
      const banner = sam.locator('#session-banner');
      await banner.waitFor({ state: 'visible' });
      assert.match(await banner.innerText(), /The session is not open yet\. Participants can join once you open it\./);
      await sam.screenshot({ path: path.join(SHOTS, 'kindred-e2e-session-banner.png') });
      await banner.getByRole('button', { name: 'Open the session' }).click();
      await banner.waitFor({ state: 'hidden' });
      await sam.locator('#timeline li.event', { hasText: 'The session is open.' }).waitFor();
      await sam.locator('#close-session-button').waitFor({ state: 'visible' });
    });

    await t.test('the participant reloads, joins, and the two talk', async () => {
      await maya.reload();
      await maya.locator('#room-status', { hasText: 'Meeting now' }).waitFor();
      await joinOnForm(maya, 'Maya');
      await sam.locator('#members li.member', { hasText: 'Maya' }).waitFor();
      await say(sam, 'Welcome, Maya. We are glad you came.');
      await maya.locator('#timeline li.msg', { hasText: 'We are glad you came.' }).waitFor();
      await say(maya, 'Thank you, it is good to be here.');
      await sam.locator('#timeline li.msg', { hasText: 'good to be here' }).waitFor();
      assert.equal(await maya.locator('#session-banner').count(), 0, 'a participant has no session banner');
    });

    await t.test('a join after the session has closed is answered with the same calm sentence', async () => {
      lee = await openPage('lee', { address: '203.0.113.42' });
      pages.push(lee);
      await lee.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
      await lee.locator('#join-button').waitFor();
      await lee.check('#accept');
      await lee.fill('#pseudonym', 'Lee');

      await sam.click('#close-session-button');
      await sam.locator('dialog.dialog').waitFor();
      await sam.click('dialog.dialog button[value="ok"]');
      await maya.locator('.banner.ended', { hasText: 'This session has ended.' }).waitFor();

      await lee.click('#join-button');
      const note = lee.locator('#closed-note');
      await note.waitFor();
      assert.match(await note.innerText(), /This group is not meeting right now\. Please come back when its next session opens\./);
      await note.getByRole('link', { name: 'See the other groups' }).waitFor();
      assert.equal(await lee.locator('#join-error').count(), 0, 'told as a fact, not shown as an error');
      assert.equal((await lee.locator('#room-status').innerText()).trim(), 'Not meeting right now');
      assert.equal(await lee.locator('#conn-status').innerText(), '', 'no connection was opened');
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await lee?.context().close();
    await sam.context().close();
    await maya.context().close();
  }
});

test('a facilitator sends a participant a private note, which they read before posting again', { timeout: 120_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    facilitated: false,
    title: 'Friday Evening Circle',
    topic: 'Caring for someone else',
    capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const reason = 'Please speak from your own experience rather than telling others what to do.';

  const sam = await openPage('sam', { address: '203.0.113.50' });
  const ash = await openPage('ash', { address: '203.0.113.51' });
  const bea = await openPage('bea', { address: '203.0.113.52' });
  const pages = [sam, ash, bea];
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await sam.locator('.toolbar[aria-label="Facilitator tools"]').waitFor();
    await joinThroughUi(ash, base, room.id, 'Ash');
    await joinThroughUi(bea, base, room.id, 'Bea');
    // Ash has the room open in a second tab too (a copy of the first tab's session).
    const key = `kindred:${room.id}`;
    const session = await ash.evaluate((k) => sessionStorage.getItem(k), key);
    const ashTab = watch(await ash.context().newPage(), 'ash tab 2');
    pages.push(ashTab);
    await ashTab.addInitScript(([k, v]) => sessionStorage.setItem(k, v), [key, session]);
    await ashTab.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
    await ashTab.locator('#conn-status[data-state="live"]').waitFor();

    await t.test('the facilitator warns Ash from the member menu, with a reason', async () => {
      const row = sam.locator('#members li.member', { hasText: 'Ash' });
      await row.locator('.menu-button').click();
      await row.getByRole('menuitem', { name: 'Warn…' }).click();
      const dialog = sam.locator('dialog.dialog', { hasText: 'Send Ash a private note' });
      await dialog.waitFor();
      await sam.fill('#dialog-input', reason);
      await dialog.getByRole('button', { name: 'Send the note' }).click();
      const note = sam.locator('#alerts li.warning-note');
      await note.waitFor();
      assert.match(await note.innerText(), /You warned Ash: “Please speak from your own experience/);
      assert.match(await note.innerText(), /Waiting for Ash to read it/);
    });

    await t.test('Ash sees the note, calmly, and cannot post until she has read it', async () => {
      const card = ash.locator('#warning-card');
      await card.waitFor();
      assert.match(await card.innerText(), /A facilitator sent you a note/);
      assert.equal((await card.locator('#warning-reason').innerText()).trim(), reason);
      await ash.waitForFunction(() => document.activeElement && document.activeElement.id === 'warning-card');
      assert.equal(await card.getAttribute('aria-labelledby'), 'warning-title');
      assert.ok(await ash.locator('#composer-input').isDisabled(), 'the composer waits for the note to be read');
      assert.ok(await ash.locator('#send-button').isDisabled());
      assert.match(await ash.locator('#composer-hint').innerText(), /sent you a note.*post again once you have read it/);
      await ashTab.locator('#warning-card').waitFor();
      await ash.screenshot({ path: path.join(SHOTS, 'kindred-e2e-warning.png') });

      // The note is for Ash alone: Bea still posts, and sees no note (it would have
      // reached her before her own message came back to her).
      await say(bea, 'I found the breathing exercise helpful.');
      await sam.locator('#timeline li.msg', { hasText: 'breathing exercise' }).waitFor();
      await ash.locator('#timeline li.msg', { hasText: 'breathing exercise' }).waitFor();
      await bea.locator('#timeline li.msg.mine', { hasText: 'breathing exercise' }).waitFor();
      assert.equal(await bea.locator('#warning-card').count(), 0);
      assert.equal(await bea.locator('#timeline', { hasText: reason }).count(), 0);
    });

    await t.test('a reload brings the note back until it is read', async () => {
      await ashTab.reload();
      await ashTab.locator('#conn-status[data-state="live"]').waitFor();
      await ashTab.locator('#warning-card', { hasText: reason }).waitFor();
      assert.ok(await ashTab.locator('#composer-input').isDisabled());
    });

    await t.test('Ash presses "I understand" and can post again; every tab of hers and the facilitator know', async () => {
      const button = ash.locator('#warning-card').getByRole('button', { name: 'I understand' });
      assert.equal(await button.evaluate((el) => el.tagName), 'BUTTON');
      await button.click();
      await ash.locator('#warning-card').waitFor({ state: 'detached' });
      await ash.locator('#composer-input:not([aria-disabled="true"])').waitFor();
      await ashTab.locator('#warning-card').waitFor({ state: 'detached' });
      await ashTab.locator('#composer-input:not([aria-disabled="true"])').waitFor();
      await sam.locator('#alerts li.warning-note', { hasText: 'Ash has read the note.' }).waitFor();

      await say(ash, 'Thank you, I will speak for myself.');
      await sam.locator('#timeline li.msg', { hasText: 'I will speak for myself.' }).waitFor();
      await ash.locator('#timeline li.msg.mine', { hasText: 'I will speak for myself.' }).waitFor();
      assert.equal(await ash.locator('#outbox li').count(), 0, 'nothing was refused');
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await bea.context().close();
    await ash.context().close();
    await sam.context().close();
  }
});

test('a facilitated room waits while no facilitator is here, and opens again when one comes back', { timeout: 120_000 }, async (t) => {
  // No `facilitated`: a room is facilitated unless made drop-in.
  const room = await api('POST', '/api/rooms', {
    open: true,
    title: 'Monday Night Circle',
    topic: 'Getting through the week',
    capacity: 10,
  }, true);
  assert.equal(room.facilitated, true, 'a room is facilitated by default');

  const sam = await openPage('sam', { address: '203.0.113.60' });
  const nia = await openPage('nia', { address: '203.0.113.61' });
  let kit;
  const pages = [sam, nia];
  try {
    const first = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
    await joinAt(sam, new URL(first.url, base).href, 'Sam');
    await joinThroughUi(nia, base, room.id, 'Nia');
    await nia.locator('#held-banner').waitFor({ state: 'hidden' });
    await say(nia, 'Evening, everyone.');
    await sam.locator('#timeline li.msg', { hasText: 'Evening, everyone.' }).waitFor();

    await t.test('the facilitator leaves: Nia is told calmly that messages wait, and the composer waits too', async () => {
      await sam.click('#leave-button');
      const dialog = sam.locator('dialog.dialog', { hasText: 'Leave the room?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Leave' }).click();
      await sam.locator('.banner.ended', { hasText: "You've left the room." }).waitFor();

      await nia.locator('#timeline li.event', { hasText: 'No facilitator is here right now. Posting is paused until one is back.' }).waitFor();
      const banner = nia.locator('#held-banner');
      await banner.waitFor({ state: 'visible' });
      assert.match(await banner.innerText(), /No facilitator is here right now\. Posting is paused until one is back: nothing is sent meanwhile/);
      await nia.locator('#composer-input[aria-disabled="true"]').waitFor();
      assert.ok(await nia.locator('#send-button').isDisabled());
      assert.match(await nia.locator('#composer-hint').innerText(), /No facilitator is here right now/);
      await nia.screenshot({ path: path.join(SHOTS, 'kindred-e2e-held.png') });
    });

    await t.test('someone who arrives meanwhile is told the same from the start', async () => {
      kit = await openPage('kit', { address: '203.0.113.62' });
      pages.push(kit);
      await joinThroughUi(kit, base, room.id, 'Kit');
      await kit.locator('#held-banner').waitFor({ state: 'visible' });
      assert.ok(await kit.locator('#composer-input').isDisabled());
    });

    await t.test('a facilitator comes back with a new link, and Nia can post again', async () => {
      const second = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
      // A fresh page load: from the room's own address, only the fragment would change.
      await sam.goto('about:blank');
      await joinAt(sam, new URL(second.url, base).href, 'Sam');
      await sam.locator('.toolbar[aria-label="Facilitator tools"]').waitFor();
      await nia.locator('#timeline li.event', { hasText: 'A facilitator is back. You can share again.' }).waitFor();
      await nia.locator('#held-banner').waitFor({ state: 'hidden' });
      await nia.locator('#composer-input:not([aria-disabled="true"])').waitFor();
      assert.doesNotMatch(await nia.locator('#composer-hint').innerText(), /No facilitator/);
      await say(nia, 'Welcome back, Sam.');
      await sam.locator('#timeline li.msg', { hasText: 'Welcome back, Sam.' }).waitFor();
      await kit.locator('#composer-input:not([aria-disabled="true"])').waitFor();
      assert.equal(await nia.locator('#outbox li').count(), 0, 'nothing was refused');
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await kit?.context().close();
    await nia.context().close();
    await sam.context().close();
  }
});
