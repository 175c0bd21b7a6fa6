// Content warnings and sharing the air in the browser: the composer offers the
// room's warning topics; a facilitator covers a message after it was shared and a
// participant sees it collapsed behind the topic, then opens it; the facilitator's
// people list says quietly who hasn't spoken yet and who is here for the first
// time, and a participant's never does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useKindred, api, openPage, joinAt, joinThroughUi, say, base, DESKTOP, PHONE } from './harness.js';

useKindred();

/** Join through the form, ticking "This is my first time here". */
async function joinFirstTime(page, roomId, name) {
  await page.goto(`${base}/?room=${encodeURIComponent(roomId)}`);
  await page.locator('#guidelines').waitFor();
  assert.equal(await page.isChecked('#first-time'), false, 'unticked by default');
  await page.check('#accept');
  await page.check('#first-time');
  await page.fill('#pseudonym', name);
  await page.click('#join-button');
  await page.locator('#conn-status[data-state="live"]').waitFor();
}

async function openRoom() {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: false, title: 'Tuesday Evening Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  return { room, invite };
}

test("the facilitator's people list shows who hasn't spoken yet and who is new, and a participant's never does", { timeout: 90_000 }, async () => {
  const { room, invite } = await openRoom();
  const sam = await openPage('sam', { viewport: DESKTOP, address: '198.51.100.70' });
  const ash = await openPage('ash', { viewport: DESKTOP, address: '198.51.100.71' });
  const bea = await openPage('bea', { viewport: DESKTOP, address: '198.51.100.72' });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinFirstTime(ash, room.id, 'Ash');
    await joinThroughUi(bea, base, room.id, 'Bea');
    const row = (page, name) => page.locator('#members li.member', { hasText: name });

    // Nobody has spoken: both say so; Ash is here for the first time.
    await row(sam, 'Bea').locator('.status.air', { hasText: "hasn't spoken yet" }).waitFor();
    await row(sam, 'Ash').locator('.status.air', { hasText: 'first time here' }).waitFor();

    await say(ash, 'hello, I am a bit nervous');
    await bea.locator('#timeline .msg-text', { hasText: 'a bit nervous' }).waitFor();
    // Ash has spoken now: still new here, no longer silent. Bea still silent.
    await row(sam, 'Ash').locator('.status.air', { hasNotText: "hasn't spoken yet" }).filter({ hasText: 'first time here' }).waitFor();
    assert.match(await row(sam, 'Bea').locator('.status.air').innerText(), /hasn't spoken yet/);

    // A participant sees none of it, after the facilitator was shown the new figures.
    for (const page of [ash, bea]) {
      assert.equal(await page.locator('#members .status.air').count(), 0);
      assert.doesNotMatch(await page.locator('#members').innerText(), /spoken|first time/);
    }
    assert.deepEqual(sam.problems, []);
    assert.deepEqual(ash.problems, []);
    assert.deepEqual(bea.problems, []);
  } finally {
    await sam.context().close();
    await ash.context().close();
    await bea.context().close();
  }
});

test('a facilitator adds a content warning to a message and a participant sees it folded behind the topic, then opens it', { timeout: 90_000 }, async () => {
  const { room, invite } = await openRoom();
  const sam = await openPage('sam', { viewport: DESKTOP, address: '198.51.100.80' });
  const ash = await openPage('ash', { viewport: DESKTOP, address: '198.51.100.81' });
  const bea = await openPage('bea', { viewport: PHONE, address: '198.51.100.82' });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(ash, base, room.id, 'Ash');
    await joinThroughUi(bea, base, room.id, 'Bea');

    const words = 'The anniversary of his death is next week and I keep thinking about it';
    await say(ash, words);
    const message = (page) => page.locator('#timeline li.msg', { hasText: 'Ash' }).last();
    await bea.locator('#timeline .msg-text', { hasText: 'anniversary' }).waitFor();

    await message(sam).getByRole('button', { name: 'Add a content warning' }).click();
    const dialog = sam.locator('dialog');
    await dialog.locator('#dialog-input').fill('grief');
    await dialog.getByRole('button', { name: 'Add the warning' }).click();

    // Bea's copy folds behind the topic, the words hidden until she opens them.
    const toggle = message(bea).locator('.cw-toggle');
    await toggle.waitFor();
    assert.match(await toggle.innerText(), /Content warning: grief/);
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await message(bea).locator('.msg-text').isVisible(), false, 'the words are folded away');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.equal(await message(bea).locator('.msg-text').innerText(), words);
    await sam.locator('#mod-log', { hasText: 'added a content warning' }).waitFor({ state: 'attached' });

    // The composer offers the room's topics: one tap labels the next message.
    await bea.getByRole('button', { name: 'Add a content warning' }).first().click();
    const topics = bea.locator('#cw-topics');
    await topics.getByRole('button', { name: 'self-harm' }).click();
    assert.equal(await bea.locator('#cw-input').inputValue(), 'self-harm');
    await say(bea, 'it has been a hard month for me too');
    const folded = sam.locator('#timeline li.msg', { hasText: 'Content warning: self-harm' });
    await folded.waitFor();
    assert.equal(await folded.locator('.msg-text').isVisible(), false);

    // A reload gives the history with the warning already on Ash's message.
    await bea.reload();
    await bea.locator('#conn-status[data-state="live"]').waitFor();
    await message(bea).locator('.cw-toggle', { hasText: 'Content warning: grief' }).waitFor();
    assert.deepEqual(sam.problems, []);
    assert.deepEqual(ash.problems, []);
    assert.deepEqual(bea.problems, []);
  } finally {
    await sam.context().close();
    await ash.context().close();
    await bea.context().close();
  }
});
