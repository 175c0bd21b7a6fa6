// The live session: one WebSocket at a time, `hello` on every open, automatic
// reconnection with backoff, and the bookkeeping that makes a resume exact
// (PROTOCOL.md §5, §7, §14).

/** Frames that belong to the room's timeline (PROTOCOL.md §6). Decide by type. */
export const TIMELINE = new Set([
  'message', 'joined', 'left', 'stepped_out', 'muted', 'unmuted', 'paused', 'resumed', 'opened', 'held', 'unheld', 'redacted',
  'slow_mode', 'locked', 'floor', 'hand', 'reaction', 'waiting_room', 'shield', 'cw', 'policy', 'announcement', 'closed',
]);

/** Frames that are never part of the timeline, though some carry a `seq` that names one. */
const PRIVATE = new Set([
  'welcome', 'members', 'ack', 'error', 'typing', 'whisper', 'warning', 'mute_notice', 'crisis_resources', 'alert', 'waiting', 'mod_log',
  'share_the_air',
]);

/**
 * A timeline event, by type. A type this client does not know yet but that carries
 * its own `seq` is a timeline event added within v1 (§23): it still counts for the
 * backlog and for gap detection, or a resume would wait for it forever.
 */
export function isTimeline(frame) {
  return TIMELINE.has(frame.type) || (!PRIVATE.has(frame.type) && Number.isSafeInteger(frame.seq));
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

/** Close codes after which reconnecting with the same token cannot help (§14). */
const FINAL = {
  1000: 'ended',
  1008: 'refused',
  4001: 'unauthorized',
  4003: 'removed',
  4004: 'closed',
};

/**
 * Close codes after which retrying on a timer cannot help either, but the person can
 * fix it and reconnect by hand (§14): 4009, too many connections for this token.
 */
const BLOCKED = {
  4009: 'too_many_connections',
};

const storageKey = (room) => `kindred:${room}`;

/** The member's session for one room, kept for the life of the tab. */
export function loadSession(room) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey(room)) || 'null');
    if (saved && saved.token && (!saved.expires_at || saved.expires_at > Date.now() + 60_000)) {
      return saved;
    }
  } catch {
    // A damaged entry is the same as none.
  }
  return null;
}

export function saveSession(room, session) {
  sessionStorage.setItem(storageKey(room), JSON.stringify(session));
}

export function forgetSession(room) {
  sessionStorage.removeItem(storageKey(room));
}

/**
 * Callbacks:
 * - `onWelcome(welcome)` before its backlog,
 * - `onEvent(frame, {backlog})` for each timeline event, once, in order,
 * - `onPrivate(frame)` for every other frame,
 * - `onOpen()` once the backlog has been delivered (pending sends can go now),
 * - `onStatus({state, retryInMs?})` with state `connecting|live|waiting`,
 * - `onMembers(members)` for each `members` frame continuing the welcome's list,
 * - `onBlocked({reason, code, error})` when it stops retrying until `reconnect()`,
 * - `onEnd({reason, code, error})` when the connection will not be retried.
 */
export class Connection {
  constructor(session, handlers) {
    this.session = session;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.ended = false;
    this.live = false;
    // Resume state: highest timeline seq shown, and the history's epoch.
    this.lastSeq = null;
    this.epoch = null;
    this.backlogLeft = 0;
    this.membersLeft = 0;
    this.welcomeSeq = 0;
    this.lastError = null;
  }

  start() {
    this.open();
  }

  /** Send a frame if the socket is live. Returns whether it went out. */
  send(frame) {
    if (!this.live || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Leave for good: the server answers with `left` and close 1000. */
  leave() {
    this.send({ type: 'leave' });
    this.finish({ reason: 'left', code: 1000 });
  }

  /** Stop without a word (the page is going away or the session ended). */
  stop() {
    this.ended = true;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000);
    }
  }

