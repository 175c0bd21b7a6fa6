// Browser check of each member's own view and of "I need a minute". Ana keeps
// "self-harm" folded and lets "grief" show: Ben's message under a self-harm warning
// reaches her folded and opens on Enter, his grief one shows as written, and a word
// of her own folds the next; after a reload of her tab the history folds the same.
// Ana hides Ben for herself: his messages before and after fold to "hidden by you",
// one opens with Show, a reload keeps it, and her tab sends nothing for it, so Cal's
// tab is told nothing; My view unhides him. Ben's "I need a minute" shows beside his
// name in Cal's people list. The sheet passes axe at a phone's width. A missing
// binary or browser fails the test: it never skips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useKindred, api, openPage, joinThroughUi, say, base, PHONE, NEUTRAL, assertAccessible } from './harness.js';

/** A participant's own buttons: behind "More" on a phone, in the header on a desktop. */
async function mine(page, selector) {
  if (await page.locator('#more-button').isVisible()) await page.click('#more-button');
  await page.click(selector);
}

useKindred();

async function groupRoom() {
  return api('POST', '/api/rooms', {
    open: true,
    facilitated: false,
    title: 'Thursday Evening Circle',
    capacity: 12,
  }, true);
}

/** Send a message under a content warning, through the composer. */
async function sayWithWarning(page, cw, text) {
  await page.click('#cw-button');
  await page.fill('#cw-input', cw);
  await say(page, text);
}

/** Every frame a page's WebSockets send, from the ones it opens after this on. */
function framesSent(page) {
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
  return sent;
}

test('content warnings a member keeps folded and words of her own fold a message, until she opens it, after a reload too', { timeout: 120_000 }, async () => {
  const room = await groupRoom();
  const ana = await openPage('ana', { viewport: PHONE });
  const ben = await openPage('ben');
  try {
    await joinThroughUi(ana, base, room.id, 'Ana');
    await joinThroughUi(ben, base, room.id, 'Ben');

    // Ana's own view, from the room's header: "grief" shows, the rest stays folded.
    await mine(ana, '#my-view-button');
    const sheet = ana.locator('dialog#my-view');
    await sheet.waitFor();
    assert.equal(await sheet.getByLabel('self-harm').isChecked(), true, 'folded unless she says otherwise');
    await sheet.getByLabel('grief').uncheck();
    await sheet.getByLabel('A word or phrase').fill('bridge');
    await sheet.getByRole('button', { name: 'Add' }).click();
    await sheet.locator('.myview-list li', { hasText: 'bridge' }).waitFor();
    await assertAccessible(ana, 'My view at 360 px');
    await ana.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });

    await sayWithWarning(ben, 'self-harm', 'Old scars itched all day today.');
    await sayWithWarning(ben, 'grief', 'It would have been her birthday.');
    await say(ben, 'I walked past the bridge again tonight.');
    await ben.locator('#timeline li.msg', { hasText: 'past the bridge' }).waitFor();

    const scars = ana.locator('#timeline li.msg', { hasText: 'Content warning: self-harm' });
    await scars.waitFor();
    assert.equal(await scars.locator('.msg-text').isVisible(), false, 'folded: only its warning shows');
    const toggle = scars.locator('button.cw-toggle');
    assert.match(await toggle.innerText(), /Content warning: self-harm\s*Show/);
    await toggle.focus();
    await ana.keyboard.press('Enter');
    assert.equal(await scars.locator('.msg-text', { hasText: 'Old scars itched' }).isVisible(), true, 'Enter opens it');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');

    const birthday = ana.locator('#timeline li.msg', { hasText: 'her birthday' });
    assert.equal(await birthday.locator('.msg-text').isVisible(), true, 'grief shows as written, as she chose');
    assert.equal(await birthday.locator('button.cw-toggle').count(), 0);
    assert.equal(await birthday.locator('.cw-label', { hasText: 'Content warning: grief' }).count(), 1, 'under its label');

    const bridge = ana.locator('#timeline li.msg', { hasText: 'Contains a word you chose to fold' });
    await bridge.waitFor();
    assert.equal(await bridge.locator('.msg-text').isVisible(), false);
    // Ben's own view is his: nothing of Ana's choices reaches it.
    assert.equal(await ben.locator('#timeline li.msg', { hasText: 'past the bridge' }).locator('.msg-text').isVisible(), true);

    // A reload of her tab: the history is drawn again, folded the same way.
    await ana.reload();
    await ana.locator('#conn-status[data-state="live"]').waitFor();
    await ana.locator('#timeline li.msg', { hasText: 'Contains a word you chose to fold' }).waitFor();
    const again = ana.locator('#timeline li.msg', { hasText: 'Content warning: self-harm' });
    assert.equal(await again.locator('.msg-text').isVisible(), false);
    assert.equal(await ana.locator('#timeline li.msg', { hasText: 'her birthday' }).locator('.msg-text').isVisible(), true);

    // Quick exit forgets her view with the rest of what the tab kept of the group.
    const kept = () => ana.evaluate((id) => sessionStorage.getItem(`kindred.view.${id}`), room.id);
    assert.match(await kept(), /bridge/, 'kept for the tab');
    await ana.context().route(`${NEUTRAL}**`, (route) => route.fulfill({
      contentType: 'text/html', body: '<!doctype html><title>Weather</title><p>Sunny spells.</p>',
    }));
    await ana.getByRole('link', { name: 'Exit this page' }).click();
    await ana.waitForURL(`${NEUTRAL}**`);
    await ana.goto(`${base}/`);
    assert.equal(await kept(), null, 'gone after quick exit');
    assert.deepEqual([...ana.problems, ...ben.problems], []);
  } finally {
    await ana.context().close();
    await ben.context().close();
  }
});

