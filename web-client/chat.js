// The room: its layout, the connection's frames sent where they belong, and the
// room's chrome (banners, notes, member list, composer). The parts live beside it:
// room.js (what the room is), timeline.js (the conversation), outbox.js (messages
// on their way), whispers.js (private messages), cards.js (the crisis card and a
// facilitator's note), waiting.js (the waiting room), facilitator.js (the
// facilitator's tools). Frames and fields follow protocol/PROTOCOL.md exactly.

import { h, clear, clock, duration, ask, notify } from './dom.js';
import { Connection, forgetSession } from './connection.js';
import { FacilitatorTools } from './facilitator.js';
import { RoomModel, MEMBER_EVENTS } from './room.js';
import { Timeline } from './timeline.js';
import { Outbox } from './outbox.js';
import { Whispers } from './whispers.js';
import { crisisCard, WarningNote } from './cards.js';
import { nextSessionNote } from './schedule.js';
import { WaitingScreen } from './waiting.js';

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

/** What someone turned away from the waiting room is told: a fact, gently, not a fault. */
const DENIED_TEXT = "Thank you for waiting. A facilitator wasn't able to let you into this session.";
const DENIED_HELP = 'You are welcome to look at other groups, or to come back for a later session. If you need to talk to someone right now, please contact a crisis line or your local emergency number.';

/** What a participant in the waiting room is told if something they tried has to wait. */
const WAITING_TEXT = "You're in the waiting room for now. A facilitator will let you in shortly, and then you can take part.";

export class Chat {
  /** `session`: {room, token, user_id, role, ws_path, …}; `room`: the RoomSummary. */
  constructor(root, session, room) {
    this.root = root;
    this.session = session;
    this.model = new RoomModel(room);
    this.typers = new Map();
    this.lastTypingSent = 0;
    this.facilitator = null;
    this.ended = false;
    this.timeline = new Timeline(this);
    this.outbox = new Outbox(this);
    this.whispers = new Whispers(this);
    this.note = new WarningNote(this);
    this.waitingScreen = new WaitingScreen(this);
    this.waiting = false; // in the waiting room: the screen shows instead of the room
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

  // The room as facilitator.js reads it.
  get me() { return this.model.me; }
  get room() { return this.model.summary; }
  get state() { return this.model.state; }
  get members() { return this.model.members; }
  nameOf(user) { return this.model.nameOf(user); }
  isFacilitator() { return this.model.isFacilitator(); }

  // ---- layout ---------------------------------------------------------------

  build() {
    const room = this.model.summary;
    this.titleEl = h('h1', { class: 'room-title', text: room.title });
    this.topicEl = h('p', { class: 'room-topic', text: room.topic || '' });
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
    this.announcement = h('div', { class: 'banner announcement', id: 'announcement', hidden: true });
    this.roomNotes = h('div', { class: 'room-notes', 'aria-live': 'polite' });

    this.scroller = h('div', { class: 'scroller', tabindex: '0', 'aria-label': 'Conversation' },
      this.timeline.list, this.outbox.list);

    this.membersList = h('ul', { class: 'members', id: 'members' });
    this.membersHeading = h('h2', { text: 'Here now' });
    this.sheetClose = h('button', { type: 'button', class: 'button quiet small sheet-close', onclick: () => { this.toggleSidebar(); this.peopleButton.focus(); } }, 'Close');
    this.sidebar = h('aside', { class: 'sidebar', id: 'sidebar', 'aria-label': 'People and private messages' },
      this.sheetClose,
      h('section', { class: 'panel' }, this.membersHeading, this.membersList),
      this.whispers.panel);

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
      this.endedBanner, this.blockedBanner, this.crisisSlot, this.note.slot, this.heldBanner, this.pausedBanner,
      this.announcement, this.roomNotes,
      h('div', { class: 'chat-body' },
        h('div', { class: 'conversation' }, this.scroller, this.typingEl,
          h('div', { id: 'notices', class: 'notices', 'aria-live': 'polite' }), this.composer),
        this.sidebar));
    this.titleEl.id = 'room-title';
    clear(this.root).append(this.view, this.waitingScreen.el);
    this.input.focus();
  }

  toggleSidebar() {
    const open = this.sidebar.classList.toggle('open');
    this.peopleButton.setAttribute('aria-expanded', String(open));
    this.peopleButton.classList.remove('attention');
  }

  openSidebar() {
    if (!this.sidebar.classList.contains('open')) this.toggleSidebar();
  }

