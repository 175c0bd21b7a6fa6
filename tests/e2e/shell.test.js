// Browser checks of the room as an app shell, measured as a person sees it on a
// 1280 × 800 screen and a 360 × 740 phone: the conversation takes the height that
// is left (at least 60% of the screen, the message box in view, the page itself
// never scrolling), a facilitator's tools fit in one row (or fold into a menu), an
// open alert's buttons are always in sight, the people here are a skip link away,
// and before a session a phone shows when the group meets next without scrolling.
// The last check takes the README's pictures (docs/screenshots/) from the client as
// it is, so they never fall behind it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useKindred, api, openPage, joinAt, joinThroughUi, say, base, serverLog } from './harness.js';

useKindred();

const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };
const SIZES = [['1280 × 800', WIDE], ['360 × 740', PHONE]];
const onPhone = (page) => page.viewportSize().width <= 800;

/** Where the README's pictures live. */
const PICTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');

/**
 * A group meeting now with Sam facilitating and Maya in it, a few words said, and
 * Maya's crisis message: Sam has an open crisis alert, Maya has seen her card.
 */
async function evening(viewport, n, { title = 'Thursday evening: anxiety & depression', seen = true } = {}) {
  const room = await api('POST', '/api/rooms', {
    open: true, title, topic: 'Anxiety and depression · everyone welcome',
    description: 'A calm group for people living with anxiety or depression.', capacity: 12,
  }, true);
  const invite = await api('POST', `/api/rooms/${room.id}/invites`, {}, true);
  const sam = await openPage(`sam ${n}`, { viewport, address: `198.18.7.${n * 2}` });
  const maya = await openPage(`maya ${n}`, { viewport, address: `198.18.7.${n * 2 + 1}` });
  await joinAt(sam, new URL(invite.url, base).href, 'Sam');
  await joinThroughUi(maya, base, room.id, 'Maya');
  await say(sam, 'Welcome, everyone. Take a breath; there is no rush to share tonight.');
  await say(maya, 'Thank you, Sam. It has been a hard week.');
  await say(sam, 'I am glad you are here, Maya. Would you like to say a little more?');
  await maya.locator('#timeline li.msg', { hasText: 'say a little more' }).waitFor();
  await say(maya, "Some days I want to end it all. I don't know who else to tell.");
  await maya.locator('#crisis-card').waitFor();
  await sam.locator('#alerts li.alert[data-kind="crisis"]').waitFor({ state: 'attached' });
  await sam.locator('#timeline li.msg', { hasText: 'end it all' }).waitFor();
  if (seen) {
    await maya.click('#crisis-seen-button');
    await maya.locator('#crisis-card').waitFor({ state: 'detached' });
  }
  return { room, sam, maya, pages: [sam, maya] };
}

/** What a person sees of the room's parts: each one's box on the screen, and how the page scrolls. */
function measure(page) {
  return page.evaluate(() => {
    const box = (el) => {
      if (!el || !el.checkVisibility()) return null;
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height };
    };
    const main = document.getElementById('main');
    const toolbar = document.getElementById('facilitator-tools');
    return {
      height: innerHeight,
      pageScrolls: document.scrollingElement.scrollHeight > innerHeight + 1,
      roomScrolls: main.scrollHeight > main.clientHeight + 1,
      conversation: box(document.querySelector('.scroller')),
      composer: box(document.getElementById('composer')),
      sidebar: box(document.getElementById('sidebar')),
      toolbar: box(toolbar),
      // The side panels' own scrolling: scrolled to their end, the page stays put.
      panelsScroll: (() => {
        const panels = document.querySelector('.sidebar-scroll');
        if (!panels || !panels.checkVisibility() || panels.scrollHeight <= panels.clientHeight) return null;
        panels.scrollTop = panels.scrollHeight;
        const moved = panels.scrollTop > 0 && document.scrollingElement.scrollTop === 0 && main.scrollTop === 0;
        panels.scrollTop = 0;
        return moved;
      })(),
      tools: toolbar ? [...toolbar.children].map(box).filter(Boolean) : [],
      toolsButton: box(document.getElementById('tools-button')),
    };
  });
}

