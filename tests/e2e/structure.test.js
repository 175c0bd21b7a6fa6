// Browser end-to-end check of the structured group in the bundled web client, against
// a real `kindred` (harness.js starts it and Debian's Chromium): a facilitator starts
// the script that ships, posts the opening reading, runs the check-in round (one
// participant, on a 360 px phone, passes with the keyboard; the other shares), and
// opens sharing from a queue of two, moving one up and giving them the floor.
// A missing binary or browser fails the test: it never skips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useKindred, api, openPage, joinThroughUi, say, assertAccessible, base, PHONE,
} from './harness.js';

useKindred();

test('a facilitator runs the check-in round with a pass and a sharing queue of two', { timeout: 150_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    title: 'Wednesday Evening Circle',
    topic: 'Living with low mood',
    capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { ttl_seconds: 3600 }, true);
  const sam = await openPage('sam', { address: '203.0.113.60' });
  const ana = await openPage('ana', { address: '203.0.113.61', viewport: PHONE });
  const ben = await openPage('ben', { address: '203.0.113.62' });
  const pages = [sam, ana, ben];
  const script = (page) => page.locator('#session-script');
  try {
    await joinThroughUi(sam, base, room.id, 'Sam', invite.token);
    await joinThroughUi(ana, base, room.id, 'Ana');
    await joinThroughUi(ben, base, room.id, 'Ben');

    await t.test('the facilitator starts the script and posts the opening reading', async () => {
      assert.equal(await script(ana).isHidden(), true, 'nothing shows before the group starts');
      await sam.getByRole('button', { name: 'Start script' }).click();
      for (const page of pages) {
        await script(page).locator('#phase-name', { hasText: 'Welcome and guidelines' }).waitFor();
      }
      assert.match(await script(ana).locator('.phase-time').innerText(), /left$/);
      await sam.getByRole('button', { name: 'Post the reading' }).click();
      await ana.locator('#announcement', { hasText: 'listening is participating' }).waitFor();
    });

    await t.test('check-in: Ana passes with the keyboard on her phone, Ben shares, and the round ends', async () => {
      await sam.getByRole('button', { name: 'Next: Check-in' }).click();
      await script(ben).locator('#phase-prompt', { hasText: 'How are you arriving tonight?' }).waitFor();
      await script(ana).locator('#turn-now', { hasText: "It's your turn" }).waitFor();
      await script(ben).locator('#turn-now', { hasText: "Ana's turn" }).waitFor();
      assert.match(await script(ben).locator('.turn-time').innerText(), /\d:\d\d left/);
      assert.equal(await script(ben).locator('#pass-button').count(), 0, 'only the member whose turn it is can pass');
      // Usable on a 360 px phone: nothing runs off the side, and no serious axe finding.
      const width = await ana.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= PHONE.width, `the page is ${width} px wide on a ${PHONE.width} px phone`);
      await assertAccessible(ana, 'a phone during the check-in round');
      await ana.locator('#pass-button').focus();
      await ana.keyboard.press('Enter');
      await sam.locator('#timeline li.event', { hasText: 'Ana passed: listening is participating.' }).waitFor();
      await script(ben).locator('#turn-now', { hasText: "It's your turn" }).waitFor();
      await say(ben, 'Arriving tired, but glad to be here.');
      await ana.locator('#timeline li.msg', { hasText: 'Arriving tired, but glad to be here.' }).waitFor();
      await sam.getByRole('button', { name: 'Next turn' }).click();
      for (const page of pages) {
        await script(page).locator('#turn-now', { hasText: 'Everyone has had a turn.' }).waitFor();
      }
      assert.deepEqual(
        await script(sam).locator('.turns li').allTextContents(),
        ['Ana (passed)', 'Ben (shared)'],
      );
    });

    await t.test('open sharing: two ask to share, the facilitator moves Ben up and gives him the floor', async () => {
      await sam.getByRole('button', { name: 'Next: Open sharing' }).click();
      await script(ana).locator('#queue-place', { hasText: 'Nobody is waiting to share yet.' }).waitFor();
      await script(ana).getByRole('button', { name: "I'd like to share" }).click();
      await script(ana).locator('#queue-place', { hasText: 'You are 1st in the queue to share.' }).waitFor();
      await script(ben).getByRole('button', { name: "I'd like to share" }).click();
      await script(ben).locator('#queue-place', { hasText: 'You are 2nd in the queue to share.' }).waitFor();
      const order = script(sam).locator('.queue-list li span');
      await sam.waitForFunction(() => document.querySelectorAll('#session-script .queue-list li').length === 2);
      assert.deepEqual(await order.allInnerTexts(), ['Ana', 'Ben']);
      await script(sam).getByRole('button', { name: 'Move Ben up' }).click();
      await script(ben).locator('#queue-place', { hasText: 'You are 1st in the queue to share.' }).waitFor();
      await script(sam).getByRole('button', { name: 'Give the floor to Ben' }).click();
      await ben.locator('#floor-note', { hasText: 'You have the floor' }).waitFor();
      await script(ana).locator('#queue-place', { hasText: 'You are 1st in the queue to share.' }).waitFor();
      await say(ben, 'This week was hard, but I walked every day.');
      await ana.locator('#timeline li.msg', { hasText: 'I walked every day.' }).waitFor();
    });

    for (const page of pages) assert.deepEqual(page.problems, [], `${page.name}: errors on the page`);
  } finally {
    for (const page of pages) await page.context().close();
  }
});
