// The shield in the browser: the facilitator's one switch tightens the room (the
// waiting room on, slow mode, newcomers' first messages held) and, switched off,
// puts back the slow mode and waiting room the room had; the room reads one line
// each way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useKindred, api, openPage, joinAt, joinThroughUi, base, DESKTOP } from './harness.js';

useKindred();

test('the facilitator raises the shield and lowers it, and the room is as it was', { timeout: 90_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: false, title: 'Tuesday Evening Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { viewport: DESKTOP, address: '198.51.100.60' });
  const ash = await openPage('ash', { viewport: DESKTOP, address: '198.51.100.61' });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(ash, base, room.id, 'Ash');
    // The room's own slow mode before the shield.
    await sam.selectOption('#slow-mode', '10');
    await ash.locator('#timeline li.event', { hasText: 'Slow mode: one message every' }).waitFor();

    const shield = sam.getByRole('button', { name: 'Shield' });
    assert.equal(await shield.getAttribute('aria-pressed'), 'false');
    await shield.click();
    await sam.locator('#shield-button[aria-pressed="true"]').waitFor();
    await sam.locator('#waiting-room-button[aria-pressed="true"]').waitFor();
    assert.equal(await sam.locator('#slow-mode').inputValue(), '30');
    await ash.locator('#timeline li.event', { hasText: 'made the room quieter for now' }).waitFor();
    await sam.locator('#mod-log', { hasText: 'raised the shield' }).waitFor();

    await shield.click();
    await sam.locator('#shield-button[aria-pressed="false"]').waitFor();
    await sam.locator('#waiting-room-button[aria-pressed="false"]').waitFor();
    assert.equal(await sam.locator('#slow-mode').inputValue(), '10', 'the slow mode set before');
    await ash.locator('#timeline li.event', { hasText: 'back to its usual settings' }).waitFor();
    assert.deepEqual(sam.problems, []);
    assert.deepEqual(ash.problems, []);
  } finally {
    await sam.context().close();
    await ash.context().close();
  }
});
