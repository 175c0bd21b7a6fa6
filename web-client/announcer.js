// What a screen reader hears of the room: one visually hidden polite region that
// gets short items ("Ash: I made it here tonight"), each removed after about a
// second, and one assertive region kept for what cannot wait ("not sent", the
// session closing, a facilitator's crisis alert). A burst (a resume's backlog,
// several messages at once) is summed up in one item ("12 new messages"). Focus
// never moves because something arrived. The transcript itself is not live.

import { h } from './dom.js';

const KEEP_MS = 1200;
/** More than this many items within BURST_MS are summed up. */
const BURST_ITEMS = 3;
const BURST_MS = 600;

class Announcer {
  constructor() {
    this.polite = null;
    this.assertive = null;
    this.recent = []; // times of recent polite items
    this.summary = null; // the pending burst: {count, timer}
    this.counting = 0; // items held back during a backlog
    this.holding = false;
  }

  regions() {
    if (this.polite && this.polite.isConnected) return;
    this.polite = h('div', { class: 'visually-hidden', id: 'announcer', 'aria-live': 'polite', 'aria-atomic': 'false' });
    this.assertive = h('div', { class: 'visually-hidden', id: 'announcer-urgent', 'aria-live': 'assertive', 'aria-atomic': 'false' });
    document.body.append(this.polite, this.assertive);
  }

  /** Put one short item in a region, removed after a moment. */
  put(region, text) {
    const item = h('p', { text });
    region.append(item);
    setTimeout(() => item.remove(), KEEP_MS);
  }

  /** Something worth hearing; `assertive` only for what cannot wait. */
  say(text, { assertive = false } = {}) {
    this.regions();
    if (assertive) {
      this.put(this.assertive, text);
      return;
    }
    this.put(this.polite, text);
  }

  /** A new message in the conversation: said, or counted into a summary. */
  message(text) {
    this.regions();
    if (this.holding) {
      this.counting += 1;
      return;
    }
    const now = Date.now();
    this.recent = this.recent.filter((t) => now - t < BURST_MS);
    this.recent.push(now);
    if (this.recent.length <= BURST_ITEMS && !this.summary) {
      this.put(this.polite, text);
      return;
    }
    // A burst: say how many, once it has passed.
    if (!this.summary) this.summary = { count: 0, timer: null };
    this.summary.count += 1;
    clearTimeout(this.summary.timer);
    this.summary.timer = setTimeout(() => {
      const n = this.summary.count;
      this.summary = null;
      this.put(this.polite, n === 1 ? '1 more new message' : `${n} more new messages`);
    }, BURST_MS);
  }

  /** While a backlog arrives, count messages instead of saying them. */
  hold() {
    this.holding = true;
    this.counting = 0;
  }

  /** The backlog is in: one summary, if it brought anything. */
  release() {
    if (!this.holding) return;
    this.holding = false;
    const n = this.counting;
    this.counting = 0;
    if (n > 0) this.say(n === 1 ? '1 new message' : `${n} new messages`);
  }
}

export const announcer = new Announcer();
