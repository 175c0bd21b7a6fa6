// Browser checks of the moments that matter most to a person in distress: the
// crisis card on a phone (lines first and tappable, the emergency sentence in
// sight, words that are true of this message and this room, the emergency number
// first after an overdose), "Need help now" on every page, the quick exit, a
// muted member told why and until when while the room is told nothing more, a
// muted member's crisis words reaching the facilitator, private messages kept
// across a reload, and a composer that waits with its reason and comes back.
// Each at 360 px and 1280 px where the width changes what a person sees.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  useKindred, api, openPage, joinThroughUi, joinAt, joinOnForm, say, secondConnection,
  base, serverLog, SHOTS, PHONE, DESKTOP, NEUTRAL,
} from './harness.js';

useKindred();

/** Every part of `locator` inside the page's viewport now (no scrolling needed). */
async function inView(page, locator, what) {
  const box = await locator.boundingBox();
  assert.ok(box, `${what} is shown`);
  const { height, width } = page.viewportSize();
  assert.ok(box.y >= 0 && box.y + box.height <= height + 0.5 && box.x >= 0 && box.x + box.width <= width + 0.5,
    `${what} is within the ${width}×${height} screen without scrolling: ${JSON.stringify(box)}`);
}

/** The checks of a crisis card shown to someone whose message was shared in a drop-in room. */
async function checkCard(page, width) {
  const card = page.locator('#crisis-card');
  await card.waitFor();
  const lines = card.locator('.help-lines > li');
  assert.ok(await lines.count() >= 3, 'the help lines are listed');
  for (let i = 0; i < await lines.count(); i += 1) await inView(page, lines.nth(i), `help line ${i + 1} at ${width} px`);
  await inView(page, card.locator('#crisis-emergency'), `the emergency sentence at ${width} px`);
  // The default card names no one emergency number: none is guessed until the
  // person picks their country, which is offered beside it.
  assert.match(await card.locator('#crisis-emergency').innerText(), /call your local emergency number/);
  assert.equal(await card.locator('.emergency-call').count(), 0, 'no emergency number is guessed');
  await card.locator('a[href="tel:116123"]').waitFor();
  await card.locator('#help-country').waitFor();
  // The button that closes it is not cut off: scrolled to, it is there in full.
  await card.locator('#crisis-seen-button').scrollIntoViewIfNeeded();
  await inView(page, card.locator('#crisis-seen-button'), `the dismiss button at ${width} px`);
  // The lines come before the emergency sentence and before any paragraph of text.
  const order = await card.evaluate((el) => [...el.children].map((c) => c.className || c.tagName));
  assert.ok(order.indexOf('help-lines') < order.indexOf('emergency'), `lines first: ${order}`);
  // Picked, the country's number: at least as tall a target as any help line's.
  await page.selectOption('#help-country', 'US');
  const picked = page.locator('#crisis-card');
  await picked.locator('.emergency-call[href="tel:911"]').waitFor();
  const areas = await picked.evaluate((el) => [...el.querySelectorAll('.help-lines a, .emergency-call')].map((t) => {
    const r = t.getBoundingClientRect();
    return { call: t.classList.contains('emergency-call'), area: r.width * r.height, height: r.height, text: t.textContent };
  }));
  const call = areas.find((a) => a.call);
  for (const other of areas.filter((a) => !a.call)) {
    assert.ok(call.height >= other.height, `the emergency call is at least as tall as every help line's target at ${width} px, not "${other.text}" (${JSON.stringify(areas)})`);
  }
  // Numbers are links to tap: call, and text where the line takes texts.
  await picked.locator('a[href="tel:988"]').waitFor();
  await picked.locator('a[href="sms:988"]').waitFor();
  await page.selectOption('#help-country', '');
  await page.locator('#crisis-card a[href="tel:116123"]').waitFor();
  const text = await page.locator('#crisis-card').innerText();
  assert.match(text, /Thank you for telling us\./);
  assert.match(text, /Your message was shared with the group\./);
  // The operator's words come after the lines, and say so.
  assert.match(text, /the lines above are free/);
  assert.doesNotMatch(text, /lines below/);
  assert.match(text, /drop-in room and nobody is keeping watch right now, so no one here has been told/);
  assert.doesNotMatch(text, /have been let know|facilitators have been/);
}

