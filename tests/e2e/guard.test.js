// The guardrail's question in the browser, on a phone: a message with graphic detail
// in it is not shared; its author is asked where the message waits, with four
// choices reachable by keyboard and the question said once through the announcer.
// "Add a content warning and send" delivers it to another member behind a warning;
// Escape gives the words back to edit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useKindred, api, openPage, joinAt, joinThroughUi, say, base, PHONE, assertAccessible, messageTexts, listen, heard } from './harness.js';

useKindred();

// Graphic detail without crisis words: no crisis card comes with the question.
const METHOD = 'there was blood everywhere, it soaked through the sheets and pooled on the floor';
test('the guardrail asks on a phone, by keyboard, once; a content warning delivers it', { timeout: 90_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: true, title: 'Thursday Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { viewport: PHONE, address: '198.51.100.70' });
  const ash = await openPage('ash', { viewport: PHONE, address: '198.51.100.71' });
  const bo = await openPage('bo', { viewport: PHONE, address: '198.51.100.72' });
  try {
    await listen(ash);
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(ash, base, room.id, 'Ash');
    await joinThroughUi(bo, base, room.id, 'Bo');

    await say(ash, METHOD);
    const question = ash.getByRole('dialog', { name: 'Before this is shared' });
    await question.waitFor();
    const choices = question.getByRole('button');
    assert.deepEqual(await choices.allInnerTexts(), [
      'Add a content warning and send',
      'Send to the facilitators only',
      'Edit my message',
      'Send as it is',
    ]);
    // The first choice has the focus; Tab reaches each of the others in turn.
    await ash.waitForFunction(() => document.activeElement?.dataset.choice === 'cw');
    for (const next of ['facilitators', 'edit', 'as_is']) {
      await ash.keyboard.press('Tab');
      assert.equal(await ash.evaluate(() => document.activeElement?.dataset.choice), next);
    }
    const said = (await heard(ash)).filter((item) => item.includes('it has not been shared yet'));
    assert.equal(said.length, 1, `said once: ${JSON.stringify(said)}`);
    await assertAccessible(ash, 'the guardrail question on a phone');
    assert.ok(!(await messageTexts(bo)).includes(METHOD), 'nobody else has it');

    // Escape: edit. The words go back to the box, nothing is sent.
    await ash.keyboard.press('Escape');
    await question.waitFor({ state: 'detached' });
    assert.equal(await ash.locator('#composer-input').inputValue(), METHOD);
    await ash.waitForFunction(() => document.activeElement?.id === 'composer-input');

    // Again; this time behind a content warning, chosen from the keyboard.
    await ash.press('#composer-input', 'Enter');
    await question.waitFor();
    await ash.waitForFunction(() => document.activeElement?.dataset.choice === 'cw');
    await ash.keyboard.press('Enter');
    const delivered = bo.locator('#timeline li.msg', { hasText: 'Content warning' });
    await delivered.waitFor({ state: 'attached' });
    assert.match(await delivered.innerText(), /graphic detail/);
    assert.deepEqual(ash.problems, []);
    assert.deepEqual(bo.problems, []);
  } finally {
    await sam.context().close();
    await ash.context().close();
    await bo.context().close();
  }
});