  /** On a phone, where the sidebar is folded away, mark the People button. */
  drawAttention() {
    if (!this.sidebar.classList.contains('open') && window.matchMedia('(max-width: 800px)').matches) {
      this.peopleButton.classList.add('attention');
    }
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
    this.model.welcome(f);
    this.titleEl.textContent = f.room.title;
    this.topicEl.textContent = f.room.topic || '';
    document.title = `${f.room.title} · Kindred`;
    // A waiting welcome: the room's door, not the room (§10 "The waiting room").
    if (f.you.waiting) {
      this.waiting = true;
      this.view.hidden = true;
      this.waitingScreen.show(f.room);
      return;
    }
    const admitted = this.waiting;
    if (admitted) {
      this.waiting = false;
      this.waitingScreen.hide();
      this.view.hidden = false;
    }
    // A note still waiting to be read comes again right after the backlog (§11);
    // one read meanwhile in another tab does not, so it is put away until then.
    this.note.set(null, { quiet: true });
    if (reset) {
      this.timeline.clear();
      this.outbox.reset();
    }
    this.timeline.setBusy(true);
    if (f.you.role === 'facilitator' && !this.facilitator) {
      this.facilitator = new FacilitatorTools(this);
      this.toolbarSlot.append(this.facilitator.toolbar, this.facilitator.sessionBanner);
      this.sheetClose.after(...this.facilitator.panels);
      this.sidebar.append(this.facilitator.logPanel);
      this.whispers.forFacilitator();
    }
    this.facilitator?.welcomed();
    this.renderAll();
    if (admitted) {
      this.input.focus();
      notify('You are in. Welcome to the group.');
    }
  }

  /** The rest of the welcome's member list (`members` frames, PROTOCOL.md §11). */
  onMembers(members) {
    this.model.addMembers(members);
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
    this.timeline.setBusy(false);
    this.scrollToEnd(true);
    this.outbox.resend();
  }

  onEnd({ reason, code, error, text: closeReason }) {
    this.ended = true;
    const status = document.getElementById('conn-status');
    if (this.waiting) {
      this.endWaiting(reason, error);
      return;
    }
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
    const denied = reason === 'denied';
    if (denied) text = DENIED_TEXT;
    // After a session, when the group meets next (if it has a schedule).
    const nextSlot = reason === 'closed' ? h('div', { class: 'next-slot' }) : null;
    // `append` would write out a null as "null": only what is there goes in.
    clear(this.endedBanner).append(...[h('p', { text }),
      banned ? h('p', { text: BANNED_HELP }) : null,
      denied ? h('p', { text: DENIED_HELP }) : null,
      nextSlot,
      h('p', {},
        reason === 'unauthorized'
          ? h('a', { href: `/?room=${encodeURIComponent(this.session.room)}`, class: 'button primary', text: 'Join again' })
          : null,
        ' ',
        h('a', { href: '/', class: 'button quiet', text: 'See other groups' }))].filter(Boolean));
    this.endedBanner.hidden = false;
    this.blockedBanner.hidden = true;
    if (status) { status.textContent = ''; status.dataset.state = 'ended'; }
    if (['left', 'closed', 'removed', 'unauthorized', 'denied'].includes(reason)) forgetSession(this.session.room);
    this.composer.hidden = true;
    this.typingEl.textContent = '';
    this.handButton.hidden = true;
    this.leaveButton.hidden = true;
    this.whispers.form.hidden = true;
    this.note.set(null, { quiet: true });
    if (this.facilitator) {
      this.facilitator.toolbar.hidden = true;
      this.facilitator.sessionBanner.hidden = true;
    }
    this.outbox.endAll(text);
    this.endedBanner.querySelector('a')?.focus();
    if (nextSlot) this.showNextSession(nextSlot);
  }