  open() {
    clearTimeout(this.timer);
    if (this.ended) return;
    this.live = false;
    this.lastError = null;
    this.handlers.onStatus?.({ state: 'connecting' });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}${this.session.ws_path || '/ws'}`);
    this.ws = ws;
    ws.onopen = () => {
      const hello = { type: 'hello', token: this.session.token };
      // Said on every hello of the stay: only the facilitators learn it (§9 hello).
      if (this.session.first_time) hello.first_time = true;
      if (this.lastSeq !== null && this.epoch !== null) {
        hello.last_seq = this.lastSeq;
        hello.epoch = this.epoch;
      }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(frame);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.closed(event.code, event.reason);
    };
  }

  receive(frame) {
    if (frame.type === 'welcome') {
      this.attempt = 0;
      const reset = frame.resume !== 'resumed';
      // After a fresh or reset welcome the view starts again from the backlog.
      if (reset) this.lastSeq = null;
      this.epoch = frame.epoch;
      this.welcomeSeq = frame.seq;
      this.backlogLeft = frame.backlog || 0;
      // The rest of the member list comes first, in `member_parts` frames (§11).
      this.membersLeft = Number.isSafeInteger(frame.member_parts) && frame.member_parts > 0 ? frame.member_parts : 0;
      this.handlers.onWelcome(frame, { reset });
      if (this.backlogLeft === 0 && this.membersLeft === 0) this.caughtUp();
      return;
    }
    if (frame.type === 'members') {
      if (this.membersLeft <= 0) return; // Never sent at any other time.
      this.membersLeft -= 1;
      this.handlers.onMembers?.(Array.isArray(frame.members) ? frame.members : []);
      if (this.membersLeft === 0 && this.backlogLeft === 0) this.caughtUp();
      return;
    }
    if (isTimeline(frame)) {
      const backlog = this.backlogLeft > 0;
      if (backlog) this.backlogLeft -= 1;
      if (this.lastSeq !== null && frame.seq <= this.lastSeq) {
        // Already shown: the overlap of a backlog and the live feed.
      } else if (!backlog && this.lastSeq !== null && frame.seq > this.lastSeq + 1) {
        // A hole in the live feed: resume from the last event we have.
        this.reconnectNow();
        return;
      } else {
        this.lastSeq = frame.seq;
        this.persist();
        this.handlers.onEvent(frame, { backlog });
      }
      if (backlog && this.backlogLeft === 0) this.caughtUp();
      return;
    }
    if (frame.type === 'error' && !frame.client_id) this.lastError = frame;
    this.handlers.onPrivate(frame);
  }

  caughtUp() {
    if (this.lastSeq === null || this.lastSeq < this.welcomeSeq) this.lastSeq = this.welcomeSeq;
    this.persist();
    this.live = true;
    this.handlers.onStatus?.({ state: 'live' });
    this.handlers.onOpen?.();
  }

  persist() {
    this.session.last_seq = this.lastSeq;
    this.session.epoch = this.epoch;
    saveSession(this.session.room, this.session);
  }

  closed(code, reason) {
    this.live = false;
    if (this.ended) return;
    // Turned away from the waiting room (`error` `denied`, then 4003): a decision,
    // not a fault, and never retried, whatever the close code says.
    if (this.lastError && this.lastError.code === 'denied') {
      this.finish({ reason: 'denied', code, error: this.lastError, text: reason });
      return;
    }
    const final = FINAL[code];
    if (final) {
      this.finish({ reason: final, code, error: this.lastError, text: reason });
      return;
    }
    const blocked = BLOCKED[code];
    if (blocked) {
      // Retrying on our own would only take the place of another tab: wait for the
      // person to close one and ask again (`reconnect()`).
      clearTimeout(this.timer);
      this.attempt = 0;
      this.handlers.onBlocked?.({ reason: blocked, code, error: this.lastError });
      return;
    }
    this.retry();
  }

  /** Try again now, by hand, after `onBlocked`. */
  reconnect() {
    if (this.ended) return;
    this.attempt = 0;
    this.reconnectNow();
  }

  retry() {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const wait = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this.handlers.onStatus?.({ state: 'waiting', retryInMs: wait, error: this.lastError });
    this.timer = setTimeout(() => this.open(), wait);
  }

  reconnectNow() {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.close(1000);
    }
    this.open();
  }

  finish(end) {
    this.ended = true;
    this.live = false;
    clearTimeout(this.timer);
    this.handlers.onEnd?.(end);
  }
}