test('the crisis card on a phone and on a wide screen: lines first, tappable, true, and found again', { timeout: 120_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: false, title: 'Night Owls', topic: 'When sleep will not come', capacity: 10,
  }, true);
  for (const [label, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await t.test(`at ${viewport.width} px`, async () => {
      const page = await openPage(`wren ${label}`, { viewport, address: label === 'phone' ? '192.0.2.10' : '192.0.2.11' });
      try {
        await joinThroughUi(page, base, room.id, `Wren ${label}`);
        await say(page, 'I want to kill myself');
        await page.locator('#crisis-card').waitFor();
        if (label === 'phone') await page.screenshot({ path: path.join(SHOTS, 'kindred-e2e-crisis-phone.png') });
        await checkCard(page, viewport.width);
        await page.click('#crisis-seen-button');
        await page.locator('#crisis-card').waitFor({ state: 'detached' });

        // "Need help now", in the header, brings the card back: lines, no words about a message.
        const link = page.getByRole('link', { name: 'Need help now' });
        await inView(page, link, 'the Need help now link');
        await link.click();
        const again = page.locator('#crisis-card');
        await again.waitFor();
        await again.locator('a[href="tel:988"]').waitFor();
        assert.doesNotMatch(await again.innerText(), /Your message/);
        await inView(page, again.locator('#crisis-emergency'), 'the emergency sentence, reopened');
        assert.deepEqual(page.problems, []);
      } finally {
        await page.context().close();
      }
    });
  }

  await t.test('after an overdose the emergency number comes first, and every page has the link', async () => {
    const page = await openPage('moss', { viewport: PHONE, locale: 'en-GB', address: '192.0.2.12' });
    try {
      // Before joining: the directory and the join form have the link, in the same place.
      await page.goto(`${base}/`);
      const link = page.locator('#need-help-link');
      const onDirectory = await link.boundingBox();
      await link.click();
      await page.locator('#crisis-card a[href^="tel:"]').first().waitFor();
      // The server's own card (the operator's lines), not the page's built-in copy.
      assert.match(await page.locator('#crisis-title').innerText(), /carry this alone/);
      await page.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
      await page.locator('#guidelines').waitFor();
      assert.deepEqual(await link.boundingBox(), onDirectory, 'the link is in the same place on every page');

      await joinThroughUi(page, base, room.id, 'Moss');
      assert.deepEqual(await link.boundingBox(), onDirectory, 'and in the room');
      await say(page, 'I took too many pills');
      const card = page.locator('#crisis-card[data-category="overdose"]');
      await card.waitFor();
      const first = card.locator('#crisis-emergency');
      assert.match(await first.innerText(), /^Emergency: call your local emergency number now/, 'not guessed from en-GB');
      await page.selectOption('#help-country', 'GB');
      assert.match(await first.innerText(), /^Emergency: call 999/);
      const order = await card.evaluate((el) => [...el.children].map((c) => c.id || c.className));
      assert.equal(order[1], 'crisis-emergency', `the emergency number right after the title: ${order}`);
      await card.locator('#crisis-emergency a[href="tel:999"]').waitFor();
      await inView(page, first, 'the overdose line');
      await page.screenshot({ path: path.join(SHOTS, 'kindred-e2e-crisis-overdose.png') });
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  });
});

test('quick exit: a button and Shift three times leave for a neutral site, and Back shows no page of Kindred', { timeout: 120_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: false, title: 'Quiet Corner', capacity: 10,
  }, true);
  for (const [how, viewport] of [['the button', PHONE], ['Shift three times', DESKTOP]]) {
    await t.test(`with ${how} at ${viewport.width} px`, async () => {
      const page = await openPage(`ivy ${how}`, { viewport });
      // The neutral site, answered here: the test reaches nothing outside.
      await page.context().route(`${NEUTRAL}**`, (route) => route.fulfill({
        contentType: 'text/html', body: '<!doctype html><title>Weather</title><p>Sunny spells.</p>',
      }));
      try {
        // The directory first, then into the group from its Join link, as a person does.
        await page.goto(`${base}/`);
        await page.locator('#room-list').waitFor();
        await page.getByRole('link', { name: 'Join Quiet Corner', exact: true }).click();
        await joinOnForm(page, `Ivy ${viewport.width}`);
        if (how === 'the button') {
          await page.getByRole('link', { name: 'Exit this page' }).click();
        } else {
          await page.locator('#composer-input').focus();
          for (let i = 0; i < 3; i += 1) await page.keyboard.press('Shift');
        }
        await page.waitForURL(`${NEUTRAL}**`);
        assert.equal(await page.title(), 'Weather');
        // Back goes to where the tab was before Kindred: neither the room nor the
        // directory that lists the group.
        await page.goBack();
        assert.ok(!page.url().startsWith(base), `back leads to ${page.url()}`);
        assert.deepEqual(page.problems, []);
      } finally {
        await page.context().close();
      }
    });
  }
});

