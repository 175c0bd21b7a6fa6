// The room: conversation, members, room state, composer, private messages and the
// crisis resources card. Frames and fields follow protocol/PROTOCOL.md exactly.

import { h, clear, clock, duration, newClientId, ask, notify } from './dom.js';
import { Connection, forgetSession } from './connection.js';
import { FacilitatorTools } from './facilitator.js';

/** The closed set of reactions (PROTOCOL.md §9 `react`). */
export const REACTIONS = [
  { emoji: 'heart', glyph: '❤️', label: 'I care' },
  { emoji: 'hug', glyph: '🤗', label: 'A hug' },
  { emoji: 'strength', glyph: '💪', label: 'You are strong' },
  { emoji: 'thanks', glyph: '🙏', label: 'Thank you for sharing' },
  { emoji: 'me_too', glyph: '🙋', label: 'Me too' },
  { emoji: 'candle', glyph: '🕯️', label: 'Thinking of you' },
];
const REACTION = Object.fromEntries(REACTIONS.map((r) => [r.emoji, r]));

/** Timeline events that change the member list. */
const MEMBER_EVENTS = new Set(['joined', 'left', 'muted', 'unmuted', 'hand', 'floor']);

/** `typing` at most this often (PROTOCOL.md: at most every 3 s). */
const TYPING_EVERY_MS = 3000;
/** How long "X is typing" stays after the last `typing` (PROTOCOL.md: about 5 s). */
const TYPING_SHOWN_MS = 5000;

/**
 * What a banned person is told, in the same words whether the ban ends their stay
 * in the room or they try to join again (app.js).
 */
export const BANNED_TEXT = "A facilitator has asked you to leave this group, so you can't rejoin it.";
export const BANNED_HELP = 'Other groups are still open to you. If you need to talk to someone right now, please contact a crisis line or your local emergency number.';

/** What to tell a member whose `send` was refused, by error code. */
function refusalText(error, chat) {
  const wait = error.retry_after_ms ? duration(error.retry_after_ms) : null;
  switch (error.code) {
    case 'muted': {
      const until = chat.me && chat.members.get(chat.me.user)?.muted_until;
      return `You're muted for now${until ? ` (until ${clock(until)})` : ''}. Your words are kept here, and you can still write privately to a facilitator.`;
    }
    case 'paused':
      return 'The room is paused for a moment, so messages are on hold. You can send this once the facilitator resumes.';
    case 'held':
      return "No facilitator is here right now, so messages wait. You can send this once one is back. If you are in danger now, please contact a crisis line or your local emergency number.";
    case 'warned':
      return 'A facilitator sent you a note. Once you have read it and pressed "I understand", you can send this.';
    case 'slow_mode':
      return `Slow mode is on: you can post again in ${wait || 'a little while'}.`;
    case 'not_your_turn':
      return "Someone has the floor right now. You can send this when their share is over, or write privately to a facilitator.";
    case 'rate_limited':
      return `That was a lot at once. You can try again in ${wait || 'a moment'}.`;
    case 'too_large':
      return 'This message is longer than the room allows. Could you split it into two?';
    case 'closed':
      return 'The session has ended, so this message was not shared.';
    default:
      return error.message || 'This message could not be sent.';
  }
}

export class Chat {
  /** `session`: {room, token, user_id, role, ws_path, …}; `room`: the RoomSummary. */
  constructor(root, session, room) {
    this.root = root;
    this.session = session;
    this.room = room;
    this.me = null;
    this.members = new Map();
    this.names = new Map();
    this.state = {};
    this.messages = new Map(); // seq → {frame, el, reactions: Map(emoji → Set(user))}
    this.pending = new Map(); // client_id → {text, cw, el, status}
    this.awaiting = new Map(); // seq → pending entry acknowledged before its message arrived
    this.typers = new Map();
    this.lastTypingSent = 0;
    this.whisperPending = null; // {text} of the whisper sent last, until its copy comes back
    this.warning = null; // a facilitator's note to this member, until they acknowledge it
    this.facilitator = null;
    this.ended = false;
    this.build();
    this.conn = new Connection(session, {
      onWelcome: (f, o) => this.onWelcome(f, o),
      onMembers: (m) => this.onMembers(m),
      onBlocked: (b) => this.onBlocked(b),
      onEvent: (f, o) => this.onEvent(f, o),
      onPrivate: (f) => this.onPrivate(f),
      onOpen: () => this.onOpen(),
      onStatus: (s) => this.onStatus(s),
      onEnd: (e) => this.onEnd(e),
    });
    this.conn.start();
  }

  // ---- layout ---------------------------------------------------------------

