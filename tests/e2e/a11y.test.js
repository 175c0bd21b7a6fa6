// Browser checks of access: axe-core (the npm package, injected into the page) on
// the directory, the join form and the room as a participant and as a facilitator,
// at 360 px and 1280 px, light and dark, with no violation of any impact (what axe
// cannot decide alone is printed for a person to review);
// the keyboard path (the skip link goes to the message box, one Tab stop per
// message, arrows within it); what a screen reader hears during a resume (one
// summary, not every message); and the facilitator's panel on a phone (the tools
// in a menu, the alerts with their count on a button of their own, crisis alerts
// first, the tab's title, never scrolled away by private messages, and "handled
// by" shared between facilitators).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  useKindred, api, openPage, joinThroughUi, joinAt, say, assertAccessible,
  base, proxy, serverLog, SHOTS, PHONE, DESKTOP,
} from './harness.js';

useKindred();

test('axe-core finds nothing on the directory, the join form and the room, in either role, width or colour scheme', { timeout: 240_000 }, async (t) => {
  let n = 0;
  for (const colorScheme of ['light', 'dark']) {
    for (const [label, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
      await t.test(`${label}, ${colorScheme}`, async () => {
        n += 1;
        const room = await api('POST', '/api/rooms', {
          open: true, facilitated: false, title: `Accessible Circle ${n}`, topic: 'Everyone welcome',
          description: 'A calm group for checking that everyone can take part.', capacity: 10,
        }, true);
        const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
        const sam = await openPage(`sam ${n}`, { viewport, colorScheme, address: `198.18.0.${n * 2}` });
        const ada = await openPage(`ada ${n}`, { viewport, colorScheme, address: `198.18.0.${n * 2 + 1}` });
        try {
          await ada.goto(`${base}/`);
          await ada.locator('#room-list').waitFor();
          await assertAccessible(ada, `directory, ${label}, ${colorScheme}`);
          await ada.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
          await ada.locator('#guidelines').waitFor();
          await assertAccessible(ada, `join form, ${label}, ${colorScheme}`);

          await joinAt(sam, new URL(invite.url, base).href, `Sam${n}`);
          await joinThroughUi(ada, base, room.id, `Ada${n}`);
          await say(sam, 'Welcome, everyone. Take your time.');
          await say(ada, 'Thank you. It is my first time.');
          await say(ada, 'I want to kill myself');
          await ada.locator('#crisis-card').waitFor();
          await sam.locator('#alerts li.alert[data-kind="crisis"]').waitFor({ state: 'attached' });
          await ada.locator('#timeline li.msg', { hasText: 'Take your time' }).waitFor();
          // A message for each kind of line: someone else's, one's own, the facilitator's.
          await assertAccessible(ada, `room as a participant, ${label}, ${colorScheme}`);
          await ada.click('#crisis-seen-button');
          await sam.locator('#timeline li.msg', { hasText: 'my first time' }).waitFor();
          await assertAccessible(sam, `room as a facilitator, ${label}, ${colorScheme}`);
          if (label === 'phone') {
            // The sheets and the tools menu, open.
            await sam.click('#alerts-button');
            await assertAccessible(sam, `facilitator's alerts sheet, ${colorScheme}`);
            await sam.click('#alerts-button');
            await sam.click('#tools-button');
            await assertAccessible(sam, `facilitator's tools, ${colorScheme}`);
            await ada.click('#private-button');
            await assertAccessible(ada, `participant's private sheet, ${colorScheme}`);
          }
          if (colorScheme === 'light') {
            await ada.screenshot({ path: path.join(SHOTS, `kindred-e2e-participant-${label}.png`) });
            await sam.screenshot({ path: path.join(SHOTS, `kindred-e2e-facilitator-${label}.png`) });
          }
          assert.deepEqual([...sam.problems, ...ada.problems], []);
        } catch (e) {
          e.message += `\n--- kindred log ---\n${serverLog.slice(-2000)}`;
          throw e;
        } finally {
          await sam.context().close();
          await ada.context().close();
        }
      });
    }
  }
});

test('the keyboard path: the skip link reaches the message box, one Tab stop per message, arrows inside it', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', { open: true, facilitated: false, title: 'Keyboard Circle', capacity: 10 }, true);
  const kim = await openPage('kim', { address: '198.18.1.1' });
  const lee = await openPage('lee', { address: '198.18.1.2' });
  try {
    await joinThroughUi(kim, base, room.id, 'Kim');
    await joinThroughUi(lee, base, room.id, 'Lee');
    for (let i = 1; i <= 4; i += 1) await say(lee, `Lee's message ${i}`);
    await kim.locator('#timeline li.msg', { hasText: "Lee's message 4" }).waitFor();

    // The skip link comes first on the page, and it leads to the message box.
    assert.equal(await kim.evaluate(() => document.querySelector('a[href], button, textarea, input, select').className), 'skip-link');
    await kim.locator('.skip-link').focus();
    assert.match(await kim.evaluate(() => document.activeElement.textContent), /message box/);
    await kim.keyboard.press('Enter');
    assert.equal(await kim.evaluate(() => document.activeElement.id), 'composer-input');

    // From the conversation's scroll area, Tab visits each message once.
    await kim.locator('.scroller').focus();
    const stops = [];
    for (let i = 0; i < 12; i += 1) {
      await kim.keyboard.press('Tab');
      const where = await kim.evaluate(() => {
        const el = document.activeElement;
        const msg = el.closest('#timeline li.msg');
        return msg ? msg.dataset.seq : el.id || el.tagName;
      });
      if (where === 'composer-input') break;
      stops.push(where);
    }
    assert.equal(stops.length, 4, `one stop per message, then the message box: ${stops}`);
    assert.equal(new Set(stops).size, 4);
    // Within a message, the arrows move between its actions.
    await kim.locator('#timeline li.msg').nth(0).locator('.react-button').focus();
    await kim.keyboard.press('ArrowRight');
    assert.equal((await kim.evaluate(() => document.activeElement.textContent)).trim(), 'Report');
    assert.deepEqual([...kim.problems, ...lee.problems], []);
  } finally {
    await kim.context().close();
    await lee.context().close();
  }
});