test('the conversation takes at least 60% of the screen, the message box in view, for both roles at 1280 × 800 and 360 × 740', { timeout: 180_000 }, async (t) => {
  let n = 0;
  for (const [size, viewport] of SIZES) {
    await t.test(size, async () => {
      n += 1;
      const { sam, maya, pages } = await evening(viewport, n);
      try {
        for (const [who, page] of [['the facilitator', sam], ['a participant', maya]]) {
          const m = await measure(page);
          const share = m.conversation.height / m.height;
          assert.ok(share >= 0.6, `${who}, ${size}: the conversation is ${Math.round(m.conversation.height)} px, ${Math.round(share * 100)}% of the screen`);
          assert.ok(m.composer.top >= 0 && m.composer.bottom <= m.height,
            `${who}, ${size}: the message box is in view: ${JSON.stringify(m.composer)}`);
          assert.equal(m.pageScrolls, false, `${who}, ${size}: the page does not scroll as a document`);
          assert.equal(m.roomScrolls, false, `${who}, ${size}: nothing of the room is pushed below the screen`);
          if (m.sidebar) {
            assert.ok(m.sidebar.bottom <= m.height, `${who}, ${size}: the side panels end on the screen: ${JSON.stringify(m.sidebar)}`);
            // A facilitator's panels (alerts, private messages, people, the log) are
            // more than the screen holds: they scroll inside themselves.
            if (page === sam) assert.equal(m.panelsScroll, true, `${who}, ${size}: the side panels scroll inside themselves`);
          }
        }
        assert.deepEqual(pages.flatMap((p) => p.problems), []);
      } catch (e) {
        e.message += `\n--- kindred log ---\n${serverLog.slice(-2000)}`;
        throw e;
      } finally {
        for (const p of pages) await p.context().close();
      }
    });
  }
});

test("a facilitator's tools are one row on a wide screen, and a menu under Tools on a phone", { timeout: 150_000 }, async (t) => {
  let n = 10;
  // And on the narrowest screen that still shows them all (the suite's own desktop).
  for (const [size, viewport] of [...SIZES, ['1200 × 860', { width: 1200, height: 860 }]]) {
    await t.test(size, async () => {
      n += 1;
      const { sam, pages } = await evening(viewport, n);
      try {
        const m = await measure(sam);
        if (onPhone(sam)) {
          assert.equal(m.toolbar, null, 'folded away');
          assert.ok(m.toolsButton, 'under a Tools button');
          await sam.locator('#tools-button').focus();
          await sam.keyboard.press('Enter');
          await sam.locator('#facilitator-tools').waitFor({ state: 'visible' });
          assert.equal(await sam.evaluate(() => document.activeElement.id), 'pause-button', 'the menu opens on its first tool');
          await sam.keyboard.press('ArrowRight');
          assert.equal(await sam.evaluate(() => document.activeElement.id), 'slow-mode', 'the arrows move between the tools');
          await sam.keyboard.press('ArrowLeft');
          await sam.keyboard.press('Escape');
          await sam.locator('#facilitator-tools').waitFor({ state: 'hidden' });
          assert.equal(await sam.evaluate(() => document.activeElement.id), 'tools-button', 'Escape closes the menu, back on its button');
          assert.equal(await sam.locator('#tools-button').getAttribute('aria-expanded'), 'false');
        } else {
          assert.equal(m.toolsButton, null, 'no Tools button: the tools are simply there');
          assert.ok(m.tools.length >= 6, `the tools show: ${m.tools.length}`);
          const tallest = Math.max(...m.tools.map((b) => b.height));
          const tops = m.tools.map((b) => b.top + b.height / 2);
          assert.ok(Math.max(...tops) - Math.min(...tops) < tallest / 2, `one row: the tools' middles are at ${tops.map(Math.round)}`);
          assert.ok(m.toolbar.height < tallest * 1.6, `the toolbar is one button tall: ${Math.round(m.toolbar.height)} px`);
          for (const b of m.tools) assert.ok(b.right <= m.toolbar.right + 0.5, 'every tool inside the bar, none cut off');
        }
        assert.deepEqual(pages.flatMap((p) => p.problems), []);
      } finally {
        for (const p of pages) await p.context().close();
      }
    });
  }
});

/** Each button of an open alert: whether a person can see all of it, and tap it where it is. */
function alertButtons(page, kind) {
  return page.evaluate((k) => {
    const alert = document.querySelector(`#alerts li.alert[data-kind="${k}"]`);
    const list = document.getElementById('alerts').getBoundingClientRect();
    return [...alert.querySelectorAll('.alert-actions button')].map((b) => {
      const r = b.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return {
        name: b.textContent.trim(),
        inList: r.top >= list.top - 0.5 && r.bottom <= list.bottom + 0.5,
        onScreen: r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth,
        reachable: !!hit && b.contains(hit),
      };
    });
  }, kind);
}