  /**
   * When the group meets next, read afresh: the summary the welcome carried may
   * still name the session that has just ended.
   */
  async showNextSession(slot) {
    let room = this.model.summary;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.session.room)}`);
      if (response.status === 404) return; // The room is gone: it meets no more.
      if (response.ok) room = await response.json();
    } catch {
      // Offline: the welcome's summary will do.
    }
    const note = nextSessionNote(room, { justEnded: true });
    if (note) slot.replaceChildren(note);
  }

  /** The wait ended without coming in: said on the waiting screen itself. */
  endWaiting(reason, error) {
    const status = document.getElementById('conn-status');
    if (status) { status.textContent = ''; status.dataset.state = 'ended'; }
    if (['left', 'closed', 'removed', 'unauthorized', 'denied'].includes(reason)) forgetSession(this.session.room);
    let lines;
    if (reason === 'denied') lines = [DENIED_TEXT, DENIED_HELP];
    else if (reason === 'left') lines = ["You've left the waiting room. Take good care of yourself."];
    else if (reason === 'closed') lines = ['This session has ended before you could come in. Thank you for waiting.'];
    else if (reason === 'removed' && error && error.code === 'banned') lines = [BANNED_TEXT, BANNED_HELP];
    else if (reason === 'unauthorized') lines = ['Your place in the waiting room has expired. You are welcome to join again.'];
    else lines = ['The connection has ended. You are welcome to join again.'];
    const nextSlot = reason === 'closed' ? h('div', { class: 'next-slot' }) : null;
    this.waitingScreen.end(lines, nextSlot);
    if (nextSlot) this.showNextSession(nextSlot);
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
    if (!backlog) this.model.apply(f);
    if (f.type === 'left' && this.model.isMe(f.user)) this.leftReason = f.reason;
    if (f.type === 'closed') this.closedReason = f.reason || '';
    this.timeline.show(f);
    if (f.type === 'message' || f.type === 'left') this.stopTyping(f.user);
    if (!backlog) {
      this.renderState();
      if (MEMBER_EVENTS.has(f.type)) this.renderMembers();
      this.facilitator?.refresh();
    }
    this.scrollToEnd(stick);
  }

  // ---- state, members -------------------------------------------------------

  renderAll() {
    this.renderState();
    this.renderMembers();
    this.facilitator?.refresh();
  }

  renderState() {
    const s = this.model.state;
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
      if (this.heldBanner.hidden) {
        clear(this.heldBanner).append(
          h('p', {},
            h('strong', { text: 'No facilitator is here right now. ' }),
            h('span', { text: 'Messages wait until one is back; you can keep reading in the meantime. If you need help now, please contact a crisis line or your local emergency number.' })),
          h('p', { class: 'held-invite' },
            h('span', { text: 'You can write to the facilitators privately: the first one to arrive will read it. ' }),
            h('button', { type: 'button', class: 'button small', id: 'held-whisper-button',
              onclick: () => this.whispers.writeTo(null) }, 'Write to the facilitators')));
      }
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
      const mine = this.model.isMe(s.floor);
      notes.push(h('p', { class: 'note floor', id: 'floor-note' },
        mine ? 'You have the floor' : `${this.nameOf(s.floor)} has the floor`,
        s.floor_until ? ` until ${clock(s.floor_until)}` : '',
        mine ? '. Take your time.' : '. Let\'s listen.'));
    }
    if (s.slow_mode_seconds) notes.push(h('p', { class: 'note', text: `Slow mode: one message every ${duration(s.slow_mode_seconds * 1000)}.` }));
    if (s.locked) notes.push(h('p', { class: 'note', text: 'The room is locked to new members.' }));
    const me = this.model.myself();
    if (me && me.muted) {
      notes.push(h('p', { class: 'note self', text: `You are muted${me.muted_until ? ` until ${clock(me.muted_until)}` : ' for now'}. You can still write privately to a facilitator.` }));
    }
    clear(this.roomNotes).append(...notes);
    const raised = !!(me && me.hand_raised);
    this.handButton.setAttribute('aria-pressed', String(raised));
    this.handButton.querySelector('.label').textContent = raised ? 'Lower hand' : 'Raise hand';
    this.renderComposer();
  }

  renderMembers() {
    const list = [...this.model.members.values()].sort((a, b) =>
      (a.role === 'facilitator' ? 0 : 1) - (b.role === 'facilitator' ? 0 : 1) || a.name.localeCompare(b.name));
    this.membersHeading.textContent = `Here now (${list.length})`;
    this.peopleButton.textContent = `People (${list.length})`;
    const openMenu = this.facilitator?.menuState();
    clear(this.membersList);
    for (const m of list) {
      const me = this.model.isMe(m.user);
      const status = [];
      if (m.hand_raised) status.push(h('span', { class: 'status hand' }, h('span', { 'aria-hidden': 'true', text: '✋ ' }), 'hand raised'));
      if (this.model.state.floor === m.user) status.push(h('span', { class: 'status floor', text: 'has the floor' }));
      if (m.muted) status.push(h('span', { class: 'status muted', text: m.muted_until ? `muted until ${clock(m.muted_until)}` : 'muted' }));
      const li = h('li', { class: `member${m.hand_raised ? ' hand-raised' : ''}`, dataset: { user: m.user } },
        h('span', { class: 'member-name' }, m.name, me ? h('span', { class: 'you', text: ' (you)' }) : null),
        m.role === 'facilitator' ? h('span', { class: 'badge', text: 'facilitator' }) : null,
        ...status,
        this.facilitator && !me ? this.facilitator.memberMenu(m) : null);
      this.membersList.append(li);
    }
    if (openMenu) this.facilitator.restoreMenu(openMenu);
    if (this.facilitator) this.whispers.setRecipients(list);
  }

  /**
   * The composer's hint, and whether it takes a message at all: not while a
   * facilitator's note waits to be read, nor while no facilitator is here (the
   * server would refuse it). Words already typed stay in it.
   */
  renderComposer() {
    const me = this.model.myself();
    const facilitator = this.isFacilitator();
    const s = this.model.state;
    let hint = 'Enter sends · Shift+Enter for a new line';
    let blocked = '';
    if (!facilitator && this.note.current) {
      hint = 'A facilitator sent you a note, just above. You can post again once you have read it.';
      blocked = 'warned';
    } else if (!facilitator && s.held) {
      hint = 'No facilitator is here right now, so messages wait until one is back.';
      blocked = 'held';
    } else if (!facilitator && s.paused) hint = 'The room is paused: messages wait until it resumes.';
    else if (me && me.muted) hint = 'You are muted for now; private messages to facilitators still work.';
    else if (!facilitator && s.floor && s.floor !== this.model.me.user) hint = `${this.nameOf(s.floor)} has the floor right now.`;
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
    this.input.value = '';
    if (!this.cwInput.hidden) this.toggleCw();
    this.outbox.add(text, cw);
    this.scrollToEnd(true);
    this.input.focus();
  }

  /** A refused message back in the composer, to change and send again. */
  editAgain(text, cw) {
    this.input.value = text;
    if (cw) { this.toggleCw(); this.cwInput.value = cw; }
    this.input.focus();
  }

  typed() {
    const now = Date.now();
    if (this.input.value.trim() && now - this.lastTypingSent >= TYPING_EVERY_MS) {
      if (this.conn.send({ type: 'typing' })) this.lastTypingSent = now;
    }
  }

  toggleHand() {
    const me = this.model.myself();
    const raised = !(me && me.hand_raised);
    if (!this.conn.send({ type: 'hand', raised })) {
      notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
    }
  }

  // ---- private frames -------------------------------------------------------

  onPrivate(f) {
    switch (f.type) {
      case 'ack':
        if (this.facilitator?.onAck(f)) break;
        this.outbox.onAck(f);
        break;
      case 'error': {
        if (f.client_id) {
          if (this.facilitator?.onError(f)) break;
          if (this.outbox.onError(f)) break;
        }
        if (['unauthorized', 'banned', 'closed', 'not_found', 'room_full', 'locked', 'timeout', 'slow_consumer', 'internal', 'rate_limited'].includes(f.code) && !this.conn.live) {
          break; // About the connection itself: the close that follows tells the story.
        }
        // Turned away from the waiting room: the close that follows ends the page kindly.
        if (f.code === 'denied') break;
        if (f.code === 'waiting') {
          if (this.waiting) this.waitingScreen.say(WAITING_TEXT);
          else notify(WAITING_TEXT);
          break;
        }
        // The whisper was not delivered (no facilitator here, or no such member).
        if (this.whispers.onError(f)) break;
        notify(f.message || 'Something went wrong.', { tone: 'warn' });
        break;
      }
      case 'typing':
        this.showTyping(f);
        break;
      case 'whisper':
        this.whispers.add(f);
        break;
      case 'crisis_resources':
        clear(this.crisisSlot).append(crisisCard(f, {
          onSeen: () => {
            this.conn.send({ type: 'ack_warning' });
            this.input.focus();
          },
        }));
        break;
      case 'alert':
        this.facilitator?.addAlert(f);
        break;
      case 'waiting':
        this.facilitator?.onWaiting(f.members);
        break;
      case 'mod_log':
        this.facilitator?.onModLog(f.entries);
        break;
      case 'warning':
        if (this.facilitator) this.facilitator.addWarning(f);
        else this.note.on(f);
        break;
      default:
        console.info('kindred: ignoring a frame of unknown type', f.type);
    }
  }

  showTyping(f) {
    if (this.model.isMe(f.user)) return;
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

  /** Open the private message box addressed to one member (facilitators). */
  whisperToMember(user) {
    this.whispers.writeTo(user);
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
    this.timeline.jumpTo(seq);
  }
}