test('Escape closes dialogs and never ejects; Shift typed with letters never leaves', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true, title: 'Thursday Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam escape', { viewport: DESKTOP, address: '192.0.2.40' });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    const inRoom = sam.url();
    // Announce, then Escape; Pause, then Escape twice: five presses in a few seconds.
    await sam.getByRole('button', { name: 'Announce', exact: true }).click();
    await sam.locator('dialog[open]', { hasText: 'Pin an announcement' }).waitFor();
    await sam.keyboard.press('Escape');
    await sam.locator('dialog[open]').waitFor({ state: 'detached' });
    await sam.click('#pause-button');
    await sam.locator('dialog[open]', { hasText: 'Pause the room' }).waitFor();
    await sam.keyboard.press('Escape');
    await sam.locator('dialog[open]').waitFor({ state: 'detached' });
    await sam.keyboard.press('Escape');
    await sam.keyboard.press('Escape');
    // Capitals and Shift+Tab press Shift with another key: not a press of its own.
    await sam.locator('#composer-input').focus();
    await sam.keyboard.type('Hello Everyone, Welcome To Thursday');
    await sam.keyboard.press('Shift+Tab');
    await sam.keyboard.press('Shift+Tab');
    await sam.keyboard.press('Shift+Tab');
    // Still here, and still working: a message sent now reaches the room.
    await say(sam, 'Still here after closing the dialogs.');
    await sam.locator('#timeline li.msg', { hasText: 'Still here after closing the dialogs.' }).waitFor();
    assert.equal(sam.url(), inRoom);
    assert.equal(await sam.evaluate(() => document.documentElement.classList.contains('exiting')), false);
    assert.deepEqual(sam.problems, []);
  } finally {
    await sam.context().close();
  }
});

