// Browser end-to-end check of a whole session on the script that ships, in the
// bundled web client against a real `kindred` (harness.js starts it and Debian's
// Chromium): a facilitator runs the default script with two participants, Ana on a
// 360×740 phone and Ben on a desktop. At the check-in both are offered the prompt:
// Ana gives a mood with a few words and shares, Ben skips it and passes. Open sharing
// runs from the queue; at the check-out both give a mood. The facilitator sees each
// mood beside its member and the spread, never a participant; at the close the
// facilitator is shown the debrief with the session's counts, which stays on screen.
// A missing binary or browser fails the test: it never skips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useKindred, api, openPage, joinThroughUi, say, assertAccessible, base, serverLog,
} from './harness.js';

useKindred();

const TALL_PHONE = { width: 360, height: 740 };

test('a facilitator runs the default script with check-in, sharing, check-out and the debrief', { timeout: 180_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    title: 'Thursday Evening Circle',
    topic: 'Living with anxiety',
    capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { ttl_seconds: 3600 }, true);
  const sam = await openPage('sam', { address: '203.0.113.70' });
  const ana = await openPage('ana', { address: '203.0.113.71', viewport: TALL_PHONE });
  const ben = await openPage('ben', { address: '203.0.113.72' });
  const pages = [sam, ana, ben];
  const script = (page) => page.locator('#session-script');
  const prompt = (page) => page.locator('#mood-prompt');
  const nextPhase = async (name) => {
    await sam.getByRole('button', { name: `Next: ${name}` }).click();
    for (const page of pages) await script(page).locator('#phase-name', { hasText: name }).waitFor();
  };
  try {
    await joinThroughUi(sam, base, room.id, 'Sam', invite.token);
    await joinThroughUi(ana, base, room.id, 'Ana');
    await joinThroughUi(ben, base, room.id, 'Ben');
    await sam.locator('#members li.member', { hasText: 'Ben' }).waitFor();

    await t.test('check-in: both are offered the prompt; Ana gives a mood and shares, Ben skips and passes', async () => {
      await sam.getByRole('button', { name: 'Start script' }).click();
      await script(ana).locator('#phase-name', { hasText: 'Welcome and guidelines' }).waitFor();
      assert.equal(await prompt(ana).isHidden(), true, 'no prompt before the check-in');
      await nextPhase('Check-in');
      for (const page of [ana, ben]) {
        await prompt(page).locator('h2', { hasText: 'How are you arriving?' }).waitFor();
      }
      assert.equal(await prompt(sam).isHidden(), true, 'a facilitator is not asked');
      // Five large targets in one row on the phone, and nothing runs off the side.
      const moods = prompt(ana).locator('button.mood');
      assert.equal(await moods.count(), 5);
      for (const box of await Promise.all((await moods.all()).map((b) => b.boundingBox()))) {
        assert.ok(box.height >= 44 && box.width >= 56, `a mood is ${box.width}×${box.height} px`);
      }
      const width = await ana.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= TALL_PHONE.width, `the page is ${width} px wide on a 360 px phone`);
      await assertAccessible(ana, 'the check-in prompt on a phone');

      await prompt(ana).locator('#mood-words').fill('tired but here');
      await prompt(ana).getByRole('button', { name: '2 Low' }).click();
      await prompt(ana).waitFor({ state: 'hidden' });
      await ana.locator('#notices', { hasText: 'Only the facilitators will see it.' }).waitFor();
      await script(ana).locator('#turn-now', { hasText: "It's your turn" }).waitFor();
      await say(ana, 'Glad to be here with you all tonight.');
      await ben.locator('#timeline li.msg', { hasText: 'Glad to be here with you all tonight.' }).waitFor();

      // The facilitator sees it beside Ana's name, and the spread.
      await sam.locator('#members li.member', { hasText: 'Ana' })
        .locator('.mood-line', { hasText: 'in 2/5 “tired but here”' }).waitFor();
      await sam.locator('#mood-spread tbody tr', { hasText: 'Arriving' }).waitFor();
      assert.deepEqual(
        await sam.locator('#mood-spread tbody tr').first().locator('td').allInnerTexts(),
        ['0', '1', '0', '0', '0'],
      );

      await sam.getByRole('button', { name: 'Next turn' }).click();
      await prompt(ben).getByRole('button', { name: 'Skip' }).click();
      await prompt(ben).waitFor({ state: 'hidden' });
      await script(ben).locator('#turn-now', { hasText: "It's your turn" }).waitFor();
      await script(ben).getByRole('button', { name: 'Pass' }).click();
      await script(sam).locator('#turn-now', { hasText: 'Everyone has had a turn.' }).waitFor();
    });

    await t.test('open sharing: both ask to share and the facilitator gives Ana the floor', async () => {
      await nextPhase('Open sharing');
      await script(ana).getByRole('button', { name: "I'd like to share" }).click();
      await script(ana).locator('#queue-place', { hasText: 'You are 1st in the queue to share.' }).waitFor();
      await script(ben).getByRole('button', { name: "I'd like to share" }).click();
      await script(ben).locator('#queue-place', { hasText: 'You are 2nd in the queue to share.' }).waitFor();
      await script(sam).getByRole('button', { name: 'Give the floor to Ana' }).click();
      await ana.locator('#floor-note', { hasText: 'You have the floor' }).waitFor();
      await say(ana, 'I walked to the sea on Sunday.');
      await ben.locator('#timeline li.msg', { hasText: 'I walked to the sea on Sunday.' }).waitFor();
    });

    await t.test('check-out: both give a mood, and everyone has a turn', async () => {
      await nextPhase('Check-out');
      await prompt(ana).locator('h2', { hasText: 'How are you leaving?' }).waitFor();
      await prompt(ana).getByRole('button', { name: '4 Good' }).click();
      await prompt(ben).locator('#mood-words').fill('calmer');
      await prompt(ben).getByRole('button', { name: '3 Okay' }).click();
      await sam.locator('#members li.member', { hasText: 'Ben' })
        .locator('.mood-line', { hasText: 'out 3/5 “calmer”' }).waitFor();
      await sam.locator('#members li.member', { hasText: 'Ana' })
        .locator('.mood-line', { hasText: 'in 2/5 “tired but here” · out 4/5' }).waitFor();
      await sam.getByRole('button', { name: 'Next turn' }).click();
      await script(ben).locator('#turn-now', { hasText: "It's your turn" }).waitFor();
      await sam.getByRole('button', { name: 'Next turn' }).click();
      await script(sam).locator('#turn-now', { hasText: 'Everyone has had a turn.' }).waitFor();
    });

    await t.test('a participant never sees anyone\'s mood', async () => {
      for (const page of [ana, ben]) {
        const text = await page.locator('body').innerText();
        assert.ok(!text.includes('tired but here') && !text.includes('calmer'), `${page.name} saw someone's words`);
        assert.equal(await page.locator('.mood-line, #mood-panel, #mood-spread').count(), 0, `${page.name} has a facilitator's view`);
      }
    });

    await t.test('the facilitator closes the session and keeps the debrief on screen', async () => {
      await sam.click('#close-session-button');
      await sam.locator('dialog.dialog').waitFor();
      await sam.click('dialog.dialog button[value="ok"]');
      await ana.locator('.banner.ended', { hasText: 'This session has ended.' }).waitFor();
      const debrief = sam.locator('#debrief');
      await debrief.waitFor({ state: 'visible' });
      await sam.locator('.banner.ended', { hasText: 'This session has ended.' }).waitFor();
      const fact = async (name) => (await debrief.locator(`dd[data-fact="${name}"]`).innerText()).trim();
      assert.equal(await fact('members'), '2 came, 2 at most at once');
      assert.equal(await fact('messages'), '2');
      assert.equal(await fact('rounds'), '2: 3 shared, 1 passed');
      assert.equal(await fact('alerts'), 'none');
      const rows = debrief.locator('#debrief-spread tbody tr');
      assert.deepEqual(await rows.nth(0).locator('td').allInnerTexts(), ['0', '1', '0', '0', '0']);
      assert.deepEqual(await rows.nth(1).locator('td').allInnerTexts(), ['0', '0', '1', '1', '0']);
      const words = await debrief.innerText();
      for (const said of ['the sea', 'Glad to be here', 'tired but here', 'calmer', 'Ana', 'Ben']) {
        assert.ok(!words.includes(said), `the debrief shows "${said}"`);
      }
      assert.equal(await ana.locator('#debrief').isHidden(), true, 'a participant has no debrief');
      await assertAccessible(sam, 'the debrief after the close');
    });

    for (const page of pages) assert.deepEqual(page.problems, [], `${page.name}: errors on the page`);
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const page of pages) await page.context().close();
  }
});
