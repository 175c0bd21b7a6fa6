// The on-call supervisor in the browser: a facilitator calls on-call about a crisis
// alert; the on-call page, on a phone, shows every room meeting (one held with no
// facilitator, one with the escalation and its words); one tap on "Join as
// facilitator" puts the supervisor in the room as a facilitator, and the
// facilitator who called reads that they are joining.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useKindred, api, openPage, joinAt, joinThroughUi, say, base, DESKTOP, PHONE, assertAccessible } from './harness.js';

// A room with no facilitator is held after a second, and on-call is asked at once.
useKindred(['--presence-grace-ms', '1000', '--oncall-held-after-secs', '0']);

const HEARD = 'kindred-e2e.heard';

/** Record each item the page's announcer regions are given, in its session storage. */
async function listen(page) {
  await page.context().addInitScript((key) => {
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.target.id !== 'announcer' && r.target.id !== 'announcer-urgent') continue;
        for (const node of r.addedNodes) {
          const heard = JSON.parse(sessionStorage.getItem(key) || '[]');
          heard.push(node.textContent);
          sessionStorage.setItem(key, JSON.stringify(heard));
        }
      }
    }).observe(document, { childList: true, subtree: true });
  }, HEARD);
}

function heard(page) {
  return page.evaluate((key) => JSON.parse(sessionStorage.getItem(key) || '[]'), HEARD);
}

test('on-call sees a held room and an escalation, and joins in one tap as a facilitator', { timeout: 120_000 }, async () => {
  const held = await api('POST', '/api/rooms', {
    open: true, facilitated: true, title: 'Monday Anxiety Circle', capacity: 10,
  }, true);
  const kept = await api('POST', '/api/rooms', {
    open: true, facilitated: false, title: 'Tuesday Evening Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${kept.id}/invites`, {}, true);
  const link = await api('POST', '/api/oncall', {}, true);
  const ash = await openPage('ash', { viewport: DESKTOP, address: '198.51.100.70' });
  const sam = await openPage('sam', { viewport: DESKTOP, address: '198.51.100.71' });
  const willow = await openPage('willow', { viewport: DESKTOP, address: '198.51.100.72' });
  const onCall = await openPage('on-call', { viewport: PHONE, address: '198.51.100.73' });
  try {
    // Ash waits in a room nobody facilitates: it is held.
    await joinThroughUi(ash, base, held.id, 'Ash');
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinThroughUi(willow, base, kept.id, 'Willow');
    const words = 'I cannot do this anymore, I want to end my life';
    await say(willow, words);
    const alert = sam.locator('#alerts li.alert[data-kind="crisis"]');
    await alert.waitFor();
    await alert.getByRole('button', { name: 'Call on-call about Willow' }).click();
    await alert.locator('.escalate-button', { hasText: 'On-call told' }).waitFor();
    await sam.locator('#notices', { hasText: 'On-call told. Help is on its way.' }).waitFor({ state: 'attached' });
    await sam.locator('#mod-log', { hasText: 'called on-call about an alert' }).waitFor();
    // The alert stays open: calling on-call is not handling it.
    assert.equal(await alert.count(), 1);

    await listen(onCall);
    await onCall.goto(new URL(link.url, base).href);
    const escalated = onCall.locator('li.on-call-room', { hasText: 'Tuesday Evening Circle' });
    await escalated.locator('.on-call-quote', { hasText: words }).waitFor();
    assert.match(await escalated.innerText(), /Sam asked for on-call at .* about Willow \(thoughts of suicide\)/);
    assert.match(await escalated.innerText(), /1 facilitator here/);
    const waiting = onCall.locator('li.on-call-room', { hasText: 'Monday Anxiety Circle' });
    await waiting.locator('.on-call-held', { hasText: 'Held: no facilitator since' }).waitFor();
    assert.equal(await waiting.getAttribute('data-needs'), 'true');
    // The escalation comes first, then the held room.
    const order = await onCall.locator('li.on-call-room h2').allInnerTexts();
    assert.deepEqual(order, ['Tuesday Evening Circle', 'Monday Anxiety Circle']);
    // Said once through the announcer, however many times the board is read again.
    const asking = 'Sam in Tuesday Evening Circle is asking for on-call about Willow.';
    await onCall.waitForFunction(([key, it]) => JSON.parse(sessionStorage.getItem(key) || '[]').includes(it), [HEARD, asking]);
    const reads = Number(await onCall.locator('#on-call-rooms').getAttribute('data-reads'));
    await onCall.waitForFunction((was) => Number(document.getElementById('on-call-rooms').dataset.reads) > was, reads);
    assert.equal((await heard(onCall)).filter((s) => s === asking).length, 1);
    // Phone first: the page fits 360 px without scrolling sideways.
    assert.ok(await onCall.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
    await assertAccessible(onCall, 'the on-call board on a phone');

    // One tap: in the room as a facilitator.
    await escalated.getByRole('button', { name: 'Join as facilitator: Tuesday Evening Circle' }).click();
    await onCall.locator('#conn-status[data-state="live"]').waitFor();
    await onCall.locator('#members li.member', { hasText: 'On-call' }).waitFor({ state: 'attached' });
    await onCall.locator('#mod-log', { hasText: 'You joined from on-call' }).waitFor({ state: 'attached' });
    await sam.locator('#notices', { hasText: 'On-call is joining from on-call.' }).waitFor({ state: 'attached' });
    await sam.locator('#mod-log', { hasText: 'On-call is joining from on-call' }).waitFor();
    await willow.locator('#members li.member', { hasText: 'On-call' }).waitFor({ state: 'attached' });
    assert.deepEqual(sam.problems, []);
    assert.deepEqual(onCall.problems, []);
    assert.deepEqual(ash.problems, []);
  } finally {
    for (const page of [ash, sam, willow, onCall]) await page.context().close();
  }
});
