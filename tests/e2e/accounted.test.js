// Browser checks of who hears what: a member's crisis words that come again stay one
// alert for the facilitator, which says how often and shows the latest; someone turned
// away and banned from the waiting room is refused at the door in the same browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useKindred, api, openPage, joinAt, say, base, serverLog, DESKTOP, PHONE,
} from './harness.js';

useKindred();

test('crisis words that come again are one alert that counts them, with the latest words', { timeout: 90_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: false, title: 'Thursday Night Check-in', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '198.51.100.40', viewport: DESKTOP });
  const wren = await openPage('wren', { address: '198.51.100.41', viewport: DESKTOP });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    await joinAt(wren, `${base}/?room=${encodeURIComponent(room.id)}`, 'Wren');
    await say(wren, 'i want to end my life');
    const alerts = sam.locator('#alerts li.alert[data-kind="crisis"]');
    await alerts.first().waitFor({ state: 'attached' });
    await wren.locator('#crisis-card').waitFor();
    await wren.click('#crisis-seen-button');
    await say(wren, 'honestly i just want to die tonight');
    await sam.locator('#alerts li.alert[data-kind="crisis"]', { hasText: '2nd time' }).waitFor({ state: 'attached' });
    assert.equal(await alerts.count(), 1, 'one alert for Wren, however often');
    assert.match(await sam.locator('#alerts-button .count-badge').innerText(), /^1\b/, 'one open alert on the button');
    assert.deepEqual([...sam.problems, ...wren.problems], [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await sam.context().close();
    await wren.context().close();
  }
});

