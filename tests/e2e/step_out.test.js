// Browser checks of a quiet word instead of a removal, and of help on every screen
// that ends a stay. A facilitator steps a participant out with a note: her screen
// says kindly why, shows the note and the help lines for her country, and lets her
// write to the facilitator, while the room sees only that she stepped out; admitted
// back, she has the room again. Someone removed, banned or turned away sees the help
// lines (for the country they chose) on the screen that tells them. A missing binary
// or browser fails the test: it never skips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useKindred, api, openPage, joinAt, joinThroughUi, joinToWait, say, base, assertAccessible, PHONE, DESKTOP, serverLog } from './harness.js';

const CARD = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kindred-e2e-card-')), 'card.json');
fs.writeFileSync(CARD, JSON.stringify({
  title: 'You are not alone',
  body: 'Someone can talk with you right now.',
  lines: [{ region: 'Elsewhere', name: 'Find A Helpline', contact: 'Lines in your country', url: 'https://findahelpline.com' }],
  countries: [
    { code: 'NZ', name: 'New Zealand', emergency: '111',
      lines: [{ region: 'New Zealand', name: 'Need to talk?', contact: 'Call or text 1737' }] },
  ],
}));

useKindred(['--resources-card', CARD]);

/** Pick New Zealand on a help panel's country picker, the way a person does. */
async function pickCountry(page, panel) {
  await page.selectOption(`#${panel}-country`, 'NZ');
  await page.locator(`#${panel} .help-name`, { hasText: 'Need to talk?' }).waitFor();
}

/** Open a member's menu in the facilitator's list and choose `item`. */
async function memberMenu(page, name, item) {
  const row = page.locator('#members li.member', { hasText: name });
  await row.locator('.menu-button').click();
  await row.getByRole('menuitem', { name: item }).click();
}

test('a quiet word: stepped out with a note, help in view, a private word, and back into the room', { timeout: 180_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', { open: true, facilitated: false, title: 'Thursday Circle', capacity: 10 }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '198.51.100.60', viewport: DESKTOP });
  const ash = await openPage('ash', { address: '198.51.100.61', viewport: PHONE });
  const bo = await openPage('bo', { address: '198.51.100.62' });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(ash, base, room.id, 'Ash');
    await joinThroughUi(bo, base, room.id, 'Bo');

    await t.test('Sam steps Ash out with a note; the room sees only that Ash stepped out', async () => {
      await memberMenu(sam, 'Ash', 'Step out for a quiet word…');
      const dialog = sam.locator('dialog.dialog', { hasText: 'Step Ash out for a quiet word?' });
      await dialog.waitFor();
      await sam.fill('#dialog-input', 'Could we talk for a moment about what you shared?');
      await dialog.getByRole('button', { name: 'Step out' }).click();

      await bo.locator('#timeline li.event', { hasText: 'Ash stepped out for a moment.' }).waitFor();
      await bo.locator('#members li.member', { hasText: 'Ash' }).waitFor({ state: 'detached' });
      assert.ok(!(await bo.content()).includes('what you shared'), "the note is not the room's");
      await sam.locator('#mod-log', { hasText: 'asked Ash to step out for a quiet word' }).waitFor({ state: 'attached' });
      const row = sam.locator('#waiting-list li.waiting-member', { hasText: 'Ash' });
      await row.waitFor({ state: 'attached' });
      assert.match(await row.innerText(), /stepped out for a quiet word/);
      await row.getByRole('button', { name: 'Admit back Ash' }).waitFor({ state: 'attached' });
    });

    await t.test("Ash's screen says kindly why, shows the note and the help lines, and no room", async () => {
      await ash.locator('#waiting-screen').waitFor({ state: 'visible' });
      assert.ok(!(await ash.locator('#composer').isVisible()), 'the room is out of sight');
      const status = await ash.locator('#waiting-status').innerText();
      assert.match(status, /A facilitator has asked for a quiet word with you\. You're not in trouble/);
      assert.match(status, /Could we talk for a moment about what you shared\?/);
      const help = ash.locator('#waiting-help-lines');
      await help.waitFor();
      assert.deepEqual(await help.locator('.help-name').allInnerTexts(), ['Find A Helpline']);
      await pickCountry(ash, 'waiting-help-lines');
      assert.match(await help.locator('#waiting-help-lines-emergency').innerText(), /111/);
      await assertAccessible(ash, 'stepped out for a quiet word, phone');
    });

    await t.test('Ash and Sam talk privately while the room goes on without her', async () => {
      await say(bo, 'Hope Ash is ok.');
      await ash.fill('#waiting-word-input', "I'm ok, just a rough day.");
      await ash.getByRole('button', { name: 'Send to the facilitators' }).click();
      await sam.locator('#whispers li', { hasText: 'just a rough day' }).waitFor({ state: 'attached' });
      const row = sam.locator('#waiting-list li.waiting-member', { hasText: 'Ash' });
      await sam.evaluate(() => document.querySelector('#waiting-panel')?.scrollIntoView());
      await row.getByRole('button', { name: 'Write to Ash' }).click();
      const dialog = sam.locator('dialog.dialog', { hasText: 'Write to Ash' });
      await dialog.waitFor();
      await sam.fill('#dialog-input', 'Thank you for telling me. Ready to come back in?');
      await dialog.getByRole('button', { name: 'Send' }).click();
      await ash.locator('#waiting-words li', { hasText: 'Ready to come back in?' }).waitFor();
      assert.ok(!(await ash.content()).includes('Hope Ash is ok'), "the room's words never reach her screen");
    });

    await t.test('Sam admits Ash back, and she sees the room again', async () => {
      const row = sam.locator('#waiting-list li.waiting-member', { hasText: 'Ash' });
      await row.getByRole('button', { name: 'Admit back Ash' }).click();
      await ash.locator('#composer').waitFor({ state: 'visible' });
      await ash.locator('#waiting-screen').waitFor({ state: 'hidden' });
      await bo.locator('#timeline li.event', { hasText: 'Ash joined the room.' }).waitFor();
      await say(bo, 'Welcome back, Ash.');
      await ash.locator('#timeline li.msg', { hasText: 'Welcome back, Ash.' }).waitFor();
    });
    for (const page of [sam, ash, bo]) assert.deepEqual(page.problems, [], `${page.e2eName || 'a page'} had no errors`);
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const page of [sam, ash, bo]) await page.context().close();
  }
});