test("a mute: the member alone reads why and until when, their crisis words still reach the facilitator, and the composer waits", { timeout: 150_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true, title: 'Tuesday Evening Circle', topic: 'Anxiety & low mood', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const reason = "Let's take a breath; we'll come back to you.";
  const sam = await openPage('sam', { address: '192.0.2.20' });
  const robin = await openPage('robin', { viewport: PHONE, address: '192.0.2.21' });
  const bea = await openPage('bea', { address: '192.0.2.22' });
  const pages = [sam, robin, bea];
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(robin, base, room.id, 'Robin');
    await joinThroughUi(bea, base, room.id, 'Bea');

    await t.test('the facilitator chooses a length and writes a reason', async () => {
      const row = sam.locator('#members li.member', { hasText: 'Robin' });
      await row.locator('.menu-button').click();
      await row.getByRole('menuitem', { name: 'Mute…' }).click();
      const dialog = sam.locator('#mute-dialog');
      await dialog.waitFor();
      const lengths = await dialog.locator('input[name="mute-length"]').count();
      assert.ok(lengths >= 4, 'a choice of lengths');
      await dialog.getByLabel('15 minutes').check();
      await sam.fill('#mute-reason', reason);
      await sam.click('#mute-confirm');
      await sam.locator('#mod-log li.log-entry[data-action="mute"]', { hasText: 'muted Robin for 15 minutes' }).waitFor();
    });

    await t.test('Robin reads the reason and the end time; the room reads neither reason nor more', async () => {
      const notice = robin.locator('#mute-notice');
      await notice.waitFor();
      assert.match(await notice.innerText(), /A facilitator has muted you until \d/);
      assert.equal((await robin.locator('#mute-reason-text').innerText()).trim(), reason);
      // The room reads when it ends, written as the schedule writes a time ("3:35 PM").
      const muted = bea.locator('#timeline li.event', { hasText: 'Robin is muted until' });
      await muted.waitFor();
      const written = await bea.evaluate(() => {
        const f = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
        return [13, 14, 15, 16, 17].map((m) => f.format(Date.now() + m * 60_000));
      });
      const line = (await muted.innerText()).trim();
      assert.ok(written.some((t) => line.includes(`Robin is muted until ${t}.`)), `${line} (expected one of ${written})`);
      // The composer waits, says why, and keeps what she writes.
      await robin.locator('#composer-input[aria-disabled="true"]').waitFor();
      assert.ok(await robin.locator('#send-button').isDisabled());
      assert.match(await robin.locator('#composer-hint').innerText(), /You are muted until \d/);

      // Nobody is shown typing who may not post. Her page sends no `typing` while its
      // composer waits, so a second connection of hers sends one, as a client that
      // does not stop would; then raises her hand, which reaches Bea after anything
      // the room sent her before it.
      await bea.evaluate(() => {
        const typing = document.getElementById('typing');
        window.typingShown = [];
        new MutationObserver(() => window.typingShown.push(typing.textContent))
          .observe(typing, { childList: true, characterData: true, subtree: true });
      });
      const second = await secondConnection(robin, room.id);
      await second.send({ type: 'typing' });
      await second.send({ type: 'hand', raised: true });
      const hand = bea.locator('#members li.member.hand-raised', { hasText: 'Robin' });
      await hand.waitFor();
      assert.deepEqual(await bea.evaluate(() => window.typingShown), [], 'Robin was never shown typing');
      // Nor did anything of the mute reach Bea but the line that she is muted.
      assert.equal(await bea.locator('body', { hasText: reason }).count(), 0, 'the room never sees the reason');
      assert.equal(await bea.locator('#mute-notice').count(), 0);
      await second.send({ type: 'hand', raised: false });
      await hand.waitFor({ state: 'detached' });
      await second.close();
      await robin.screenshot({ path: path.join(SHOTS, 'kindred-e2e-muted.png') });
    });

    await t.test("her crisis words reach the facilitator's alert with the words, and her card says they were not shared", async () => {
      await say(robin, 'I want to end it all');
      const card = robin.locator('#crisis-card');
      await card.waitFor();
      const text = await card.innerText();
      assert.match(text, /Your message was not shared with the group \(you are muted\)/);
      assert.match(text, /A facilitator has been told/);
      assert.equal(await robin.inputValue('#composer-input'), 'I want to end it all', 'her words stay in the box');
      await robin.locator('#composer-status[data-code="muted"]').waitFor();

      const alert = sam.locator('#alerts li.alert[data-kind="crisis"]');
      await alert.waitFor();
      assert.equal((await alert.locator('blockquote').innerText()).trim(), 'I want to end it all');
      assert.match(await alert.innerText(), /The group did not see these words/);
      assert.equal(await alert.getByRole('button', { name: 'Go to message' }).count(), 0, 'no message to go to');
      // The room's next message reaches Bea after hers would have.
      await say(sam, 'Let us take a short break and come back in five minutes.');
      await bea.locator('#timeline li.msg', { hasText: 'a short break' }).waitFor();
      assert.equal(await bea.locator('#timeline li.msg', { hasText: 'end it all' }).count(), 0);
      await sam.screenshot({ path: path.join(SHOTS, 'kindred-e2e-crisis-alert.png') });
      await robin.click('#crisis-seen-button');
    });

    await t.test('a reload gives her the notice again; the unmute clears it and the composer comes back', async () => {
      await robin.reload();
      await robin.locator('#conn-status[data-state="live"]').waitFor();
      await robin.locator('#mute-notice', { hasText: reason }).waitFor();
      await robin.locator('#composer-input[aria-disabled="true"]').waitFor();
      const row = sam.locator('#members li.member', { hasText: 'Robin' });
      await row.locator('.menu-button').click();
      await row.getByRole('menuitem', { name: 'Unmute' }).click();
      await robin.locator('#mute-notice').waitFor({ state: 'detached' });
      await robin.locator('#composer-input:not([aria-disabled="true"])').waitFor();
      // Unmuted, she is shown typing again: the same frame on a second connection
      // now reaches Bea (so the check above looked where typing would show).
      const second = await secondConnection(robin, room.id);
      await second.send({ type: 'typing' });
      await bea.locator('#typing', { hasText: 'Robin is typing' }).waitFor();
      await second.close();
      await say(robin, 'Thank you, I am ready now.');
      await bea.locator('#timeline li.msg', { hasText: 'I am ready now.' }).waitFor();
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});

test('private messages have a panel of their own, survive a reload, and crisis words in one bring help', { timeout: 120_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true, title: 'Sunday Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '192.0.2.30' });
  const lou = await openPage('lou', { viewport: PHONE, address: '192.0.2.31' });
  const pages = [sam, lou];
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(lou, base, room.id, 'Lou');

    await t.test("a facilitator's check-in shows on the phone's Private button until read", async () => {
      const row = sam.locator('#members li.member', { hasText: 'Lou' });
      await row.locator('.menu-button').click();
      await row.getByRole('menuitem', { name: 'Whisper to Lou' }).click();
      await sam.keyboard.type('Hi Lou, just checking in. How are you doing?');
      await sam.keyboard.press('Enter');
      const button = lou.locator('#private-button');
      await button.locator('.count-badge', { hasText: '1' }).waitFor();
      assert.match(await button.innerText(), /Private\s*1/);
      await lou.getByRole('button', { name: 'Private 1 new' }).waitFor();
      await button.click();
      await lou.locator('#whispers li', { hasText: 'just checking in' }).waitFor({ state: 'visible' });
      await button.locator('.count-badge').waitFor({ state: 'hidden' });
      await lou.fill('#whisper-text', 'Thank you, a bit wobbly but ok.');
      await lou.press('#whisper-text', 'Enter');
      await sam.locator('#whispers li', { hasText: 'a bit wobbly' }).waitFor();
    });

    await t.test('a reload keeps the conversation, each message once, and nothing is stored in the browser', async () => {
      await lou.reload();
      await lou.locator('#conn-status[data-state="live"]').waitFor();
      await lou.locator('#whispers li', { hasText: 'a bit wobbly' }).waitFor({ state: 'attached' });
      await lou.locator('#whispers li', { hasText: 'just checking in' }).waitFor({ state: 'attached' });
      assert.equal(await lou.locator('#whispers li').count(), 2);
      const stored = await lou.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
      assert.doesNotMatch(stored, /wobbly|checking in/);
      // The facilitator reloads too: still each once.
      await sam.reload();
      await sam.locator('#conn-status[data-state="live"]').waitFor();
      await sam.locator('#whispers li', { hasText: 'a bit wobbly' }).waitFor();
      assert.equal(await sam.locator('#whispers li').count(), 2);
    });

    await t.test('crisis words in a private message bring the card, and the facilitator the words', async () => {
      await lou.click('#private-button');
      await lou.fill('#whisper-text', 'honestly I want to kill myself');
      await lou.press('#whisper-text', 'Enter');
      const card = lou.locator('#crisis-card');
      await card.waitFor();
      assert.match(await card.innerText(), /Your private message went only to the facilitators/);
      assert.match(await card.innerText(), /A facilitator has been told/);
      const alert = sam.locator('#alerts li.alert[data-kind="crisis"]');
      await alert.waitFor();
      assert.match(await alert.locator('blockquote').innerText(), /want to kill myself/);
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});

test('the composer waits with its reason during a pause, on a phone and a wide screen, and comes back after', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: false, title: 'Grounding Group', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '192.0.2.40' });
  const phone = await openPage('pip', { viewport: PHONE, address: '192.0.2.41' });
  const wide = await openPage('oli', { viewport: DESKTOP, address: '192.0.2.42' });
  const pages = [sam, phone, wide];
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(phone, base, room.id, 'Pip');
    await joinThroughUi(wide, base, room.id, 'Oli');
    await sam.click('#pause-button');
    await sam.click('dialog.dialog button[value="ok"]');
    for (const page of [phone, wide]) {
      const input = page.locator('#composer-input[aria-disabled="true"]');
      await input.waitFor();
      assert.match(await page.locator('#composer-hint').innerText(), /paused for a moment: only facilitators can post/);
      await page.locator('#composer-input').fill('A draft for later', { force: true });
      await page.press('#composer-input', 'Enter');
      await page.locator('#composer-status[data-code="paused"]').waitFor();
      // Pressed again: still one line, not a pile of refusals.
      await page.press('#composer-input', 'Enter');
      assert.equal(await page.locator('#composer-status').count(), 1);
      assert.equal(await page.locator('#outbox li').count(), 0);
      // The reason sits with the box: both in sight together.
      await page.locator('#composer').scrollIntoViewIfNeeded();
      await inView(page, page.locator('#composer-hint'), `the reason at ${page.viewportSize().width} px`);
      await inView(page, page.locator('#composer-input'), `the box at ${page.viewportSize().width} px`);
    }
    await phone.screenshot({ path: path.join(SHOTS, 'kindred-e2e-paused-phone.png') });
    await sam.click('#pause-button');
    for (const page of [phone, wide]) {
      await page.locator('#composer-input:not([aria-disabled="true"])').waitFor();
      await page.locator('#composer-status').waitFor({ state: 'hidden' });
      assert.equal(await page.inputValue('#composer-input'), 'A draft for later', 'the draft was kept');
      assert.match(await page.locator('#composer-hint').innerText(), /Enter sends/);
    }
    await say(phone, 'Back again.');
    await wide.locator('#timeline li.msg', { hasText: 'Back again.' }).waitFor();
    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});
