// The room: its layout, the connection's frames sent where they belong, and the
// room's chrome (banners, notes, member list, the side panels that fold into
// sheets on a phone). The parts live beside it: room.js (what the room is),
// timeline.js (the conversation), composer.js (writing, and why one cannot now),
// outbox.js (messages on their way), whispers.js (private messages), crisis.js (the
// help card), cards.js (a facilitator's note), mute.js (a mute, from both sides),
// waiting.js (the waiting room), ending.js (how a stay ends), facilitator.js (the
// facilitator's tools), announcer.js (what a screen reader hears). Frames and
// fields follow protocol/PROTOCOL.md exactly.

import { h, clear, clock, ask, notify, duration, setSkipLink } from './dom.js';
import { Connection } from './connection.js';
import { FacilitatorTools } from './facilitator.js';
import { RoomModel, MEMBER_EVENTS } from './room.js';
import { Timeline } from './timeline.js';
import { Outbox } from './outbox.js';
import { Whispers } from './whispers.js';
import { WarningNote } from './cards.js';
import { WaitingScreen } from './waiting.js';
import { Composer } from './composer.js';
import { MuteNotice } from './mute.js';
import { help } from './crisis.js';
import { announcer } from './announcer.js';
import { endRoom, endWaiting } from './ending.js';

/** How long "X is typing" stays after the last `typing` (PROTOCOL.md: about 5 s). */
const TYPING_SHOWN_MS = 5000;

/** What a participant in the waiting room is told if something they tried has to wait. */
const WAITING_TEXT = "You're in the waiting room for now. A facilitator will let you in shortly, and then you can take part.";

/** Why the room could not take a message, for the crisis card ("not shared … (the room is paused)"). */
const REFUSED_BECAUSE = {
  paused: 'the room is paused',
  muted: 'you are muted',
  held: 'no facilitator is here right now',
  not_your_turn: 'someone else has the floor',
  slow_mode: 'slow mode is on',
  warned: "a facilitator's note is waiting for you",
};

/** Below this width the side panels fold into sheets opened from the room's header. */
export const PHONE = '(max-width: 800px)';