test('a resume that brings many messages is summed up for a screen reader, not read out one by one', { timeout: 120_000 }, async () => {
  const room = await api('POST', '/api/rooms', { open: true, facilitated: false, title: 'Listening Circle', capacity: 10 }, true);
  const una = await openPage('una', { address: '198.18.2.1' });
  const vic = await openPage('vic', { address: '198.18.2.2' });
  try {
    await joinThroughUi(una, proxy.url, room.id, 'Una');
    await joinThroughUi(vic, base, room.id, 'Vic');
    await say(vic, 'Hello Una.');
    await una.locator('#timeline li.msg', { hasText: 'Hello Una.' }).waitFor();
    // Record every item the announcer is given from now on.
    await una.evaluate(() => {
      window.heard = [];
      const watchRegion = (id) => new MutationObserver((records) => {
        for (const r of records) for (const node of r.addedNodes) window.heard.push(`${id}: ${node.textContent}`);
      }).observe(document.getElementById(id), { childList: true });
      watchRegion('announcer');
      watchRegion('announcer-urgent');
    });
    proxy.cut();
    await una.locator('#conn-status[data-state="waiting"]').waitFor();
    // Eight (a member may send ten at once before the rate limit, PROTOCOL.md §17).
    for (let i = 1; i <= 8; i += 1) {
      await say(vic, `Vic while you were away ${i}`);
      await vic.locator('#timeline li.msg', { hasText: `away ${i}` }).waitFor();
    }
    proxy.restore();
    await una.locator('#timeline li.msg', { hasText: 'away 8' }).waitFor({ timeout: 25_000 });
    await una.waitForTimeout(800);
    const heard = await una.evaluate(() => window.heard);
    assert.deepEqual(heard, ['announcer: 8 new messages'], `one summary: ${JSON.stringify(heard)}`);
    // The transcript is not a live region; focus stayed where it was.
    assert.equal(await una.locator('#timeline').getAttribute('aria-live'), null);
    assert.equal(await una.locator('[role="log"]').count(), 0);
    assert.equal(await una.evaluate(() => document.activeElement.id), 'composer-input');
    assert.deepEqual([...una.problems, ...vic.problems], []);
  } finally {
    await una.context().close();
    await vic.context().close();
  }
});