test('someone turned away and banned from the waiting room cannot come back from that browser', { timeout: 90_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: false, waiting_room: true, title: 'Sunday Evening Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '198.51.100.42', viewport: DESKTOP });
  const rue = await openPage('rue', { address: '198.51.100.43', viewport: DESKTOP });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    const roomUrl = `${base}/?room=${encodeURIComponent(room.id)}`;
    await rue.goto(roomUrl);
    await rue.locator('#guidelines').waitFor();
    await rue.check('#accept');
    await rue.fill('#pseudonym', 'Rue');
    await rue.click('#join-button');
    await rue.locator('#waiting-screen').waitFor({ state: 'visible' });

    const row = sam.locator('#waiting-list li.waiting-member', { hasText: 'Rue' });
    await row.getByRole('button', { name: 'Turn away Rue' }).click();
    const dialog = sam.locator('dialog.dialog', { hasText: 'Turn Rue away?' });
    await dialog.getByLabel(/Also ban Rue/).check();
    await dialog.getByRole('button', { name: 'Turn away' }).click();
    await rue.locator('#waiting-status .waiting-main', { hasText: "A facilitator wasn't able to let you into this session." }).waitFor();
    await row.waitFor({ state: 'detached' });
    await sam.locator('#mod-log', { hasText: /banned Rue/i }).waitFor({ state: 'attached' });

    // The same browser, under another name: refused at the door, kindly.
    await rue.goto(roomUrl);
    await rue.locator('#guidelines').waitFor();
    await rue.check('#accept');
    await rue.fill('#pseudonym', 'Somebody new');
    await rue.click('#join-button');
    await rue.locator('#join-error', { hasText: /cannot|can't|not able/i }).waitFor();
    assert.equal(await rue.locator('#waiting-screen:visible').count(), 0, 'not let in to wait again');
    assert.deepEqual([...sam.problems, ...rue.problems], [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await sam.context().close();
    await rue.context().close();
  }
});

test('a whisper written the moment a member arrives is news to them, not part of the replay', { timeout: 90_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: false, title: 'Monday Check-in', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '198.51.100.44', viewport: DESKTOP });
  const lou = await openPage('lou', { address: '198.51.100.45', viewport: PHONE });
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    // A second connection of Sam's that writes to the newcomer as soon as the room
    // sees them join: within a few milliseconds of their own welcome.
    const whispered = sam.evaluate((roomId) => new Promise((resolve, reject) => {
      const { token } = JSON.parse(sessionStorage.getItem(`kindred:${roomId}`));
      const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws`);
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token }));
      ws.onerror = () => reject(new Error('socket error'));
      ws.onmessage = (e) => {
        const f = JSON.parse(e.data);
        if (f.type === 'joined' && f.member?.name === 'Lou') {
          const at = Date.now();
          ws.send(JSON.stringify({ type: 'whisper', to: f.member.user, text: 'Welcome Lou, glad you are here.' }));
          resolve(at);
        }
      };
      setTimeout(() => reject(new Error('Lou never joined')), 30_000);
    }), room.id);
    await joinAt(lou, `${base}/?room=${encodeURIComponent(room.id)}`, 'Lou');
    await whispered;
    const button = lou.locator('#private-button');
    await button.locator('.count-badge', { hasText: '1' }).waitFor();
    await button.click();
    await lou.locator('#whispers li', { hasText: 'glad you are here' }).waitFor({ state: 'visible' });
    assert.deepEqual([...sam.problems, ...lou.problems], [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    await sam.context().close();
    await lou.context().close();
  }
});

test('a facilitator sees crisis alerts first and check-ins below, each saying why in plain words', { timeout: 90_000 }, async () => {
  const room = await api('POST', '/api/rooms', {
    open: true, facilitated: false, title: 'Friday Evening Circle', capacity: 10,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage('sam', { address: '198.51.100.46', viewport: DESKTOP });
  const wren = await openPage('wren', { address: '198.51.100.47', viewport: DESKTOP });
  const ash = await openPage('ash', { address: '198.51.100.48', viewport: DESKTOP });
  const pages = [sam, wren, ash];
  try {
    await joinAt(sam, new URL(invite.url, base).href, 'Sam');
    const roomUrl = `${base}/?room=${encodeURIComponent(room.id)}`;
    await joinAt(wren, roomUrl, 'Wren');
    await joinAt(ash, roomUrl, 'Ash');
    // Leaning that way without being sure: a check-in, and no card for Wren.
    await say(wren, 'some days i wonder whats the point of any of it');
    const checkIn = sam.locator('#alerts li.alert[data-kind="check_in"]');
    await checkIn.waitFor({ state: 'attached' });
    assert.match(await checkIn.innerText(), /Wren may need a check-in/);
    assert.match(await checkIn.innerText(), /leans that way but is not sure/);
    // A card would come before the room's next message reaches her: none came.
    await say(wren, 'anyway, hello everyone');
    await wren.locator('#timeline li.msg[data-seq]', { hasText: 'anyway, hello everyone' }).waitFor();
    assert.equal(await wren.locator('#crisis-card').count(), 0, 'no card for a check-in');
    // No phrase names where Ash is; the classifier is sure. Then a phrase rule.
    await say(ash, 'sitting on the roof of the car park rn');
    await ash.locator('#crisis-card').waitFor();
    await ash.click('#crisis-seen-button');
    await say(wren, 'I want to kill myself');
    await sam.locator('#alerts li.alert[data-kind="crisis"]').nth(1).waitFor({ state: 'attached' });
    const kinds = await sam.locator('#alerts > li.alert').evaluateAll((lis) => lis.map((li) => li.dataset.kind));
    assert.deepEqual(kinds, ['crisis', 'crisis', 'check_in'], 'crisis first, check-ins below');
    const texts = await sam.locator('#alerts > li.alert').allInnerTexts();
    assert.match(texts[0], /Why: the words matched a crisis phrase/);
    assert.match(texts[1], /Why: Kindred's classifier is confident/);
    // The crisis words did bring Wren the card.
    await wren.locator('#crisis-card').waitFor();
    assert.deepEqual(pages.flatMap((p) => p.problems), [], 'no uncaught errors or CSP violations');
  } catch (e) {
    e.message += `\n--- kindred log ---\n${serverLog.slice(-4000)}`;
    throw e;
  } finally {
    for (const p of pages) await p.context().close();
  }
});