export class Chat {
  /** `session`: {room, token, user_id, role, ws_path, …}; `room`: the RoomSummary. */
  constructor(root, session, room) {
    this.root = root;
    this.session = session;
    this.model = new RoomModel(room);
    this.typers = new Map();
    this.facilitator = null;
    this.ended = false;
    this.welcomes = 0;
    // What became of this member's last message, for the words of a crisis card
    // that follows it: `shared`, `refused` (with the code) or `whisper`.
    this.lastSent = { sent: 'shared' };
    this.timeline = new Timeline(this);
    this.outbox = new Outbox(this);
    this.whispers = new Whispers(this);
    this.note = new WarningNote(this);
    this.mute = new MuteNotice(this);
    this.composer = new Composer(this);
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
  get input() { return this.composer.input; }
  nameOf(user) { return this.model.nameOf(user); }
  isFacilitator() { return this.model.isFacilitator(); }

  // ---- layout ---------------------------------------------------------------

  build() {
    const room = this.model.summary;
    this.titleEl = h('h1', { class: 'room-title', id: 'room-title', text: room.title });
    this.topicEl = h('p', { class: 'room-topic', text: room.topic || '' });
    this.handButton = h('button', {
      type: 'button', class: 'button', 'aria-pressed': 'false', id: 'hand-button',
      onclick: () => this.toggleHand(),
    }, h('span', { 'aria-hidden': 'true', text: '✋ ' }), h('span', { class: 'label', text: 'Raise hand' }));
    // On a phone the side panels are sheets, each opened from its own button here.
    this.sheetButtons = {};
    this.peopleButton = this.sheetButton('people', 'People');
    this.privateButton = this.sheetButton('private', 'Private');
    this.leaveButton = h('button', {
      type: 'button', class: 'button quiet', id: 'leave-button', onclick: () => this.leave(),
    }, 'Leave');

    this.crisisSlot = h('div', { class: 'crisis-slot' });
    help.mount(this.crisisSlot, () => {
      this.conn.send({ type: 'ack_warning' });
      this.composer.focus();
    });
    this.endedBanner = h('div', { class: 'banner ended', role: 'status', hidden: true });
    this.blockedBanner = h('div', { class: 'banner blocked', id: 'blocked-banner', role: 'status', hidden: true });
    this.pausedBanner = h('div', { class: 'banner paused', id: 'paused-banner', hidden: true });
    this.heldBanner = h('div', { class: 'banner held', id: 'held-banner', hidden: true });
    this.announcement = h('div', { class: 'banner announcement', id: 'announcement', hidden: true });
    this.roomNotes = h('div', { class: 'room-notes' });

    this.scroller = h('div', { class: 'scroller', tabindex: '0', role: 'region', 'aria-label': 'Conversation' },
      this.timeline.list, this.outbox.list);

    this.membersList = h('ul', { class: 'members', id: 'members' });
    this.membersHeading = h('h2', { id: 'members-heading', text: 'Here now' });
    this.sheetClose = h('button', { type: 'button', class: 'button quiet small sheet-close',
      onclick: () => this.closeSheet(true) }, 'Close');
    this.pinned = h('div', { class: 'sidebar-pinned' });
    this.sideScroll = h('div', { class: 'sidebar-scroll' },
      this.whispers.panel,
      h('section', { class: 'panel', 'aria-labelledby': 'members-heading', dataset: { pane: 'people' } },
        this.membersHeading, this.membersList));
    this.sidebar = h('aside', { class: 'sidebar', id: 'sidebar', 'aria-label': 'People and private messages', dataset: { view: 'people' } },
      this.sheetClose, this.pinned, this.sideScroll);

    this.typingEl = h('p', { class: 'typing', id: 'typing' });
    this.actions = h('div', { class: 'room-actions' }, this.peopleButton, this.privateButton, this.handButton, this.leaveButton);
    this.toolbarSlot = h('div', { class: 'toolbar-slot' });
    this.view = h('section', { class: 'chat', 'aria-labelledby': 'room-title' },
      h('header', { class: 'room-header' },
        h('div', { class: 'room-heading' }, this.titleEl, this.topicEl),
        this.actions),
      this.toolbarSlot,
      this.endedBanner, this.blockedBanner, this.crisisSlot, this.note.slot, this.mute.slot, this.heldBanner, this.pausedBanner,
      this.announcement, this.roomNotes,
      h('div', { class: 'chat-body' },
        h('div', { class: 'conversation' }, this.scroller, this.typingEl,
          h('div', { id: 'notices', class: 'notices' }), this.composer.el),
        this.sidebar));
    clear(this.root).append(this.view, this.waitingScreen.el);
    // The skip link leads to the message box while in a room.
    setSkipLink('composer-input', 'Skip to the message box');
    this.composer.focus();
  }

  /** A header button that opens one of the side panels as a sheet (phones). */
  sheetButton(view, label) {
    const button = h('button', {
      type: 'button', class: 'button quiet sheet-toggle', id: `${view}-button`, 'aria-controls': 'sidebar', 'aria-expanded': 'false',
      dataset: { view },
      onclick: () => this.toggleSheet(view),
    }, h('span', { class: 'sheet-label', text: label }), h('span', { class: 'count-badge', hidden: true }));
    this.sheetButtons[view] = button;
    return button;
  }

  /** The number on a sheet's button (0: none shown), and whether it asks for attention. */
  setBadge(view, count, { urgent = false } = {}) {
    const button = this.sheetButtons[view];
    if (!button) return;
    const badge = button.querySelector('.count-badge');
    // Read as "Private 1 new", "Alerts 2 open": the number, and what it counts.
    clear(badge).append(String(count), h('span', { class: 'visually-hidden', text: view === 'alerts' ? ' open' : ' new' }));
    badge.hidden = !count;
    badge.classList.toggle('urgent', urgent && count > 0);
  }

  toggleSheet(view) {
    const open = this.sidebar.classList.contains('open');
    if (open && this.sidebar.dataset.view === view) this.closeSheet(true);
    else this.openSidebar(view);
  }

  /** Open the side panels at one view (on a phone, a sheet; on a wide screen they show anyway). */
  openSidebar(view = 'people') {
    this.sidebar.dataset.view = view;
    this.sidebar.classList.add('open');
    for (const [v, b] of Object.entries(this.sheetButtons)) b.setAttribute('aria-expanded', String(v === view));
    this.sheetButtons[view]?.classList.remove('attention');
    if (view === 'private') this.whispers.seen();
  }

  closeSheet(focusButton = false) {
    const view = this.sidebar.dataset.view;
    this.sidebar.classList.remove('open');
    for (const b of Object.values(this.sheetButtons)) b.setAttribute('aria-expanded', 'false');
    if (focusButton) this.sheetButtons[view]?.focus();
  }

  /** On a phone, where the panels are folded away, mark the button of the one that changed. */
  drawAttention(view = 'people') {
    const shown = this.sidebar.classList.contains('open') && this.sidebar.dataset.view === view;
    if (!shown && window.matchMedia(PHONE).matches) this.sheetButtons[view]?.classList.add('attention');
  }

  /** The tab's title: the room, with what waits for this member in front of it. */
  updateTitle() {
    const base = `${this.model.summary.title} · Kindred`;
    const alerts = this.facilitator ? this.facilitator.alerts.openCount() : 0;
    const unread = this.whispers.unread;
    const parts = [];
    if (alerts) parts.push(`${alerts} alert${alerts === 1 ? '' : 's'}`);
    if (unread) parts.push(`${unread} private`);
    document.title = parts.length ? `(${parts.join(', ')}) ${base}` : base;
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
    this.updateTitle();
    // A waiting welcome: the room's door, not the room (§10 "The waiting room").
    if (f.you.waiting) {
      this.waiting = true;
      this.view.hidden = true;
      setSkipLink('main', 'Skip to the main content');
      this.waitingScreen.show(f.room);
      return;
    }
    this.welcomes += 1;
    const admitted = this.waiting;
    if (admitted) {
      this.waiting = false;
      this.waitingScreen.hide();
      this.view.hidden = false;
      setSkipLink('composer-input', 'Skip to the message box');
    }
    // A note still waiting to be read comes again right after the backlog (§11);
    // one read meanwhile in another tab does not, so it is put away until then.
    this.note.set(null, { quiet: true });
    if (reset) {
      this.timeline.clear();
      this.outbox.reset();
    }
    this.timeline.setBusy(true);
    announcer.hold();
    if (f.you.role === 'facilitator' && !this.facilitator) {
      this.facilitator = new FacilitatorTools(this);
      this.toolbarSlot.append(this.facilitator.toolbar, this.facilitator.sessionBanner);
      this.pinned.append(this.facilitator.alerts.panel);
      this.sideScroll.prepend(this.facilitator.waitingList.panel);
      this.sideScroll.append(this.facilitator.logPanel);
      this.actions.prepend(this.facilitator.alertsButton, this.facilitator.toolsButton);
      this.sidebar.setAttribute('aria-label', 'Alerts, people and private messages');
      this.sidebar.dataset.view = 'alerts';
      this.whispers.forFacilitator();
    }
    // The session's whispers follow every welcome: they replace the list (§5).
    this.whispers.welcomed();
    this.facilitator?.welcomed();
    this.renderAll();
    if (admitted) {
      this.composer.focus();
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
    this.whispers.caughtUp();
    this.timeline.setBusy(false);
    announcer.release();
    this.scrollToEnd(true);
    this.outbox.resend();
  }

  onEnd(end) {
    this.ended = true;
    if (this.waiting) {
      endWaiting(this, end.reason, end.error);
      return;
    }
    endRoom(this, end);
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
    if (f.type === 'message' && !this.model.isMe(f.user) && !f.redacted) announcer.message(`${f.name}: ${f.text}`);
    if (f.type === 'message' || f.type === 'left') this.stopTyping(f.user);
    if (!backlog) {
      if (['muted', 'unmuted', 'paused', 'resumed', 'floor', 'held', 'unheld'].includes(f.type)) this.stopTyping(f.user);
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
    clear(this.roomNotes).append(...notes);
    this.mute.render();
    const me = this.model.myself();
    const raised = !!(me && me.hand_raised);
    this.handButton.setAttribute('aria-pressed', String(raised));
    this.handButton.querySelector('.label').textContent = raised ? 'Lower hand' : 'Raise hand';
    this.renderComposer();
  }

  renderMembers() {
    const list = [...this.model.members.values()].sort((a, b) =>
      (a.role === 'facilitator' ? 0 : 1) - (b.role === 'facilitator' ? 0 : 1) || a.name.localeCompare(b.name));
    this.membersHeading.textContent = `Here now (${list.length})`;
    this.peopleButton.querySelector('.sheet-label').textContent = `People (${list.length})`;
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

  /** The composer's state: whether it takes a message, and why not (composer.js). */
  renderComposer() {
    this.composer.render();
  }

  // ---- composer ---------------------------------------------------------------

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
        if (this.outbox.onAck(f)) this.lastSent = { sent: f.seq !== undefined && f.seq !== null ? 'shared' : 'refused' };
        break;
      case 'error': {
        if (f.client_id) {
          if (this.facilitator?.onError(f)) break;
          this.lastSent = { sent: 'refused', why: REFUSED_BECAUSE[f.code] };
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
      case 'crisis_resources': {
        // What is true of the message that brought it: shared (a `seq`), or not.
        const context = Number.isSafeInteger(f.seq) ? { sent: 'shared' } : { ...this.lastSent };
        if (context.sent === 'shared' && !Number.isSafeInteger(f.seq)) context.sent = 'refused';
        context.facilitated = this.model.summary.facilitated !== false;
        help.show(f, context);
        break;
      }
      case 'mute_notice':
        this.mute.on(f);
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
    if (window.matchMedia(PHONE).matches) this.closeSheet();
    this.timeline.jumpTo(seq);
  }
}