test("the facilitator's panel on a phone: tools in a menu, alerts first with a count, never scrolled away, handled by either", { timeout: 150_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', { open: true, facilitated: false, title: 'Phone Circle', capacity: 10 }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, { uses: 2 }, true);
  const sam = await openPage('sam', { viewport: PHONE, address: '198.18.3.1' });
  const kai = await openPage('kai', { viewport: DESKTOP, address: '198.18.3.2' });
  const ash = await openPage('ash', { address: '198.18.3.3' });
  const bea = await openPage('bea', { address: '198.18.3.4' });
  const pages = [sam, kai, ash, bea];
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinAt(kai, new URL(invite.url, base).href, 'Kai');
    await joinThroughUi(ash, base, room.id, 'Ash');
    await joinThroughUi(bea, base, room.id, 'Bea');

    await t.test('on a phone the toolbar is a menu under "Tools"', async () => {
      const toolbar = sam.locator('#facilitator-tools');
      assert.ok(await toolbar.isHidden(), 'folded away');
      await sam.click('#tools-button');
      await toolbar.waitFor({ state: 'visible' });
      assert.equal(await sam.locator('#tools-button').getAttribute('aria-expanded'), 'true');
      await sam.click('#tools-button');
      await toolbar.waitFor({ state: 'hidden' });
      // On a wide screen it is simply there.
      await kai.locator('#facilitator-tools').waitFor({ state: 'visible' });
      assert.ok(await kai.locator('#tools-button').isHidden());
    });

    await t.test('a report, then a crisis: the count on the button and the title, crisis first', async () => {
      await say(bea, 'Anxiety is not a real illness.');
      const message = ash.locator('#timeline li.msg', { hasText: 'not a real illness' });
      await message.waitFor();
      await message.getByRole('button', { name: 'Report' }).click();
      await ash.click('dialog.dialog button[value="ok"]');
      await sam.locator('#alerts-button .count-badge', { hasText: '1' }).waitFor();
      await say(ash, 'I want to kill myself');
      await sam.locator('#alerts-button .count-badge.urgent', { hasText: '2' }).waitFor();
      assert.match(await sam.title(), /^\(2 alerts\) Phone Circle/);
      await sam.click('#alerts-button');
      const first = sam.locator('#alerts > li').first();
      assert.equal(await first.getAttribute('data-kind'), 'crisis', 'crisis alerts first');
      await first.getByRole('button', { name: 'Go to message' }).waitFor({ state: 'visible' });
      await sam.screenshot({ path: path.join(SHOTS, 'kindred-e2e-facilitator-alerts-phone.png') });
      await sam.click('#alerts-button');
    });

    await t.test('private messages arriving never push the alerts out of sight', async () => {
      const alerts = kai.locator('#alerts-panel');
      const before = await alerts.boundingBox();
      for (let i = 1; i <= 6; i += 1) {
        await ash.fill('#whisper-text', `A private word, number ${i}, with a few more words to take up room.`);
        await ash.press('#whisper-text', 'Enter');
        await kai.locator('#whispers li', { hasText: `number ${i},` }).waitFor();
      }
      const after = await alerts.boundingBox();
      assert.deepEqual(after, before, 'the alerts panel did not move, nor shrink');
      const crisis = await kai.locator('#alerts li.alert[data-kind="crisis"]').boundingBox();
      assert.ok(crisis.y >= 0 && crisis.y < DESKTOP.height, `the crisis alert is still in sight: ${JSON.stringify(crisis)}`);
    });

    await t.test('when one facilitator handles the crisis alert, the other reads who did', async () => {
      const crisis = kai.locator('#alerts li.alert[data-kind="crisis"]');
      await crisis.getByRole('button', { name: /^Done/ }).click();
      await crisis.waitFor({ state: 'detached' });
      await sam.click('#alerts-button');
      await sam.locator('#alerts li.alert-handled', { hasText: 'The crisis alert about Ash was handled by Kai.' }).waitFor();
      await sam.locator('#alerts-button .count-badge', { hasText: '1' }).waitFor();
      assert.match(await sam.title(), /^\(1 alert[,)]/);
    });

    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});
