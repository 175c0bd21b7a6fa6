// The room's layout: the header (title, topic, raise hand, "Need a minute", this
// member's own view (myview.js), leave, and the buttons
// that open the side panels as sheets on a phone), the places the other parts fill
// (banners.js above the conversation, people.js and whispers.js beside it, a
// facilitator's tools when they arrive), the conversation's scrolling, and the tab's
// title. It draws where things go; what they say is their own modules' business.
// The room is an app shell (style.css): the page does not scroll, the conversation
// takes the height that is left, and the side panels scroll inside themselves.

import { h, clear, setSkipLink } from './dom.js';
import { help } from './crisis.js';

/** Below this width the side panels fold into sheets opened from the room's header. */
export const PHONE = '(max-width: 800px)';

export class RoomLayout {
  /** `chat`: the room, whose parts are built before its layout and placed in it. */
  constructor(chat) {
    this.chat = chat;
    const room = chat.model.summary;
    this.titleEl = h('h1', { class: 'room-title', id: 'room-title', text: room.title });
    this.topicEl = h('p', { class: 'room-topic', text: room.topic || '' });
    this.handButton = h('button', {
      type: 'button', class: 'button', 'aria-pressed': 'false', id: 'hand-button',
      onclick: () => chat.toggleHand(),
    }, h('span', { 'aria-hidden': 'true', text: '✋ ' }), h('span', { class: 'label', text: 'Raise hand' }));
    this.stepButton = h('button', {
      type: 'button', class: 'button', 'aria-pressed': 'false', id: 'step-away-button',
      onclick: () => chat.toggleStepAway(),
    }, h('span', { class: 'label', text: 'Need a minute' }));
    // On a phone the side panels are sheets, each opened from its own button here.
    this.sheetButtons = {};
    this.peopleButton = this.sheetButton('people', 'People');
    this.privateButton = this.sheetButton('private', 'Private');
    this.leaveButton = h('button', {
      type: 'button', class: 'button quiet', id: 'leave-button', onclick: () => chat.leave(),
    }, 'Leave');

    this.crisisSlot = h('div', { class: 'crisis-slot' });
    help.mount(this.crisisSlot, () => {
      chat.conn.send({ type: 'ack_warning' });
      chat.composer.focus();
    });

    this.scroller = h('div', { class: 'scroller', tabindex: '0', role: 'region', 'aria-label': 'Conversation' },
      chat.timeline.list, chat.outbox.list);

    this.sheetClose = h('button', { type: 'button', class: 'button quiet small sheet-close',
      onclick: () => this.closeSheet(true) }, 'Close');
    this.pinned = h('div', { class: 'sidebar-pinned' });
    this.sideScroll = h('div', { class: 'sidebar-scroll' }, chat.whispers.panel, chat.people.panel);
    this.sidebar = h('aside', { class: 'sidebar', id: 'sidebar', 'aria-label': 'People and private messages', dataset: { view: 'people' } },
      this.sheetClose, this.pinned, this.sideScroll);

    // A participant's own three (how they are, a minute away, their view) sit in the
    // header on a wide screen and behind "More" on a phone, so the header keeps two
    // rows and the conversation its height.
    this.moreButton = h('button', {
      type: 'button', class: 'button quiet more-toggle', id: 'more-button',
      'aria-expanded': 'false', 'aria-controls': 'more-actions', onclick: () => this.showMore(),
    }, 'More');
    this.moreActions = h('div', { class: 'more-actions', id: 'more-actions' },
      chat.moods.button, this.stepButton, chat.myView.button);
    this.moreActions.addEventListener('click', (e) => { if (e.target.closest('button')) this.showMore(false); });
    this.moreActions.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || this.moreButton.getAttribute('aria-expanded') !== 'true') return;
      this.showMore(false);
      this.moreButton.focus();
    });
    this.actions = h('div', { class: 'room-actions' }, this.peopleButton, this.privateButton, this.handButton,
      this.moreButton, this.moreActions, this.leaveButton);
    this.toolbarSlot = h('div', { class: 'toolbar-slot' });
    const banners = chat.banners;
    this.view = h('section', { class: 'chat', 'aria-labelledby': 'room-title' },
      h('header', { class: 'room-header' },
        h('div', { class: 'room-heading' }, this.titleEl, this.topicEl),
        this.actions),
      this.toolbarSlot, chat.script.el, chat.moods.el,
      banners.ended, chat.moods.debriefEl, banners.blocked, this.crisisSlot, chat.note.slot, chat.mute.slot, banners.held, banners.paused,
      banners.announcement, banners.notes,
      h('div', { class: 'chat-body' },
        h('div', { class: 'conversation' },
          // Who is typing and short notices lie over the conversation's foot.
          h('div', { class: 'conversation-area' }, this.scroller, chat.typing.el,
            h('div', { id: 'notices', class: 'notices' })),
          chat.composer.el),
        this.sidebar));
    clear(chat.root).append(this.view, chat.waitingScreen.el);
    // The skip link leads to the message box while in a room; a second one to the
    // people here, whose menus are otherwise many Tabs away.
    setSkipLink('composer-input', 'Skip to the message box');
    this.peopleSkip = document.getElementById('skip-people');
    if (this.peopleSkip) {
      this.peopleSkip.hidden = false;
      this.peopleSkip.addEventListener('click', (e) => {
        e.preventDefault();
        this.toPeople();
      });
    }
    chat.composer.focus();
  }

  /** The room's page hidden while its member waits at the door (the waiting screen shows). */
  hide() {
    this.view.hidden = true;
    if (this.peopleSkip) this.peopleSkip.hidden = true;
    setSkipLink('main', 'Skip to the main content');
  }

  /** The room's page again, once its member is let in. */
  show() {
    this.view.hidden = false;
    if (this.peopleSkip) this.peopleSkip.hidden = false;
    setSkipLink('composer-input', 'Skip to the message box');
  }

  /** The people here, from the skip link: their sheet opened on a phone, focus on the list's heading. */
  toPeople() {
    if (window.matchMedia(PHONE).matches) this.openSidebar('people');
    const heading = this.chat.people.heading;
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }

  /** A facilitator's tools take their places: toolbar, alerts, waiting list, log, buttons. */
  addFacilitator(tools) {
    this.toolbarSlot.append(tools.toolbar, tools.sessionBanner);
    this.pinned.append(tools.alerts.panel);
    this.sideScroll.prepend(tools.waitingList.panel);
    this.sideScroll.append(this.chat.moods.panel, tools.logPanel, tools.devicePanel);
    this.actions.prepend(tools.alertsButton, tools.toolsButton);
    // A facilitator's header is full: My view waits below the people here, and "Need
    // a minute" is a participant's (a go-around is the participants'), so the
    // conversation keeps its height on a phone and the tools their one row.
    this.chat.people.panel.append(this.chat.myView.button);
    this.stepButton.remove();
    this.moreButton.remove();
    this.moreActions.remove();
    this.sidebar.setAttribute('aria-label', 'Alerts, people and private messages');
    this.sidebar.dataset.view = 'alerts';
  }

  /** A phone's "More": the participant's own three, shown or put away. */
  showMore(open = this.moreButton.getAttribute('aria-expanded') !== 'true') {
    this.moreButton.setAttribute('aria-expanded', String(open));
    this.moreActions.classList.toggle('open', open);
    if (open) this.moreActions.querySelector('button:not([hidden])')?.focus();
  }

  /** The hand button says what pressing it will do. */
  showHand(raised) {
    this.handButton.setAttribute('aria-pressed', String(raised));
    this.handButton.querySelector('.label').textContent = raised ? 'Lower hand' : 'Raise hand';
  }

  /** "Need a minute" says what pressing it will do. */
  showSteppingAway(on) {
    this.stepButton.setAttribute('aria-pressed', String(on));
    this.stepButton.querySelector('.label').textContent = on ? "I'm back" : 'Need a minute';
  }

  // ---- sheets ---------------------------------------------------------------

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
    if (view === 'private') this.chat.whispers.seen();
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

  // ---- titles ---------------------------------------------------------------

  /** The room's title and topic as a `welcome` gives them, and the tab's title. */
  retitle(room) {
    this.titleEl.textContent = room.title;
    this.topicEl.textContent = room.topic || '';
    this.updateTitle();
  }

  /** The tab's title: the room, with what waits for this member in front of it. */
  updateTitle() {
    const chat = this.chat;
    const base = `${chat.model.summary.title} · Kindred`;
    const alerts = chat.facilitator ? chat.facilitator.alerts.openCount() : 0;
    const unread = chat.whispers.unread;
    const away = chat.whispers.awayUnread.size;
    const parts = [];
    if (away) parts.push(`${away} sent while away`);
    if (alerts) parts.push(`${alerts} alert${alerts === 1 ? '' : 's'}`);
    if (unread) parts.push(`${unread} private`);
    document.title = parts.length ? `(${parts.join(', ')}) ${base}` : base;
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
    this.chat.timeline.jumpTo(seq);
  }
}