test("an open alert's buttons are fully in sight, beside the room and in the phone's alerts sheet", { timeout: 120_000 }, async (t) => {
  let n = 20;
  for (const [size, viewport] of SIZES) {
    await t.test(size, async () => {
      n += 1;
      const { sam, maya, pages } = await evening(viewport, n);
      try {
        // A report after the crisis: two alerts, the crisis first, each with its words.
        const message = maya.locator('#timeline li.msg', { hasText: 'Take a breath' });
        await message.getByRole('button', { name: 'Report' }).click();
        await maya.click('dialog.dialog button[value="ok"]');
        await sam.locator('#alerts li.alert[data-kind="report"]').waitFor({ state: 'attached' });
        if (onPhone(sam)) await sam.click('#alerts-button');
        await sam.locator('#alerts li.alert[data-kind="crisis"]').waitFor({ state: 'visible' });
        const buttons = await alertButtons(sam, 'crisis');
        assert.deepEqual(buttons.map((b) => b.name), ['Go to message', 'Whisper to Maya', 'Call on-call', 'Done']);
        for (const b of buttons) {
          assert.deepEqual({ name: b.name, inList: b.inList, onScreen: b.onScreen, reachable: b.reachable },
            { name: b.name, inList: true, onScreen: true, reachable: true }, `${size}: "${b.name}" is in sight and can be pressed`);
        }
        // And pressing it does what it says.
        await sam.locator('#alerts li.alert[data-kind="crisis"]').getByRole('button', { name: 'Whisper to Maya' }).click();
        await sam.locator('#whisper-to').waitFor({ state: 'visible' });
        assert.equal(await sam.locator('#whisper-to option:checked').innerText(), 'Maya', 'the private message is to Maya');
        assert.deepEqual(pages.flatMap((p) => p.problems), []);
      } finally {
        for (const p of pages) await p.context().close();
      }
    });
  }
});

test('the people here are one skip link away: a member\'s menu in a few Tab presses, on a wide screen and on a phone', { timeout: 120_000 }, async (t) => {
  let n = 30;
  for (const [size, viewport] of SIZES) {
    await t.test(size, async () => {
      n += 1;
      const { sam, pages } = await evening(viewport, n);
      try {
        // From the top of the page: the first Tab stop is the skip link to the message box.
        const at = () => sam.evaluate(() => {
          const el = document.activeElement;
          return { text: el.textContent.trim(), menu: el.classList.contains('menu-button') ? el.textContent : null };
        });
        await sam.locator('.skip-link').focus();
        assert.equal((await at()).text, 'Skip to the message box');
        let presses = 1;
        await sam.keyboard.press('Tab');
        presses += 1;
        let where = await at();
        assert.equal(where.text, 'Skip to the people here', 'the second Tab stop is the skip link to the people here');
        await sam.keyboard.press('Enter');
        await sam.locator('#members-heading:focus').waitFor();
        await sam.keyboard.press('Tab');
        presses += 2;
        where = await at();
        assert.match(where.menu || '', /Actions for Maya/, `Tab from the list's heading reaches Maya's menu: ${JSON.stringify(where)}`);
        assert.ok(presses <= 5, `${presses} key presses to a member's menu`);
        assert.ok(await sam.locator('#members li.member', { hasText: 'Maya' }).locator('.menu-button').isVisible(), 'and it is in sight');
        assert.deepEqual(pages.flatMap((p) => p.problems), []);
      } finally {
        for (const p of pages) await p.context().close();
      }
    });
  }
});

test('before a session, on a phone, when the group meets next is in sight without scrolling, and every guideline can be read', { timeout: 60_000 }, async () => {
  const weekday = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][(new Date().getUTCDay() + 2) % 7];
  const room = await api('POST', '/api/rooms', {
    title: 'Thursday evening: anxiety & depression', topic: 'Everyone welcome',
    description: 'A calm group for people living with anxiety or depression, led by trained peer facilitators.',
    schedule: { weekday, start: '19:00', minutes: 90, timezone: 'Europe/London' }, capacity: 12,
  }, true);
  const ivy = await openPage('ivy', { viewport: PHONE, address: '198.18.7.90' });
  try {
    await ivy.goto(`${base}/?room=${encodeURIComponent(room.id)}`);
    await ivy.locator('#closed-note .next-session').waitFor();
    const seen = await ivy.evaluate(() => {
      const box = (el) => el.getBoundingClientRect();
      const guidelines = document.getElementById('guidelines');
      const style = getComputedStyle(guidelines);
      return {
        scrollY,
        height: innerHeight,
        when: box(document.querySelector('#closed-note .next-when')),
        calendar: box(document.querySelector('#closed-note .calendar-link')),
        guidelinesScroll: guidelines.scrollHeight > guidelines.clientHeight + 1
          || ['auto', 'scroll', 'hidden'].includes(style.overflowY),
        text: guidelines.innerText,
      };
    });
    assert.equal(seen.scrollY, 0);
    assert.ok(seen.when.bottom <= seen.height, `when the group meets next shows without scrolling: ${JSON.stringify(seen.when)}`);
    assert.ok(seen.calendar.bottom <= seen.height, `so does Add to calendar: ${JSON.stringify(seen.calendar)}`);
    assert.equal(seen.guidelinesScroll, false, 'the guidelines are not a box of their own to scroll');
    // The danger guideline is there in full, read by scrolling the page itself.
    const danger = ivy.locator('#guidelines');
    assert.match(seen.text, /If you are in danger right now, contact your local emergency number or a crisis line\./);
    await danger.scrollIntoViewIfNeeded();
    const shown = await ivy.evaluate(() => {
      const el = document.getElementById('guidelines');
      const r = el.getBoundingClientRect();
      return r.bottom <= innerHeight && r.top >= 0;
    });
    assert.ok(shown, 'the whole of the guidelines fits on the phone once scrolled to');
    assert.deepEqual(ivy.problems, []);
  } finally {
    await ivy.context().close();
  }
});

