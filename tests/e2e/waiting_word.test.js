// Browser checks of a word before admission and of a concern that accuses nobody.
// A facilitator writes to someone in the waiting room and reads her reply, and posts
// a note to everyone waiting, while a member in the room sees none of it; a member
// worried about another tells the facilitators from the message that worried him,
// is thanked, and the one he is worried about is never told who. A missing binary or
// browser fails the test: it never skips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useKindred, api, openPage, joinAt, joinThroughUi, say, base, assertAccessible, joinToWait } from './harness.js';

useKindred();

test('a word before admission, and a concern that names nobody to the one it is about', { timeout: 180_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    title: 'Tuesday Evening Circle',
    capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '198.51.100.30' });
  const bob = await openPage('bob', { address: '198.51.100.31' });
  const cal = await openPage('cal', { address: '198.51.100.32' });
  const ana = await openPage('ana', { address: '198.51.100.33', viewport: { width: 360, height: 740 } });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(bob, base, room.id, 'Bob');
    await joinThroughUi(cal, base, room.id, 'Cal');
    // The waiting room goes on: Ana, who arrives now, waits.
    await sam.locator('#waiting-room-button').click();
    await sam.locator('#waiting-room-button[aria-pressed="true"]').waitFor();
    await joinToWait(ana, `${base}/?room=${encodeURIComponent(room.id)}`, 'Ana');

    await t.test('the facilitator writes to Ana while she waits, and reads her reply', async () => {
      const row = sam.locator('#waiting-list li.waiting-member', { hasText: 'Ana' });
      await row.waitFor({ state: 'attached' });
      await sam.evaluate(() => document.querySelector('#waiting-panel')?.scrollIntoView());
      await row.getByRole('button', { name: 'Write to Ana' }).click();
      const dialog = sam.locator('dialog.dialog', { hasText: 'Write to Ana' });
      await dialog.waitFor();
      await sam.fill('#dialog-input', 'Hi Ana, welcome. Is this your first time with us?');
      await dialog.getByRole('button', { name: 'Send' }).click();

      const words = ana.locator('#waiting-words li', { hasText: 'Is this your first time' });
      await words.waitFor();
      assert.match(await words.innerText(), /^Sam/);
      assert.ok(!(await ana.locator('#composer').isVisible()), 'still no room while waiting');
      await ana.fill('#waiting-word-input', 'Yes, first time. A bit nervous.');
      await ana.getByRole('button', { name: 'Send to the facilitators' }).click();
      await ana.locator('#waiting-words li.mine', { hasText: 'A bit nervous' }).waitFor();
      assert.equal(await ana.inputValue('#waiting-word-input'), '', 'the box is empty once it is sent');
      const reply = sam.locator('#whispers li', { hasText: 'A bit nervous' });
      await reply.waitFor({ state: 'attached' });
      assert.match(await reply.innerText(), /Ana → /);
      await assertAccessible(ana, 'the waiting screen with a word from the facilitator, phone');
    });

    await t.test('a note to everyone waiting reaches Ana, and nobody in the room', async () => {
      await sam.getByRole('button', { name: 'Note to everyone waiting' }).click();
      const dialog = sam.locator('dialog.dialog', { hasText: 'A note to everyone waiting' });
      await dialog.waitFor();
      await sam.fill('#dialog-input', 'We start sharing at 7:05; thank you for waiting.');
      await dialog.getByRole('button', { name: 'Send the note' }).click();
      const note = ana.locator('#waiting-words li', { hasText: 'We start sharing at 7:05' });
      await note.waitFor();
      assert.match(await note.innerText(), /Sam, to everyone waiting/);
      await sam.locator('#whispers li', { hasText: 'We start sharing at 7:05' }).waitFor({ state: 'attached' });
      // The room heard none of it: neither the word with Ana, nor the note.
      await say(bob, 'Evening all.');
      await sam.locator('#timeline li.msg', { hasText: 'Evening all.' }).waitFor();
      const bobPage = await bob.content();
      for (const words of ['first time', 'A bit nervous', '7:05']) {
        assert.ok(!bobPage.includes(words), `Bob's page holds nothing of the waiting room's words: ${words}`);
      }
    });

    await t.test('Bob is worried about Cal: the facilitator is told who and why, Cal is told nothing', async () => {
      await say(cal, 'Honestly I have stopped eating much this week.');
      const message = bob.locator('#timeline li.msg', { hasText: 'stopped eating' });
      await message.waitFor();
      assert.equal(await cal.locator('#timeline li.msg', { hasText: 'stopped eating' })
        .getByRole('button', { name: "I'm worried" }).count(), 0, 'nobody is offered a concern about themselves');
      await message.getByRole('button', { name: "I'm worried" }).click();
      const dialog = bob.locator('dialog.dialog', { hasText: 'Worried about Cal?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Tell the facilitators' }).click();
      await bob.locator('#notices', { hasText: 'Thank you for looking out for Cal' }).waitFor();
      assert.match(await bob.locator('#notices').innerText(), /The facilitators have been told, and Cal will not be told it was you/);

      const alert = sam.locator('#alerts li.alert[data-kind="concern"]');
      await alert.waitFor({ state: 'attached' });
      const text = await alert.innerText();
      assert.match(text, /Bob is worried about Cal/);
      assert.match(text, /stopped eating/, 'the message that worried him, quoted');
      // Cal, the one it is about, holds nothing that names who was worried.
      await say(sam, 'Cal, would you like a private word later?');
      await cal.locator('#timeline li.msg', { hasText: 'a private word later' }).waitFor();
      const calPage = await cal.content();
      assert.ok(!calPage.includes('worried about'), "Cal's page says nothing of the concern");
      assert.equal(await cal.locator('#alerts li.alert').count(), 0);
    });
    for (const page of [sam, bob, cal, ana]) assert.deepEqual(page.problems, [], `${page.e2eName || 'a page'} had no errors`);
  } finally {
    for (const page of [sam, bob, cal, ana]) await page.context().close();
  }
});
