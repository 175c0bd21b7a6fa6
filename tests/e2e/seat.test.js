// Browser end-to-end checks of a facilitator's seat outliving their tab, against a
// real `kindred` (harness.js starts it and Debian's Chromium): the facilitator closes
// the tab and the same link in the same browser brings them back into their own seat
// (the same person to the room, with the private messages they were sent); a device
// they choose from inside the room joins the same seat once; another browser with the
// same link is refused in words it can act on; quick exit leaves no seat behind.
// A missing binary or browser fails the test: it never skips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  useKindred, api, openPage, watch, joinAt, joinThroughUi, say, assertAccessible,
  base, serverLog, SHOTS, PHONE, NEUTRAL,
} from './harness.js';

useKindred();

/** The room's page in `page` is live, as the facilitator `name`. */
async function inTheRoomAs(page, name) {
  await page.locator('#conn-status[data-state="live"]').waitFor();
  await page.locator('.toolbar[aria-label="Facilitator tools"]').waitFor({ state: 'attached' });
  await page.locator('#members li.member', { hasText: name }).waitFor({ state: 'attached' });
}

/** On the join form: accept, pick a name and press Join; the refusal's words. */
async function refusedOnForm(page, name) {
  await page.locator('#guidelines').waitFor();
  await page.check('#accept');
  await page.fill('#pseudonym', name);
  await page.click('#join-button');
  const error = page.locator('#join-error');
  await error.filter({ hasText: /\S/ }).waitFor();
  return error.innerText();
}

test('a facilitator who closes the tab is back in their seat from the same link, and on a device they chose; nobody else is', { timeout: 150_000 }, async (t) => {
  const room = await api('POST', '/api/rooms', {
    open: true, title: 'Wednesday Circle', topic: 'Low mood', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const link = new URL(invite.url, base).href;
  let sam = await openPage('sam', { address: '198.51.100.40' });
  const maya = await openPage('maya', { address: '198.51.100.41' });
  const kit = await openPage('kit', { address: '198.51.100.42' });
  const phone = await openPage('sam phone', { viewport: PHONE, address: '198.51.100.43' });
  const pages = [maya, kit, phone];
  try {
    await joinAt(sam, link, 'Sam');
    await joinThroughUi(maya, base, room.id, 'Maya');
    await maya.fill('#whisper-text', 'Sam, I am feeling a bit wobbly tonight.');
    await maya.press('#whisper-text', 'Enter');
    await sam.locator('#whispers li', { hasText: 'a bit wobbly' }).waitFor({ state: 'attached' });

    await t.test('the facilitator closes the tab, opens the same link, and is back in their own seat', async () => {
      const context = sam.context();
      assert.deepEqual(sam.problems, []);
      await sam.close();
      sam = watch(await context.newPage(), 'sam again');
      await sam.goto(link);
      await inTheRoomAs(sam, 'Sam');
      assert.ok(!sam.url().includes('invite'), `no invite in ${sam.url()}`);
      // The same member: Maya's private message to them is there again, and the room
      // still counts one Sam.
      await sam.locator('#whispers li', { hasText: 'a bit wobbly' }).waitFor({ state: 'attached' });
      await say(maya, 'Thank you for coming back.');
      await sam.locator('#timeline li.msg', { hasText: 'Thank you for coming back.' }).waitFor();
      assert.equal(await maya.locator('#members li.member', { hasText: 'Sam' }).count(), 1);
    });

    await t.test('another browser with the same link is refused, in words it can act on', async () => {
      await kit.goto(link);
      const words = await refusedOnForm(kit, 'Kit');
      assert.match(words, /This facilitator link is already in use in another browser\./);
      assert.match(words, /please ask the organiser for a link of your own/);
      assert.equal(await kit.locator('#timeline').count(), 0, 'not in the room');
      await kit.screenshot({ path: path.join(SHOTS, 'kindred-e2e-link-in-use.png') });
    });

    await t.test('"Use on another device" gives a link that seats the same facilitator on the device they open it on, once', async () => {
      await sam.click('#another-device-button');
      const dialog = sam.locator('#device-dialog');
      await dialog.waitFor();
      assert.match(await dialog.innerText(), /It works once, for the next 10 minutes/);
      await assertAccessible(sam, 'the link for another device');
      const deviceLink = await sam.inputValue('#device-link');
      assert.match(deviceLink, /#seat=/);
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });

      await phone.goto(deviceLink);
      await inTheRoomAs(phone, 'Sam');
      assert.ok(!phone.url().includes('seat='), `the code left the address bar: ${phone.url()}`);
      await phone.locator('#whispers li', { hasText: 'a bit wobbly' }).waitFor({ state: 'attached' });
      await say(maya, 'Hello to both of your screens.');
      await phone.locator('#timeline li.msg', { hasText: 'Hello to both of your screens.' }).waitFor();
      await sam.locator('#timeline li.msg', { hasText: 'Hello to both of your screens.' }).waitFor();
      assert.equal(await maya.locator('#members li.member', { hasText: 'Sam' }).count(), 1);

      // The link worked once: Kit, who saw it, cannot use it.
      await kit.goto(deviceLink);
      const refusal = kit.locator('main h1', { hasText: 'This link for another device cannot be used' });
      await refusal.waitFor();
      assert.match(await kit.locator('main').innerText(), /has been used or has expired/);
    });

    await t.test('quick exit leaves no seat in the browser: the link then asks for the form, and is in use', async () => {
      await sam.context().route(`${NEUTRAL}**`, (route) => route.fulfill({
        contentType: 'text/html', body: '<!doctype html><title>Weather</title><p>Sunny spells.</p>',
      }));
      await sam.getByRole('link', { name: 'Exit this page' }).click();
      await sam.waitForURL(`${NEUTRAL}**`);
      // A new tab of the same browser: nothing kept to take the seat back with.
      const again = watch(await sam.context().newPage(), 'sam after exit');
      pages.push(again);
      await again.goto(link);
      assert.match(await refusedOnForm(again, 'Sam'), /already in use in another browser/);
    });
    await t.test('when the facilitator closes the session, the device forgets its seat', async () => {
      const seatKeys = () => phone.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('kindred.seat.')));
      assert.equal((await seatKeys()).length, 1, 'the phone keeps its seat while the session is on');
      await phone.click('#tools-button');
      await phone.click('#close-session-button');
      await phone.locator('dialog.dialog', { hasText: 'Close the session for everyone?' })
        .getByRole('button', { name: 'Close session' }).click();
      await phone.locator('.banner.ended', { hasText: 'This session has ended.' }).waitFor();
      assert.deepEqual(await seatKeys(), []);
    });
    for (const page of [...pages, sam]) assert.deepEqual(page.problems, []);
  } catch (e) {
    e.message += `\n--- server log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const page of [sam, ...pages]) await page.context().close().catch(() => {});
  }
});