test('a member hides another for herself alone, nobody is told, and "I need a minute" shows beside a name', { timeout: 120_000 }, async () => {
  const room = await groupRoom();
  const ana = await openPage('ana');
  const sent = framesSent(ana);
  const ben = await openPage('ben');
  const cal = await openPage('cal');
  try {
    await joinThroughUi(ana, base, room.id, 'Ana');
    await joinThroughUi(ben, base, room.id, 'Ben');
    await joinThroughUi(cal, base, room.id, 'Cal');
    await say(ben, 'Nobody asked, but here is my whole week.');
    const first = ana.locator('#timeline li.msg', { hasText: 'my whole week' });
    await first.waitFor();
    await cal.locator('#timeline li.msg', { hasText: 'my whole week' }).waitFor();
    const calBefore = await cal.locator('#timeline > li').count();
    const benBefore = await ben.locator('#timeline > li').count();

    // Ana hides Ben: her tab sends nothing for it.
    assert.ok(sent.some((f) => f.includes('"hello"')), 'her connection is watched');
    const mark = sent.length;
    await first.getByRole('button', { name: 'Hide' }).click();
    await ana.getByRole('button', { name: 'Hide for me' }).click();
    const hidden = ana.locator('#timeline li.msg.hidden-by-me');
    await hidden.first().waitFor();
    assert.match(await hidden.first().locator('button.cw-toggle').innerText(), /Hidden by you\s*Show/);
    assert.equal(await hidden.first().locator('.msg-text').isVisible(), false);
    assert.deepEqual(sent.slice(mark), [], 'hiding someone sends nothing');

    // His next message folds too; Show opens that one alone.
    await say(ben, 'And another thing about my week.');
    await ana.locator('#timeline li.msg.hidden-by-me', { hasText: 'another thing' }).waitFor({ state: 'attached' });
    assert.equal(await hidden.count(), 2);
    await hidden.first().locator('button.cw-toggle').click();
    assert.equal(await hidden.first().locator('.msg-text').isVisible(), true);
    assert.equal(await hidden.nth(1).locator('.msg-text').isVisible(), false);

    // Nobody else is told: Ana speaks next, and Cal's and Ben's conversations hold
    // Ben's second message and hers, and nothing else new.
    await say(ana, 'Thanks for listening, everyone.');
    await cal.locator('#timeline li.msg', { hasText: 'Thanks for listening' }).waitFor();
    await ben.locator('#timeline li.msg', { hasText: 'Thanks for listening' }).waitFor();
    assert.equal(await cal.locator('#timeline > li').count(), calBefore + 2, 'Cal is told nothing of it');
    assert.equal(await ben.locator('#timeline > li').count(), benBefore + 2, 'Ben is told nothing of it');
    assert.deepEqual(sent.slice(mark).filter((f) => !/"type":"(send|typing)"/.test(f)), [],
      'only her message (and that she was typing it) left her tab');

    // A reload keeps him hidden, in the history as it is drawn again.
    await ana.reload();
    await ana.locator('#conn-status[data-state="live"]').waitFor();
    await ana.locator('#timeline li.msg', { hasText: 'Thanks for listening' }).waitFor();
    assert.equal(await ana.locator('#timeline li.msg.hidden-by-me').count(), 2);

    // My view brings him back.
    await mine(ana, '#my-view-button');
    await ana.locator('#hidden-people li', { hasText: 'Ben' }).getByRole('button', { name: 'Unhide Ben' }).click();
    await ana.locator('dialog#my-view .myview-note', { hasText: 'Nobody.' }).waitFor();
    await ana.getByRole('button', { name: 'Done' }).click();
    assert.equal(await ana.locator('#timeline li.msg.hidden-by-me').count(), 0);
    assert.equal(await ana.locator('#timeline li.msg', { hasText: 'my whole week' }).locator('.msg-text').isVisible(), true);

    // Ben needs a minute: Cal sees it beside his name, and Ben's button says how to come back.
    await mine(ben, '#step-away-button');
    await cal.locator('#members li.member', { hasText: 'Ben' })
      .locator('.status.stepping-away', { hasText: 'taking a minute' }).waitFor();
    await cal.locator('#timeline li.event', { hasText: 'Ben is taking a minute.' }).waitFor();
    await ben.locator('#step-away-button[aria-pressed="true"]', { hasText: "I'm back" }).waitFor();
    await mine(ben, '#step-away-button');
    await cal.locator('#timeline li.event', { hasText: 'Ben is back from their minute.' }).waitFor();
    assert.equal(await cal.locator('#members .status.stepping-away').count(), 0);
    assert.deepEqual([...ana.problems, ...ben.problems, ...cal.problems], []);
  } finally {
    await ana.context().close();
    await ben.context().close();
    await cal.context().close();
  }
});
