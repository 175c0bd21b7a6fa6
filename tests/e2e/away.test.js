// Browser check of a member whose connection drops for longer than the presence
// grace period: the others' people list shows her away, her seat kept, and the
// conversation says so kindly; when her network is back she is back in her seat and
// has everything said while she was away, her view kept (a resume, not a reset).
// The server runs with a half-second grace so "away" comes within the check; the
// away limit stays long. A missing binary or browser fails the test: it never skips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useKindred, api, openPage, joinThroughUi, say, messageTexts, base, proxy } from './harness.js';

useKindred(['--presence-grace-ms', '500', '--away-limit-ms', '600000']);

test('a member whose connection drops is shown away with her seat kept, and comes back to everything said', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true,
    facilitated: false,
    title: 'Thursday Evening Circle',
    capacity: 12,
  }, true);
  // Bob is on the server directly; Rue's network goes through the relay that drops.
  const bob = await openPage('bob');
  const rue = await openPage('rue');
  try {
    await joinThroughUi(bob, base, room.id, 'Bob');
    await joinThroughUi(rue, proxy.url, room.id, 'Rue');
    const row = bob.locator('#members li.member', { hasText: 'Rue' });
    await row.waitFor();
    assert.equal(await row.locator('.status.away').count(), 0, 'present, not away');
    await say(rue, 'On the bus tonight, the signal comes and goes.');
    await bob.locator('#timeline li.msg', { hasText: 'the signal comes and goes' }).waitFor();
    await rue.locator('#timeline li.msg', { hasText: 'the signal comes and goes' })
      .evaluate((el) => { el.dataset.e2eMark = 'before-the-drop'; });

    proxy.cut();
    await rue.locator('#conn-status[data-state="waiting"]').waitFor();
    // Past the grace period: Bob's list shows her away, her seat kept, and the
    // conversation says it in plain words.
    await bob.locator('#members li.member.away', { hasText: 'Rue' })
      .locator('.status.away', { hasText: 'connection dropped, seat kept' }).waitFor();
    await bob.locator('#timeline li.event', { hasText: "Rue's connection dropped; their seat is kept." }).waitFor();
    assert.equal(await bob.locator('#members li.member', { hasText: 'Rue' }).count(), 1, 'still in the list');
    await say(bob, 'We are keeping your seat, Rue.');
    await bob.locator('#timeline li.msg', { hasText: 'keeping your seat' }).waitFor();

    proxy.restore();
    // Her client resumes on its own: she has what Bob said while she was away, in
    // the view she had (a resume appends; a reset would have rebuilt it).
    await rue.locator('#timeline li.msg', { hasText: 'keeping your seat' }).waitFor({ timeout: 25_000 });
    await rue.locator('#conn-status[data-state="live"]').waitFor();
    assert.equal(await rue.locator('#timeline li.msg[data-e2e-mark="before-the-drop"]').count(), 1,
      'the welcome said "resumed": the view was kept, not rebuilt');
    const seen = await messageTexts(rue);
    assert.equal(seen.filter((s) => s.includes('keeping your seat')).length, 1);
    // Back in her seat, for everyone.
    await bob.locator('#timeline li.event', { hasText: 'Rue is back.' }).waitFor();
    await bob.locator('#members li.member:not(.away)', { hasText: 'Rue' }).waitFor();
    assert.equal(await bob.locator('#members li.member .status.away').count(), 0);
    assert.equal(await bob.locator('#timeline li.event', { hasText: 'Rue joined the room.' }).count(), 1,
      'one arrival: coming back is not joining again');
    assert.deepEqual([...bob.problems, ...rue.problems], []);
  } finally {
    await bob.context().close();
    await rue.context().close();
  }
});