/**
 * How many pixels differ between two PNGs of the same size (decoded by the browser,
 * on a blank page of its own).
 */
async function pixelsApart(context, a, b) {
  const blank = await context.newPage();
  try {
    return await blank.evaluate(async ([x, y]) => {
      const load = (png) => new Promise((resolve, reject) => {
        const img = new Image();
        img.onload = () => resolve(img);
        img.onerror = reject;
        img.src = `data:image/png;base64,${png}`;
      });
      const pixels = (img) => {
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const g = canvas.getContext('2d');
        g.drawImage(img, 0, 0);
        return g.getImageData(0, 0, img.width, img.height).data;
      };
      const [p, q] = (await Promise.all([load(x), load(y)]));
      if (p.width !== q.width || p.height !== q.height) return Infinity;
      const [dp, dq] = [pixels(p), pixels(q)];
      let apart = 0;
      for (let i = 0; i < dp.length; i += 4) {
        if (dp[i] !== dq[i] || dp[i + 1] !== dq[i + 1] || dp[i + 2] !== dq[i + 2]) apart += 1;
      }
      return apart;
    }, [a.toString('base64'), b.toString('base64')]);
  } finally {
    await blank.close();
  }
}

/**
 * A picture of what a person sees, for the README. The clock in it reads a fixed
 * evening time (the times shown come from the server's clock), and nothing passing
 * is in it, so an unchanged client draws the same picture; the file is written only
 * when more than a few stray pixels of anti-aliasing differ from the one there.
 */
async function picture(page, name) {
  // Nothing passing: no one typing, no notice that fades by itself.
  await page.waitForFunction(() => !document.getElementById('typing')?.textContent);
  await page.evaluate(() => {
    for (const notice of document.querySelectorAll('#notices .notice')) notice.remove();
    for (const t of document.querySelectorAll('time')) t.textContent = '7:04 PM';
    document.activeElement?.blur();
  });
  const file = path.join(PICTURES, name);
  const png = await page.screenshot({ animations: 'disabled', caret: 'hide' });
  let before = null;
  try {
    before = readFileSync(file);
  } catch {
    // A new picture.
  }
  const { width, height } = page.viewportSize();
  const changed = !before || (!before.equals(png) && await pixelsApart(page.context(), before, png) > width * height / 2000);
  if (changed) writeFileSync(file, png);
  assert.ok(statSync(file).size < 300_000, `${name} is small enough for the README: ${statSync(file).size} bytes`);
}

test("the README's pictures, taken from the client as it is: a participant's phone and a facilitator's desktop", { timeout: 120_000 }, async () => {
  mkdirSync(PICTURES, { recursive: true });
  const phone = await evening(PHONE, 40, { seen: false });
  const desk = await evening(WIDE, 41);
  const pages = [...phone.pages, ...desk.pages];
  try {
    // Maya's phone: the help card, first thing after her words.
    const { maya } = phone;
    const card = maya.locator('#crisis-card');
    assert.ok(await card.locator('a[href^="tel:"]').first().isVisible(), 'the card shows a line to call');
    await picture(maya, 'participant-phone-crisis-card.png');
    await maya.click('#crisis-seen-button');
    await card.waitFor({ state: 'detached' });
    await say(maya, 'Thank you for listening. I feel a bit steadier now.');
    await maya.locator('#timeline li.msg', { hasText: 'steadier' }).waitFor();
    await picture(maya, 'participant-phone-room.png');

    // The facilitator at a desk, with the crisis alert open beside the room.
    const { sam } = desk;
    await sam.locator('#alerts li.alert[data-kind="crisis"]').waitFor();
    await picture(sam, 'facilitator-desktop.png');
    assert.deepEqual(pages.flatMap((p) => p.problems), []);
  } finally {
    for (const p of pages) await p.context().close();
  }
});
