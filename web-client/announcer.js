// What a screen reader hears, all of it, from here: the page's only two live regions
// (index.html: `#announcer`, polite, and `#announcer-urgent`, assertive, there from
// the first paint, since a region made at the moment it speaks is not heard). Every
// other part of the page (banners, status lines, notices, the transcript) is seen,
// not spoken: what it has to say comes through `announcer.say`, once.
//
// Each item is a short paragraph added to a region and removed after a moment. A
// burst of messages is summed up ("3 more new messages"); a backlog's new messages
// are counted while it arrives and said in one item ("12 new messages") at its end,
// after whatever else it brought (the room held, a pause), said as it came. Nothing old is said as new: what has an identity (an alert, a private
// message, a mute) is said once per tab, its key kept in session storage (ids only,
// never words) for as long as the tab lives, so a reload or a resume says only what
// is new to this person. Focus never moves because something arrived.

const KEEP_MS = 1200;
/** More than this many messages within BURST_MS are summed up. */
const BURST_ITEMS = 3;
const BURST_MS = 600;
/** At most this many keys are kept per room: the oldest go first. */
const KEPT_KEYS = 500;

/** The region with this id, made (hidden) if the page lacks it. */
function region(id, politeness) {
  let el = document.getElementById(id);
  if (!el) {
    el = document.createElement('div');
    el.id = id;
    el.className = 'visually-hidden';
    el.setAttribute('aria-live', politeness);
    el.setAttribute('aria-atomic', 'false');
    document.body.append(el);
  }
  return el;
}

class Announcer {
  constructor() {
    this.recent = []; // times of recent live messages
    this.summary = null; // the pending burst: {count, timer}
    this.counting = 0; // new messages counted during a backlog
    this.holding = false;
    this.room = null; // whose keys `once` reads and writes
    this.keys = null; // {epoch, keys: [...]} for `room`
  }

  /** Put one short item in a region, removed after a moment. */
  put(urgent, text) {
    const item = document.createElement('p');
    item.textContent = text;
    region(urgent ? 'announcer-urgent' : 'announcer', urgent ? 'assertive' : 'polite').append(item);
    setTimeout(() => item.remove(), KEEP_MS);
  }

  /**
   * Something worth hearing; `urgent` only for what cannot wait (a crisis alert,
   * "not sent", the session closing). With `once`, a key naming the thing (ids
   * only): said only if this tab has not said it before, and remembered.
   * Returns whether it was said. During a backlog, said at once all the same: only
   * messages wait, to be counted.
   */
  say(text, { urgent = false, once = null } = {}) {
    if (!text) return false;
    if (once !== null && !this.fresh(once)) return false;
    if (once !== null) this.remember(once);
    this.put(urgent, text);
    return true;
  }

  /** A new message in the conversation: said, or counted into a summary. */
  message(text) {
    if (this.holding) {
      this.counting += 1;
      return;
    }
    const now = Date.now();
    this.recent = this.recent.filter((t) => now - t < BURST_MS);
    this.recent.push(now);
    if (this.recent.length <= BURST_ITEMS && !this.summary) {
      this.put(false, text);
      return;
    }
    // A burst: say how many, once it has passed.
    if (!this.summary) this.summary = { count: 0, timer: null };
    this.summary.count += 1;
    clearTimeout(this.summary.timer);
    this.summary.timer = setTimeout(() => {
      const n = this.summary.count;
      this.summary = null;
      this.put(false, n === 1 ? '1 more new message' : `${n} more new messages`);
    }, BURST_MS);
  }

  /**
   * While a backlog arrives, count its new messages instead of saying them. A
   * connection lost before its backlog was in keeps its count: the next welcome's
   * backlog goes on from there.
   */
  hold() {
    if (this.holding) return;
    this.holding = true;
    this.counting = 0;
  }

  /** The backlog is in: one count of the new messages in it, after what else it brought. */
  release() {
    if (!this.holding) return;
    this.holding = false;
    const n = this.counting;
    this.counting = 0;
    if (n > 0) this.put(false, n === 1 ? '1 new message' : `${n} new messages`);
  }

  // ---- what this tab has said -----------------------------------------------

  /** Keys from now on are this room's, in this history (`epoch`: a new one forgets the old). */
  forRoom(room, epoch) {
    this.room = room;
    let kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(`kindred.heard.${room}`) || 'null');
    } catch {
      // A damaged record is the same as none.
    }
    this.keys = kept && kept.epoch === epoch && Array.isArray(kept.keys) ? kept : { epoch, keys: [] };
    this.store();
  }

  /** Whether `key` is news to this tab. */
  fresh(key) {
    return !this.keys || !this.keys.keys.includes(key);
  }

  remember(key) {
    if (!this.keys || this.keys.keys.includes(key)) return;
    this.keys.keys.push(key);
    if (this.keys.keys.length > KEPT_KEYS) this.keys.keys.splice(0, this.keys.keys.length - KEPT_KEYS);
    this.store();
  }

  /** `key` may be said again (a mute that ended: the next one is news). */
  drop(key) {
    if (!this.keys || !this.keys.keys.includes(key)) return;
    this.keys.keys = this.keys.keys.filter((k) => k !== key);
    this.store();
  }

  store() {
    try {
      sessionStorage.setItem(`kindred.heard.${this.room}`, JSON.stringify(this.keys));
    } catch {
      // No storage: remembered for this page only.
    }
  }

  /** The session is over for this tab: what it heard names nothing any more. */
  forget(room) {
    try {
      sessionStorage.removeItem(`kindred.heard.${room}`);
    } catch {
      // Nothing kept.
    }
    if (this.room === room) this.keys = { epoch: this.keys?.epoch ?? null, keys: [] };
  }
}

export const announcer = new Announcer();