  build() {
    this.titleEl = h('h1', { class: 'room-title', text: this.room.title });
    this.topicEl = h('p', { class: 'room-topic', text: this.room.topic || '' });
    this.handButton = h('button', {
      type: 'button', class: 'button', 'aria-pressed': 'false', id: 'hand-button',
      onclick: () => this.toggleHand(),
    }, h('span', { 'aria-hidden': 'true', text: '✋ ' }), h('span', { class: 'label', text: 'Raise hand' }));
    this.peopleButton = h('button', {
      type: 'button', class: 'button quiet people-toggle', 'aria-controls': 'sidebar', 'aria-expanded': 'false',
      onclick: () => this.toggleSidebar(),
    }, 'People');
    this.leaveButton = h('button', {
      type: 'button', class: 'button quiet', id: 'leave-button', onclick: () => this.leave(),
    }, 'Leave');

    this.crisisSlot = h('div', { class: 'crisis-slot', 'aria-live': 'polite' });
    this.endedBanner = h('div', { class: 'banner ended', role: 'status', hidden: true });
    this.blockedBanner = h('div', { class: 'banner blocked', id: 'blocked-banner', role: 'status', hidden: true });
    this.pausedBanner = h('div', { class: 'banner paused', id: 'paused-banner', role: 'status', hidden: true });
    this.heldBanner = h('div', { class: 'banner held', id: 'held-banner', role: 'status', hidden: true });
    // The note is focused when it comes, so it is read out then: no live region.
    this.warningSlot = h('div', { class: 'warning-slot' });
    this.announcement = h('div', { class: 'banner announcement', id: 'announcement', hidden: true });
    this.roomNotes = h('div', { class: 'room-notes', 'aria-live': 'polite' });

    this.timeline = h('ol', {
      class: 'timeline', id: 'timeline', role: 'log', 'aria-live': 'polite',
      'aria-relevant': 'additions', 'aria-label': 'Conversation', 'aria-busy': 'true',
    });
    this.outbox = h('ol', { class: 'outbox', id: 'outbox', 'aria-live': 'polite', 'aria-label': 'Your messages being sent' });
    this.scroller = h('div', { class: 'scroller', tabindex: '0', 'aria-label': 'Conversation' },
      this.timeline, this.outbox);

    this.membersList = h('ul', { class: 'members', id: 'members' });
    this.membersHeading = h('h2', { text: 'Here now' });
    this.whispers = h('ol', { class: 'whispers', id: 'whispers', 'aria-live': 'polite' });
    this.whisperTo = h('select', { id: 'whisper-to', class: 'field', hidden: true });
    this.whisperText = h('textarea', {
      id: 'whisper-text', class: 'field', rows: '2', maxlength: '4000',
      placeholder: 'Only the facilitators will see this',
    });
    this.whisperLabel = h('label', { for: 'whisper-text', class: 'label', text: 'Write privately to the facilitators' });
    this.whisperError = h('p', { class: 'whisper-error', id: 'whisper-error', role: 'alert', hidden: true });
    this.whisperForm = h('form', { class: 'whisper-form', onsubmit: (e) => { e.preventDefault(); this.sendWhisper(); } },
      h('label', { for: 'whisper-to', class: 'label', hidden: true, id: 'whisper-to-label', text: 'To' }),
      this.whisperTo, this.whisperLabel, this.whisperText, this.whisperError,
      h('button', { type: 'submit', class: 'button', text: 'Send privately' }));
    this.whisperText.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.sendWhisper();
      }
    });
    this.sidebar = h('aside', { class: 'sidebar', id: 'sidebar', 'aria-label': 'People and private messages' },
      h('button', { type: 'button', class: 'button quiet small sheet-close', onclick: () => { this.toggleSidebar(); this.peopleButton.focus(); } }, 'Close'),
      h('section', { class: 'panel' }, this.membersHeading, this.membersList),
      h('section', { class: 'panel', 'aria-labelledby': 'whispers-heading' },
        h('h2', { id: 'whispers-heading', text: 'Private messages' }), this.whispers, this.whisperForm));

    this.typingEl = h('p', { class: 'typing', id: 'typing' });
    this.cwInput = h('input', {
      id: 'cw-input', class: 'field cw-input', maxlength: '60', hidden: true,
      placeholder: 'Content warning, e.g. grief, self-harm', 'aria-label': 'Content warning label',
    });
    this.cwButton = h('button', {
      type: 'button', class: 'button quiet small', 'aria-pressed': 'false', id: 'cw-button',
      onclick: () => this.toggleCw(),
    }, 'Add a content warning');
    this.input = h('textarea', {
      id: 'composer-input', class: 'field composer-input', rows: '2',
      placeholder: 'Share with the group…', 'aria-describedby': 'composer-hint',
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => this.typed());
    this.composerHint = h('p', { class: 'composer-hint', id: 'composer-hint', text: 'Enter sends · Shift+Enter for a new line' });
    this.sendButton = h('button', { type: 'submit', class: 'button primary', id: 'send-button', text: 'Send' });
    this.composer = h('form', { class: 'composer', id: 'composer', onsubmit: (e) => { e.preventDefault(); this.submit(); } },
      h('label', { for: 'composer-input', class: 'visually-hidden', text: 'Your message' }),
      h('div', { class: 'composer-row' }, this.input, this.sendButton),
      h('div', { class: 'composer-extras' }, this.cwButton, this.cwInput, this.composerHint));

    this.toolbarSlot = h('div', { class: 'toolbar-slot' });
    this.view = h('section', { class: 'chat', 'aria-labelledby': 'room-title' },
      h('header', { class: 'room-header' },
        h('div', { class: 'room-heading' }, this.titleEl, this.topicEl),
        h('div', { class: 'room-actions' }, this.peopleButton, this.handButton, this.leaveButton)),
      this.toolbarSlot,
      this.endedBanner, this.blockedBanner, this.crisisSlot, this.warningSlot, this.heldBanner, this.pausedBanner,
      this.announcement, this.roomNotes,
      h('div', { class: 'chat-body' },
        h('div', { class: 'conversation' }, this.scroller, this.typingEl,
          h('div', { id: 'notices', class: 'notices', 'aria-live': 'polite' }), this.composer),
        this.sidebar));
    this.titleEl.id = 'room-title';
    clear(this.root).append(this.view);
    this.input.focus();
  }

  toggleSidebar() {
    const open = this.sidebar.classList.toggle('open');
    this.peopleButton.setAttribute('aria-expanded', String(open));
    this.peopleButton.classList.remove('attention');
  }

  toggleCw() {
    const on = this.cwInput.hidden;
    this.cwInput.hidden = !on;
    this.cwButton.setAttribute('aria-pressed', String(on));
    if (on) this.cwInput.focus();
    else this.cwInput.value = '';
  }

  // ---- connection -----------------------------------------------------------

  onStatus({ state, retryInMs }) {
    const el = document.getElementById('conn-status');
    if (!el || this.ended) return;
    el.dataset.state = state;
    if (state === 'live') this.blockedBanner.hidden = true;
    if (state === 'live') el.textContent = 'Connected';
    else if (state === 'connecting') el.textContent = 'Connecting…';
    else el.textContent = `Connection lost. Trying again in ${duration(retryInMs)}…`;
  }

  onWelcome(f, { reset }) {
    this.me = f.you;
    this.room = f.room;
    this.titleEl.textContent = f.room.title;
    this.topicEl.textContent = f.room.topic || '';
    document.title = `${f.room.title} · Kindred`;
    this.members = new Map(f.members.map((m) => [m.user, { ...m }]));
    for (const m of f.members) this.names.set(m.user, m.name);
    this.state = { ...f.state };
    // A note still waiting to be read comes again right after the backlog (§11);
    // one read meanwhile in another tab does not, so it is put away until then.
    this.setWarning(null, { quiet: true });
    if (reset) {
      clear(this.timeline);
      this.messages.clear();
      this.awaiting.clear();
    }
    this.timeline.setAttribute('aria-busy', 'true');
    if (f.you.role === 'facilitator' && !this.facilitator) {
      this.facilitator = new FacilitatorTools(this);
      this.toolbarSlot.append(this.facilitator.toolbar, this.facilitator.sessionBanner);
      this.sidebar.prepend(this.facilitator.panel);
      this.whisperTo.hidden = false;
      document.getElementById('whisper-to-label').hidden = false;
      this.whisperLabel.textContent = 'Message';
      this.whisperText.placeholder = 'Private: the recipient and the facilitators see it';
    }
    this.renderAll();
  }

  /** The rest of the welcome's member list (`members` frames, PROTOCOL.md §11). */
  onMembers(members) {
    for (const m of members) {
      if (!m || !m.user) continue;
      this.members.set(m.user, { ...m });
      this.names.set(m.user, m.name);
    }
    this.renderMembers();
  }

  /** Close 4009: this member has too many connections; reconnect only when asked. */
  onBlocked() {
    const status = document.getElementById('conn-status');
    if (status) { status.textContent = 'Not connected'; status.dataset.state = 'blocked'; }
    const button = h('button', { type: 'button', class: 'button primary', id: 'reconnect-button', text: 'Reconnect',
      onclick: () => { this.blockedBanner.hidden = true; this.conn.reconnect(); } });
    clear(this.blockedBanner).append(
      h('p', { text: 'This room is open in too many tabs or windows. Close one, then reconnect.' }),
      h('p', {}, button));
    this.blockedBanner.hidden = false;
    button.focus();
  }

  onOpen() {
    this.timeline.setAttribute('aria-busy', 'false');
    this.scrollToEnd(true);
    // Anything written while away goes out now, with its original client_id, so a
    // message that did reach the server is not applied twice (PROTOCOL.md §8).
    for (const [clientId, p] of this.pending) {
      if (p.status === 'waiting' || p.status === 'sending') this.transmit(clientId, p);
    }
  }

  onEnd({ reason, code, error, text: closeReason }) {
    this.ended = true;
    const status = document.getElementById('conn-status');
    const messages = {
      left: "You've left the room. Take good care of yourself.",
      closed: 'This session has ended. Thank you for being here.',
      removed: 'A facilitator has removed you from this room.',
      unauthorized: 'Your place in this room has expired. You are welcome to join again.',
      ended: 'You are connected to this room in another tab or window.',
      refused: 'The server could not accept this connection.',
    };
    let text = messages[reason] || 'The connection has ended.';
    if (reason === 'closed' && this.closedReason) text = `This session has ended. ${this.closedReason}`;
    else if (error && error.code === 'not_found') text = 'This room no longer exists.';
    // Close 4003 is a removal or a ban (PROTOCOL.md §20): a ban says so in its error
    // frame (at `hello`), in our own `left` event, or in the close reason.
    const banned = (error && error.code === 'banned') || this.leftReason === 'banned'
      || (code === 4003 && /\bbanned\b/i.test(closeReason || ''));
    if (banned) text = BANNED_TEXT;
    clear(this.endedBanner).append(h('p', { text }),
      banned ? h('p', { text: BANNED_HELP }) : null,
      h('p', {},
        reason === 'unauthorized'
          ? h('a', { href: `/?room=${encodeURIComponent(this.session.room)}`, class: 'button primary', text: 'Join again' })
          : null,
        ' ',
        h('a', { href: '/', class: 'button quiet', text: 'See other groups' })));
    this.endedBanner.hidden = false;
    this.blockedBanner.hidden = true;
    if (status) { status.textContent = ''; status.dataset.state = 'ended'; }
    if (['left', 'closed', 'removed', 'unauthorized'].includes(reason)) forgetSession(this.session.room);
    this.composer.hidden = true;
    this.typingEl.textContent = '';
    this.handButton.hidden = true;
    this.leaveButton.hidden = true;
    this.whisperForm.hidden = true;
    this.setWarning(null, { quiet: true });
    if (this.facilitator) {
      this.facilitator.toolbar.hidden = true;
      this.facilitator.sessionBanner.hidden = true;
    }
    for (const p of this.pending.values()) {
      if (p.status !== 'held') this.markFailed(p, { code: 'closed', message: text }, false);
    }
    this.endedBanner.querySelector('a')?.focus();
  }

  async leave() {
    const ok = await ask({
      title: 'Leave the room?',
      body: 'You can come back later by joining again with any name.',
      confirmLabel: 'Leave',
      cancelLabel: 'Stay',
    });
    if (ok) this.conn.leave();
  }

  // ---- timeline -------------------------------------------------------------

  onEvent(f, { backlog }) {
    const stick = this.nearEnd();
    if (!backlog) this.apply(f);
    switch (f.type) {
      case 'message':
        this.renderMessage(f);
        this.stopTyping(f.user);
        break;
      case 'joined':
        this.names.set(f.member.user, f.member.name);
        this.line(f, f.member.user === this.me.user ? 'You joined the room.' : `${f.member.name} joined the room.`);
        break;
      case 'left': {
        if (this.me && f.user === this.me.user) this.leftReason = f.reason;
        const who = this.nameOf(f.user);
        const why = {
          left: `${who} left the room.`,
          disconnected: `${who} lost their connection.`,
          removed: `${who} was asked to leave by a facilitator.`,
          banned: `${who} was removed from the group.`,
        }[f.reason] || `${who} left the room.`;
        this.line(f, why);
        this.stopTyping(f.user);
        break;
      }
      case 'muted':
        this.line(f, `${this.nameOf(f.user)} is muted for now${f.until ? ` (until ${clock(f.until)})` : ''}.`);
        break;
      case 'unmuted':
        this.line(f, `${this.nameOf(f.user)} can post again.`);
        break;
      case 'paused':
        this.line(f, `The facilitator paused the room${f.reason ? `: ${f.reason}` : '.'}`, 'pause');
        break;
      case 'resumed':
        this.line(f, 'The room is open for sharing again.', 'pause');
        break;
      case 'opened':
        this.line(f, 'The session is open.', 'pause');
        break;
      case 'held':
        this.line(f, 'No facilitator is here right now. Messages wait until one is back.', 'pause');
        break;
      case 'unheld':
        this.line(f, 'A facilitator is back. You can share again.', 'pause');
        break;
      case 'redacted':
        this.redact(f.target);
        break;
      case 'slow_mode':
        this.line(f, f.seconds ? `Slow mode: one message every ${duration(f.seconds * 1000)}.` : 'Slow mode is off.');
        break;
      case 'locked':
        this.line(f, f.locked ? 'The room is locked: no new members for now.' : 'The room is open to new members again.');
        break;
      case 'floor':
        this.line(f, f.user
          ? `${this.nameOf(f.user)} has the floor${f.until ? ` until ${clock(f.until)}` : ''}. Let's listen.`
          : 'The floor is open to everyone again.');
        break;
      case 'hand':
        break;
      case 'reaction':
        this.addReaction(f);
        break;
      case 'announcement':
        this.line(f, 'The facilitator pinned an announcement.');
        break;
      case 'policy':
        if (this.facilitator) this.line(f, "The room's content policy was changed.");
        break;
      case 'closed':
        this.closedReason = f.reason || '';
        this.line(f, `The session has ended${f.reason ? `: ${f.reason}` : '.'}`, 'pause');
        break;
      default:
        console.info('kindred: a timeline event of unknown type', f.type);
        break;
    }
    if (!backlog) {
      this.renderState();
      if (MEMBER_EVENTS.has(f.type)) this.renderMembers();
      this.facilitator?.refresh();
    }
    this.scrollToEnd(stick);
  }

  /** Keep members and room state current with a live event. */
  apply(f) {
    const member = (user) => this.members.get(user);
    switch (f.type) {
      case 'joined':
        this.members.set(f.member.user, { ...f.member });
        break;
      case 'left':
        this.members.delete(f.user);
        break;
      case 'muted': {
        const m = member(f.user);
        if (m) { m.muted = true; m.muted_until = f.until; }
        break;
      }
      case 'unmuted': {
        const m = member(f.user);
        if (m) { m.muted = false; delete m.muted_until; }
        break;
      }
      case 'paused': this.state.paused = true; break;
      case 'resumed': this.state.paused = false; break;
      case 'opened': this.state.open = true; break;
      case 'held': this.state.held = true; break;
      case 'unheld': this.state.held = false; break;
      case 'closed': this.state.open = false; break;
      case 'slow_mode': this.state.slow_mode_seconds = f.seconds; break;
      case 'locked': this.state.locked = f.locked; break;
      case 'floor':
        this.state.floor = f.user;
        this.state.floor_until = f.until;
        break;
      case 'hand': {
        const m = member(f.user);
        if (m) m.hand_raised = f.raised;
        break;
      }
      case 'announcement': this.state.announcement = f.text; break;
      default: break;
    }
  }

  nameOf(user) {
    return this.names.get(user) || 'A member';
  }

  line(f, text, tone = '') {
    this.timeline.append(h('li', { class: `event ${tone}`, dataset: { seq: f.seq } },
      h('span', { text }), ' ', h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })));
  }

  renderMessage(f) {
    this.names.set(f.user, f.name);
    const mine = this.me && f.user === this.me.user;
    const author = this.members.get(f.user);
    const entry = { frame: f, reactions: new Map() };
    const body = h('div', { class: 'msg-body' });
    const el = h('li', {
      class: `msg${mine ? ' mine' : ''}`, id: `m-${f.seq}`, tabindex: '-1', dataset: { seq: f.seq },
    },
    h('div', { class: 'msg-meta' },
      h('span', { class: 'msg-name', text: f.name }),
      author && author.role === 'facilitator' ? h('span', { class: 'badge', text: 'facilitator' }) : null,
      mine ? h('span', { class: 'visually-hidden', text: '(you)' }) : null,
      h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })),
    body);
    entry.el = el;
    entry.body = body;
    this.messages.set(f.seq, entry);
    if (f.redacted) {
      this.fillRemoved(entry);
    } else {
      if (f.cw) {
        const text = h('p', { class: 'msg-text', hidden: true, id: `t-${f.seq}`, text: f.text });
        const toggle = h('button', {
          type: 'button', class: 'cw-toggle', 'aria-expanded': 'false', 'aria-controls': `t-${f.seq}`,
          onclick: () => {
            const open = text.hidden;
            text.hidden = !open;
            toggle.setAttribute('aria-expanded', String(open));
            toggle.lastChild.textContent = open ? 'Hide' : 'Show message';
          },
        }, h('span', { class: 'cw-label', text: `Content warning: ${f.cw}` }), h('span', { class: 'cw-action', text: 'Show message' }));
        body.append(toggle, text);
      } else {
        body.append(h('p', { class: 'msg-text', text: f.text }));
      }
      entry.reactionsEl = h('div', { class: 'reactions', 'aria-label': 'Reactions' });
      el.append(entry.reactionsEl, this.messageActions(f, entry));
    }
    this.timeline.append(el);
    const waiting = this.awaiting.get(f.seq);
    if (waiting) {
      waiting.el.remove();
      this.awaiting.delete(f.seq);
    }
  }

  messageActions(f, entry) {
    const mine = this.me && f.user === this.me.user;
    const picker = h('div', { class: 'picker', hidden: true, role: 'group', 'aria-label': 'Choose a reaction' },
      REACTIONS.map((r) => h('button', {
        type: 'button', class: 'picker-button', title: r.label, 'aria-label': `${r.label} (${r.emoji.replace('_', ' ')})`,
        dataset: { emoji: r.emoji },
        onclick: () => {
          this.conn.send({ type: 'react', seq: f.seq, emoji: r.emoji });
          picker.hidden = true;
          reactButton.setAttribute('aria-expanded', 'false');
          reactButton.focus();
        },
      }, r.glyph)));
    picker.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { picker.hidden = true; reactButton.setAttribute('aria-expanded', 'false'); reactButton.focus(); }
    });
    const reactButton = h('button', {
      type: 'button', class: 'link-button react-button', 'aria-expanded': 'false',
      onclick: () => {
        picker.hidden = !picker.hidden;
        reactButton.setAttribute('aria-expanded', String(!picker.hidden));
        if (!picker.hidden) picker.querySelector('button').focus();
      },
    }, 'React');
    const actions = h('div', { class: 'msg-actions' }, reactButton,
      mine ? null : h('button', { type: 'button', class: 'link-button', onclick: () => this.report(f) }, 'Report'),
      this.facilitator ? this.facilitator.messageAction(f) : null,
      picker);
    entry.actionsEl = actions;
    return actions;
  }

  async report(f) {
    const reason = await ask({
      title: 'Report this message to the facilitators',
      body: `Only the facilitators will see your report; ${f.name} will not know who sent it.`,
      input: { label: 'What worries you about it? (optional)', multiline: true, maxlength: 500 },
      confirmLabel: 'Send report',
    });
    if (reason === null) return;
    const frame = { type: 'report', seq: f.seq };
    if (reason) frame.reason = reason;
    if (this.conn.send(frame)) notify('Thank you. The facilitators have been told.');
    else notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
  }

  redact(seq) {
    const entry = this.messages.get(seq);
    if (entry) this.fillRemoved(entry);
  }

  fillRemoved(entry) {
    entry.frame = { ...entry.frame, text: '', redacted: true };
    clear(entry.body).append(h('p', { class: 'msg-text removed', text: 'message removed' }));
    entry.reactionsEl?.remove();
    entry.actionsEl?.remove();
    entry.el.classList.add('redacted');
  }

  addReaction(f) {
    const entry = this.messages.get(f.target);
    if (!entry || !entry.reactionsEl) return;
    let users = entry.reactions.get(f.emoji);
    if (!users) { users = new Set(); entry.reactions.set(f.emoji, users); }
    users.add(f.user);
    clear(entry.reactionsEl);
    for (const r of REACTIONS) {
      const who = entry.reactions.get(r.emoji);
      if (!who || who.size === 0) continue;
      const names = [...who].map((u) => (this.me && u === this.me.user ? 'you' : this.nameOf(u)));
      entry.reactionsEl.append(h('span', {
        class: `reaction${this.me && who.has(this.me.user) ? ' mine' : ''}`, dataset: { emoji: r.emoji },
        title: `${r.label}: ${names.join(', ')}`,
      }, h('span', { 'aria-hidden': 'true', text: r.glyph }),
      h('span', { class: 'visually-hidden', text: `${r.label} from ${names.join(', ')}` }),
      h('span', { class: 'count', 'aria-hidden': 'true', text: String(who.size) })));
    }
    if (!REACTION[f.emoji]) console.info('kindred: unknown reaction', f.emoji);
  }

  // ---- state, members -------------------------------------------------------

  renderAll() {
    this.renderState();
    this.renderMembers();
    this.facilitator?.refresh();
  }

  renderState() {
    const s = this.state;
    if (s.paused) {
      clear(this.pausedBanner).append(
        h('strong', { text: 'A pause for breath. ' }),
        h('span', { text: 'The room is paused for a moment; only facilitators can post. Take your time.' }));
      this.pausedBanner.hidden = false;
    } else {
      this.pausedBanner.hidden = true;
    }
    // Only participants wait: a facilitator's arrival is what ends a hold.
    if (s.held && !this.isFacilitator()) {
      clear(this.heldBanner).append(
        h('strong', { text: 'No facilitator is here right now. ' }),
        h('span', { text: 'Messages wait until one is back; you can keep reading in the meantime. If you need help now, please contact a crisis line or your local emergency number.' }));
      this.heldBanner.hidden = false;
    } else {
      this.heldBanner.hidden = true;
    }
    if (s.announcement) {
      clear(this.announcement).append(h('span', { class: 'pin', 'aria-hidden': 'true', text: '📌 ' }),
        h('span', { class: 'visually-hidden', text: 'Pinned announcement: ' }), h('span', { text: s.announcement }));
      this.announcement.hidden = false;
    } else {
      this.announcement.hidden = true;
    }
    const notes = [];
    if (s.floor) {
      const mine = this.me && s.floor === this.me.user;
      notes.push(h('p', { class: 'note floor', id: 'floor-note' },
        mine ? 'You have the floor' : `${this.nameOf(s.floor)} has the floor`,
        s.floor_until ? ` until ${clock(s.floor_until)}` : '',
        mine ? '. Take your time.' : '. Let\'s listen.'));
    }
    if (s.slow_mode_seconds) notes.push(h('p', { class: 'note', text: `Slow mode: one message every ${duration(s.slow_mode_seconds * 1000)}.` }));
    if (s.locked) notes.push(h('p', { class: 'note', text: 'The room is locked to new members.' }));
    const me = this.me && this.members.get(this.me.user);
    if (me && me.muted) {
      notes.push(h('p', { class: 'note self', text: `You are muted${me.muted_until ? ` until ${clock(me.muted_until)}` : ' for now'}. You can still write privately to a facilitator.` }));
    }
    clear(this.roomNotes).append(...notes);
    const raised = !!(me && me.hand_raised);
    this.handButton.setAttribute('aria-pressed', String(raised));
    this.handButton.querySelector('.label').textContent = raised ? 'Lower hand' : 'Raise hand';
    this.renderComposer();
  }

  isFacilitator() {
    return !!(this.me && this.me.role === 'facilitator');
  }

  renderMembers() {
    const list = [...this.members.values()].sort((a, b) =>
      (a.role === 'facilitator' ? 0 : 1) - (b.role === 'facilitator' ? 0 : 1) || a.name.localeCompare(b.name));
    this.membersHeading.textContent = `Here now (${list.length})`;
    this.peopleButton.textContent = `People (${list.length})`;
    const openMenu = this.facilitator?.menuState();
    clear(this.membersList);
    for (const m of list) {
      const me = this.me && m.user === this.me.user;
      const status = [];
      if (m.hand_raised) status.push(h('span', { class: 'status hand' }, h('span', { 'aria-hidden': 'true', text: '✋ ' }), 'hand raised'));
      if (this.state.floor === m.user) status.push(h('span', { class: 'status floor', text: 'has the floor' }));
      if (m.muted) status.push(h('span', { class: 'status muted', text: m.muted_until ? `muted until ${clock(m.muted_until)}` : 'muted' }));
      const li = h('li', { class: `member${m.hand_raised ? ' hand-raised' : ''}`, dataset: { user: m.user } },
        h('span', { class: 'member-name' }, m.name, me ? h('span', { class: 'you', text: ' (you)' }) : null),
        m.role === 'facilitator' ? h('span', { class: 'badge', text: 'facilitator' }) : null,
        ...status,
        this.facilitator && !me ? this.facilitator.memberMenu(m) : null);
      this.membersList.append(li);
    }
    if (openMenu) this.facilitator.restoreMenu(openMenu);
    // Whisper recipients for a facilitator: the facilitators, or one member.
    if (this.facilitator) {
      const chosen = this.whisperTo.value;
      clear(this.whisperTo).append(h('option', { value: '', text: 'Facilitators only' }),
        ...list.filter((m) => m.user !== this.me.user).map((m) => h('option', { value: m.user, text: m.name })));
      this.whisperTo.value = [...this.whisperTo.options].some((o) => o.value === chosen) ? chosen : '';
    }
    this.renderComposer();
  }

  /**
   * The composer's hint, and whether it takes a message at all: not while a
   * facilitator's note waits to be read, nor while no facilitator is here (the
   * server would refuse it). Words already typed stay in it.
   */
  renderComposer() {
    const me = this.me && this.members.get(this.me.user);
    const facilitator = this.isFacilitator();
    let hint = 'Enter sends · Shift+Enter for a new line';
    let blocked = '';
    if (!facilitator && this.warning) {
      hint = 'A facilitator sent you a note, just above. You can post again once you have read it.';
      blocked = 'warned';
    } else if (!facilitator && this.state.held) {
      hint = 'No facilitator is here right now, so messages wait until one is back.';
      blocked = 'held';
    } else if (!facilitator && this.state.paused) hint = 'The room is paused: messages wait until it resumes.';
    else if (me && me.muted) hint = 'You are muted for now; private messages to facilitators still work.';
    else if (!facilitator && this.state.floor && this.state.floor !== this.me.user) hint = `${this.nameOf(this.state.floor)} has the floor right now.`;
    this.composerHint.textContent = hint;
    const wasBlocked = this.input.disabled;
    this.input.disabled = !!blocked;
    this.sendButton.disabled = !!blocked;
    this.composer.dataset.blocked = blocked;
    // Disabling it took the focus away: give it back once they can write again.
    if (wasBlocked && !blocked && !this.ended && (document.activeElement === document.body || !document.activeElement)) {
      this.input.focus();
    }
  }

  // ---- composer ---------------------------------------------------------------

  submit() {
    const text = this.input.value.trim();
    if (!text || this.ended || this.input.disabled) return;
    const cw = this.cwInput.hidden ? '' : this.cwInput.value.trim();
    const clientId = newClientId('c');
    const p = { text, cw, status: 'sending' };
    p.el = this.pendingElement(clientId, p);
    this.pending.set(clientId, p);
    this.outbox.append(p.el);
    this.input.value = '';
    if (!this.cwInput.hidden) this.toggleCw();
    this.transmit(clientId, p);
    this.scrollToEnd(true);
    this.input.focus();
  }

  transmit(clientId, p) {
    const frame = { type: 'send', client_id: clientId, text: p.text };
    if (p.cw) frame.cw = p.cw;
    const sent = this.conn.send(frame);
    this.setPendingStatus(p, sent ? 'sending' : 'waiting');
  }

  pendingElement(clientId, p) {
    p.statusEl = h('p', { class: 'pending-status', role: 'status' });
    p.actionsEl = h('div', { class: 'pending-actions' });
    return h('li', { class: 'msg mine pending', dataset: { clientId } },
      h('div', { class: 'msg-meta' }, h('span', { class: 'msg-name', text: 'You' })),
      p.cw ? h('p', { class: 'cw-label', text: `Content warning: ${p.cw}` }) : null,
      h('p', { class: 'msg-text', text: p.text }),
      p.statusEl, p.actionsEl);
  }

  setPendingStatus(p, status, text) {
    p.status = status;
    p.el.dataset.status = status;
    const copy = {
      sending: 'Sending…',
      waiting: 'Waiting for the connection; it will be sent as soon as you are back.',
      held: 'Held for a facilitator to look at before the group sees it.',
    };
    p.statusEl.textContent = text || copy[status] || '';
  }

  markFailed(p, error, retryable = true) {
    const stick = this.nearEnd();
    this.setPendingStatus(p, 'failed', refusalText(error, this));
    p.el.dataset.code = error.code;
    clear(p.actionsEl);
    if (retryable) this.failedActions(p, error);
    this.scrollToEnd(stick);
  }

  failedActions(p, error) {
    const clientId = p.el.dataset.clientId;
    const retry = h('button', { type: 'button', class: 'button small', text: 'Try again',
      onclick: () => {
        // A refused send is not remembered by the server, but a fresh id keeps
        // every attempt distinct (PROTOCOL.md §8).
        this.pending.delete(clientId);
        const again = newClientId('c');
        p.el.dataset.clientId = again;
        this.pending.set(again, p);
        clear(p.actionsEl);
        this.transmit(again, p);
      } });
    const edit = h('button', { type: 'button', class: 'button small quiet', text: 'Edit',
      onclick: () => {
        this.pending.delete(clientId);
        p.el.remove();
        this.input.value = p.text;
        if (p.cw) { this.toggleCw(); this.cwInput.value = p.cw; }
        this.input.focus();
      } });
    const discard = h('button', { type: 'button', class: 'button small quiet', text: 'Discard',
      onclick: () => { this.pending.delete(clientId); p.el.remove(); this.input.focus(); } });
    p.actionsEl.append(retry, edit, discard);
    if (error.retry_after_ms) {
      retry.disabled = true;
      setTimeout(() => { retry.disabled = false; }, error.retry_after_ms);
    }
  }

  typed() {
    const now = Date.now();
    if (this.input.value.trim() && now - this.lastTypingSent >= TYPING_EVERY_MS) {
      if (this.conn.send({ type: 'typing' })) this.lastTypingSent = now;
    }
  }

  toggleHand() {
    const me = this.me && this.members.get(this.me.user);
    const raised = !(me && me.hand_raised);
    if (!this.conn.send({ type: 'hand', raised })) {
      notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
    }
  }

  // ---- private frames -------------------------------------------------------

  onPrivate(f) {
    switch (f.type) {
      case 'ack': {
        if (this.facilitator?.onAck(f)) break;
        const p = this.pending.get(f.client_id);
        if (!p) break;
        if (f.held) {
          // It waits for a facilitator; their decision arrives as this send's
          // `ack` with a `seq` (released) or `error` `filtered` (declined).
          this.setPendingStatus(p, 'held');
          break;
        }
        this.pending.delete(f.client_id);
        if (f.seq !== undefined && f.seq !== null && !this.messages.has(f.seq)) {
          this.setPendingStatus(p, 'sent', 'Sent');
          this.awaiting.set(f.seq, p);
        } else {
          p.el.remove();
        }
        break;
      }
      case 'error': {
        if (f.client_id) {
          if (this.facilitator?.onError(f)) break;
          const p = this.pending.get(f.client_id);
          if (p) { this.markFailed(p, f); break; }
        }
        if (['unauthorized', 'banned', 'closed', 'not_found', 'room_full', 'locked', 'timeout', 'slow_consumer', 'internal', 'rate_limited'].includes(f.code) && !this.conn.live) {
          break; // About the connection itself: the close that follows tells the story.
        }
        if (f.code === 'not_found' && this.whisperPending) {
          // The whisper was not delivered (no facilitator here, or no such member).
          this.whisperFailed(f);
          break;
        }
        notify(f.message || 'Something went wrong.', { tone: 'warn' });
        break;
      }
      case 'typing':
        this.showTyping(f);
        break;
      case 'whisper':
        this.addWhisper(f);
        break;
      case 'crisis_resources':
        this.showCrisisCard(f);
        break;
      case 'alert':
        this.facilitator?.addAlert(f);
        break;
      case 'warning':
        if (this.facilitator) this.facilitator.addWarning(f);
        else this.onWarning(f);
        break;
      default:
        console.info('kindred: ignoring a frame of unknown type', f.type);
    }
  }

  showTyping(f) {
    if (this.me && f.user === this.me.user) return;
    const old = this.typers.get(f.user);
    if (old) clearTimeout(old.timer);
    this.typers.set(f.user, { name: f.name, timer: setTimeout(() => this.stopTyping(f.user), TYPING_SHOWN_MS) });
    this.renderTyping();
  }

  stopTyping(user) {
    const t = this.typers.get(user);
    if (!t) return;
    clearTimeout(t.timer);
    this.typers.delete(user);
    this.renderTyping();
  }

  renderTyping() {
    const names = [...this.typers.values()].map((t) => t.name);
    let text = '';
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = 'Several people are typing…';
    this.typingEl.textContent = text;
  }

  addWhisper(f) {
    const fromMe = this.me && f.from === this.me.user;
    if (fromMe) {
      this.whisperPending = null;
      this.whisperError.hidden = true;
    }
    const to = f.to ? (this.me && f.to === this.me.user ? 'you' : this.nameOf(f.to)) : 'the facilitators';
    const head = fromMe ? `You → ${to}` : `${f.name} → ${to}`;
    this.whispers.append(h('li', { class: `whisper${fromMe ? ' mine' : ''}` },
      h('div', { class: 'msg-meta' }, h('span', { class: 'msg-name', text: head }),
        h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })),
      h('p', { class: 'msg-text', text: f.text })));
    this.whispers.lastChild.scrollIntoView({ block: 'nearest' });
    if (!fromMe) {
      notify(`Private message from ${f.name}.`);
      if (!this.sidebar.classList.contains('open') && window.matchMedia('(max-width: 800px)').matches) {
        this.peopleButton.classList.add('attention');
      }
    }
  }

  sendWhisper() {
    const text = this.whisperText.value.trim();
    if (!text) return;
    const frame = { type: 'whisper', text };
    if (this.facilitator && this.whisperTo.value) frame.to = this.whisperTo.value;
    if (this.conn.send(frame)) {
      this.whisperText.value = '';
      this.whisperError.hidden = true;
      this.whisperPending = { text };
    } else notify('You are offline right now; your private message was not sent yet.', { tone: 'warn' });
  }

  /** A whisper that reached nobody: say so, and give the words back to send later. */
  whisperFailed(f) {
    const { text } = this.whisperPending;
    this.whisperPending = null;
    this.whisperError.textContent = f.message || 'Your private message was not delivered.';
    this.whisperError.hidden = false;
    if (!this.whisperText.value.trim()) this.whisperText.value = text;
  }

  /** Open the private message box addressed to one member (facilitators). */
  whisperToMember(user) {
    if (!this.sidebar.classList.contains('open')) this.toggleSidebar();
    if ([...this.whisperTo.options].some((o) => o.value === user)) this.whisperTo.value = user;
    this.whisperText.focus();
  }

  showCrisisCard(f) {
    const title = h('h2', { id: 'crisis-title', text: f.title });
    const card = h('section', { class: 'crisis-card', id: 'crisis-card', 'aria-labelledby': 'crisis-title', tabindex: '-1' },
      title,
      h('p', { text: f.body }),
      h('ul', { class: 'help-lines' }, (f.lines || []).map((line) => h('li', {},
        h('span', { class: 'help-name', text: line.name }),
        line.region ? h('span', { class: 'help-region', text: line.region }) : null,
        h('span', { class: 'help-contact', text: line.contact }),
        line.url ? h('a', { href: line.url, target: '_blank', rel: 'noopener noreferrer', text: line.url.replace(/^https?:\/\//, '') }) : null))),
      h('button', { type: 'button', class: 'button', text: 'Thank you, I have seen this',
        onclick: () => {
          this.conn.send({ type: 'ack_warning' });
          card.remove();
          this.input.focus();
        } }));
    clear(this.crisisSlot).append(card);
  }

  // ---- a facilitator's note ------------------------------------------------------

  /** A `warning` to this member (§11): shown until read, here or in another tab. */
  onWarning(f) {
    if (!f || !Number.isSafeInteger(f.id)) return;
    if (f.acknowledged) {
      if (this.warningCard?.dataset.alertId === String(f.id)) this.dropWarning();
      return;
    }
    this.setWarning(f);
  }

  /**
   * The note waiting to be read (null: none), and its card. Put away with `quiet`
   * (at a welcome) the card is kept hidden, so that the same note given again comes
   * back without taking the focus a second time.
   */
  setWarning(f, { quiet = false } = {}) {
    this.warning = f;
    const card = this.warningCard;
    if (!f) {
      if (card) {
        const hadFocus = card.contains(document.activeElement);
        card.hidden = true;
        if (hadFocus && !quiet) this.input.focus();
      }
    } else if (card && card.dataset.alertId === String(f.id)) {
      card.hidden = false;
      if (document.activeElement === document.body) card.focus();
    } else {
      this.warningCard = this.warningCardFor(f);
      clear(this.warningSlot).append(this.warningCard);
      this.warningCard.focus();
    }
    this.renderComposer();
  }

  /** The note has been read: the card goes for good. */
  dropWarning() {
    const hadFocus = this.warningCard?.contains(document.activeElement);
    this.warning = null;
    this.warningCard = null;
    clear(this.warningSlot);
    this.renderComposer();
    if (hadFocus && !this.ended) this.input.focus();
  }

  warningCardFor(f) {
    const button = h('button', { type: 'button', class: 'button primary', id: 'warning-ack-button', text: 'I understand',
      onclick: () => {
        if (!this.conn.send({ type: 'ack_warning', alert: f.id })) {
          notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
          return;
        }
        // No answer comes to this tab's own `ack_warning` but the same note marked
        // read; the server takes this tab's next frames after it, in order.
        this.dropWarning();
        this.input.focus();
      } });
    return h('section', {
      class: 'warning-card', id: 'warning-card', tabindex: '-1', dataset: { alertId: f.id },
      'aria-labelledby': 'warning-title', 'aria-describedby': 'warning-reason',
    },
    h('h2', { id: 'warning-title', text: 'A facilitator sent you a note' }),
    h('p', { class: 'warning-reason', id: 'warning-reason', text: f.reason || 'They would like you to look at the group guidelines again.' }),
    h('p', { class: 'warning-help', text: 'Only you and the facilitators can see this. Once you have read it, you can post again. You can also write privately to the facilitators if you would like to talk about it.' }),
    h('p', {}, button));
  }

  // ---- scrolling --------------------------------------------------------------

  nearEnd() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }

  scrollToEnd(stick) {
    if (stick) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  jumpTo(seq) {
    const entry = this.messages.get(seq);
    if (!entry) {
      notify('That message is no longer in the conversation.', { tone: 'warn' });
      return;
    }
    entry.el.scrollIntoView({ block: 'center', behavior: window.matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
    entry.el.classList.add('highlight');
    entry.el.focus({ preventScroll: true });
    setTimeout(() => entry.el.classList.remove('highlight'), 2500);
  }
}
