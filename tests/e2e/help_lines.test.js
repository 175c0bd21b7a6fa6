// Help lines per place in the browser: the operator's card gives lines and an
// emergency number per country. A person sees the card's default lines first, with
// no number made up; they pick their country once and see its number and lines,
// and the choice stays for the tab (the link reopens the card with it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useKindred, api, openPage, joinThroughUi, say, base, PHONE } from './harness.js';

const CARD = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kindred-e2e-card-')), 'card.json');
fs.writeFileSync(CARD, JSON.stringify({
  title: 'You are not alone',
  body: 'Someone can talk with you right now.',
  lines: [{ region: 'Elsewhere', name: 'Find A Helpline', contact: 'Lines in your country', url: 'https://findahelpline.com' }],
  countries: [
    { code: 'DE', name: 'Deutschland', emergency: '112',
      lines: [{ region: 'Deutschland', name: 'TelefonSeelsorge', contact: 'Call 0800 111 0 111' }] },
    { code: 'NZ', name: 'New Zealand', emergency: '111',
      lines: [{ region: 'New Zealand', name: 'Need to talk?', contact: 'Call or text 1737' }] },
  ],
}));

useKindred(['--resources-card', CARD]);

test('a person sees the default lines until they pick their country, then its emergency number and lines, kept for the tab', { timeout: 90_000 }, async () => {
  const room = await api('POST', '/api/rooms', { open: true, facilitated: false, title: 'Late Shift', capacity: 10 }, true);
  // A browser in New Zealand's English: the card must not guess from it.
  const page = await openPage('kit', { viewport: PHONE, locale: 'en-NZ' });
  try {
    await joinThroughUi(page, base, room.id, 'Kit');
    await say(page, 'I want to kill myself');
    const card = page.locator('#crisis-card');
    await card.waitFor();
    // No choice yet: the default lines, and no number that is not the card's.
    assert.deepEqual(await card.locator('.help-name').allInnerTexts(), ['Find A Helpline']);
    assert.equal(await card.locator('#help-country').inputValue(), '');
    assert.match(await card.locator('#crisis-emergency').innerText(), /^In danger now\? call your local emergency number\.$/);
    assert.equal(await card.locator('a[href^="tel:"]').count(), 0, 'no number is guessed');

    const picker = page.getByLabel('Your country, for its help lines and emergency number');
    await picker.selectOption({ label: 'New Zealand' });
    const nz = page.locator('#crisis-card');
    await nz.locator('#crisis-emergency a.emergency-call[href="tel:111"]').waitFor();
    assert.deepEqual(await nz.locator('.help-name').allInnerTexts(), ['Need to talk?']);
    await nz.locator('a[href="tel:1737"]').waitFor();
    await nz.locator('a[href="sms:1737"]').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'help-country', 'the picker keeps the focus');

    // Seen, then reopened: the choice is kept in the tab.
    await page.click('#crisis-seen-button');
    await nz.waitFor({ state: 'detached' });
    await page.locator('#need-help-link').click();
    const again = page.locator('#crisis-card');
    await again.locator('#crisis-emergency a[href="tel:111"]').waitFor();
    assert.equal(await again.locator('#help-country').inputValue(), 'NZ');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('kindred.country')), 'NZ');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});