test('removed, banned or turned away: the screen that says so shows the help lines for the chosen country', { timeout: 180_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', { open: true, facilitated: false, title: 'Friday Circle', capacity: 10 }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '198.51.100.70', viewport: DESKTOP });
  const pages = [sam];
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    const cases = [
      { name: 'Rue', end: 'remove', says: /A facilitator has removed you from this room\./ },
      { name: 'Kai', end: 'ban', says: /asked you to leave this group/ },
      { name: 'Lee', end: 'deny', says: /wasn't able to let you into this session/ },
    ];
    for (const [i, c] of cases.entries()) {
      await t.test(`${c.name}, ${c.end === 'deny' ? 'turned away' : c.end === 'ban' ? 'banned' : 'removed'}, sees the help lines`, async () => {
        const page = await openPage(c.name.toLowerCase(), { address: `198.51.100.${71 + i}`, viewport: PHONE });
        pages.push(page);
        if (c.end === 'deny') {
          await sam.locator('#waiting-room-button').click();
          await sam.locator('#waiting-room-button[aria-pressed="true"]').waitFor();
          await joinToWait(page, `${base}/?room=${encodeURIComponent(room.id)}`, c.name);
        } else {
          await joinThroughUi(page, base, room.id, c.name);
        }
        // Chosen before the end, from "Need help now": the ending screen keeps it.
        await page.locator('#need-help-link').click();
        await page.selectOption('#help-country', 'NZ');
        await page.locator('#crisis-card .help-name', { hasText: 'Need to talk?' }).waitFor();
        await page.locator('#crisis-seen-button').click();

        if (c.end === 'deny') {
          const row = sam.locator('#waiting-list li.waiting-member', { hasText: c.name });
          await row.getByRole('button', { name: `Turn away ${c.name}` }).click();
          await sam.locator('dialog.dialog', { hasText: `Turn ${c.name} away?` })
            .getByRole('button', { name: 'Turn away' }).click();
        } else {
          await memberMenu(sam, c.name, c.end === 'ban' ? 'Ban from the group…' : 'Remove from the room…');
          await sam.click('dialog.dialog button[value="ok"]');
        }
        const where = c.end === 'deny' ? '#waiting-status' : '.banner.ended';
        await page.locator(where, { hasText: c.says }).waitFor();
        const help = page.locator('#ending-help');
        await help.waitFor();
        assert.deepEqual(await help.locator('.help-name').allInnerTexts(), ['Need to talk?'], 'the lines of the country chosen');
        assert.equal(await page.inputValue('#ending-help-country'), 'NZ');
        assert.match(await help.locator('#ending-help-emergency').innerText(), /111/);
        await assertAccessible(page, `${c.end}: the ending screen with the help lines, phone`);
        assert.deepEqual(page.problems, [], `${c.name}'s page had no errors`);
      });
    }
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const page of pages) await page.context().close();
  }
});
