// A facilitator's tools: the room toolbar, the banner that opens a session, the
// per-member menu and per-message redaction, and the panels beside the room: the
// alerts (alerts.js), who is waiting (waiting.js) and the moderation log
// (modlog.js). Every action is a `mod` frame (PROTOCOL.md §10); its `ack` or
// `error` echoes our `client_id`. On a phone the toolbar folds into a "Tools"
// button and the alerts open from a button of their own, with their count.

import { h, iconButton, newClientId, ask, notify } from './dom.js';
import { askMute } from './mute.js';
import { AlertsPanel } from './alerts.js';
import { WaitingList } from './waiting.js';
import { ModLog } from './modlog.js';
import { offerAnotherDevice } from './seat.js';

const SLOW_MODE_CHOICES = [0, 10, 30, 60, 120];

export class FacilitatorTools {
  constructor(chat) {
    this.chat = chat;
    this.inflight = new Map(); // client_id → what we asked for, for the error text
    this.openMenu = null;
    this.opening = null; // client_id of our `open`, until its answer
    this.warning = new Map(); // member → client_id of our `warn`, until its note comes back
    this.resolving = new Map(); // client_id of our `resolve` → the alert's id
    this.buildToolbar();
    this.buildSessionBanner();
    this.alerts = new AlertsPanel(this);
    // What a participant wrote privately while no facilitator was here comes first.
    this.alerts.panel.insertBefore(chat.whispers.away, this.alerts.list);
    this.waitingList = new WaitingList(this);
    this.log = new ModLog(this);
    // Beside the room, in this order: alerts, who is waiting; the log goes last.
    this.panels = [this.alerts.panel, this.waitingList.panel];
    this.logPanel = this.log.panel;
    this.waitingList.panel.dataset.pane = 'alerts';
    this.logPanel.dataset.pane = 'alerts';
    // This seat on another device the facilitator chooses (seat.js): beside the
    // room, after the log, so the toolbar keeps to one row.
    this.devicePanel = h('section', { class: 'panel device-panel', id: 'device-panel', 'aria-labelledby': 'device-heading', dataset: { pane: 'alerts' } },
      h('h2', { id: 'device-heading', text: 'Your other devices' }),
      h('p', { class: 'hint', text: 'To be here on your phone or another computer too, as yourself: a link that works once.' }),
      h('button', { type: 'button', class: 'button small', id: 'another-device-button', onclick: () => offerAnotherDevice(chat.session) }, 'Use on another device'));
    this.alertsButton = chat.layout.sheetButton('alerts', 'Alerts');
    this.toolsButton = h('button', { type: 'button', class: 'button quiet tools-toggle', id: 'tools-button',
      'aria-expanded': 'false', 'aria-controls': 'facilitator-tools', onclick: () => this.toggleTools() }, 'Tools');
    document.addEventListener('click', (e) => {
      if (this.openMenu && !this.openMenu.contains(e.target)) this.closeMenu();
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.openMenu) {
        const button = this.openMenu.querySelector('.menu-button');
        this.closeMenu();
        button?.focus();
      }
    });
  }

  /**
   * Send a moderation command; the timeline shows the effect. Returns its
   * `client_id`, or null when it could not go out (offline).
   */
  mod(action, fields = {}, what = action) {
    const clientId = newClientId('m');
    const frame = { type: 'mod', client_id: clientId, action, ...fields };
    if (this.chat.conn.send(frame)) {
      this.inflight.set(clientId, what);
      return clientId;
    }
    notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
    return null;
  }

  onAck(f) {
    if (!this.inflight.has(f.client_id)) return false;
    this.inflight.delete(f.client_id);
    // The banner goes with the `opened` event, which every member receives.
    if (f.client_id === this.opening) this.opening = null;
    if (this.resolving.has(f.client_id)) {
      this.alerts.resolved(this.resolving.get(f.client_id));
      this.resolving.delete(f.client_id);
    }
    return true;
  }

  onError(f) {
    if (!this.inflight.has(f.client_id)) return false;
    const what = this.inflight.get(f.client_id);
    this.inflight.delete(f.client_id);
    if (f.client_id === this.opening) this.resetOpenButton();
    for (const [user, clientId] of this.warning) if (clientId === f.client_id) this.warning.delete(user);
    // Buttons that waited for an answer are pressed again from a fresh list.
    this.waitingList.render();
    if (this.resolving.has(f.client_id)) {
      const alert = this.resolving.get(f.client_id);
      this.resolving.delete(f.client_id);
      if (f.code === 'not_found') {
        // Another facilitator got there first: nothing is left to do.
        this.alerts.resolved(alert);
        notify('That alert had already been handled.');
        return true;
      }
      this.alerts.find({ held: null, alert })?.querySelector('.resolve-button')?.removeAttribute('disabled');
    }
    notify(`Could not ${what}: ${f.message}`, { tone: 'warn' });
    return true;
  }

  /** Mark a report (or crisis alert) handled for every facilitator. */
  resolve(alert) {
    const clientId = this.mod('resolve', { report: alert }, 'resolve the report');
    if (clientId) this.resolving.set(clientId, alert);
    return !!clientId;
  }

  /** A welcome: the moderation log that follows it is the whole log. */
  welcomed() {
    this.log.welcomed();
  }

  /** A `waiting` frame: the whole waiting room. Knocks of those let in or gone go too. */
  onWaiting(members) {
    this.waitingList.update(members);
    this.alerts.dropKnocks((user) => this.waitingList.has(user));
  }

  onModLog(entries) {
    this.log.receive(entries);
  }

  // ---- toolbar ----------------------------------------------------------------

  buildToolbar() {
    this.pauseButton = h('button', { type: 'button', class: 'button', id: 'pause-button', onclick: () => this.togglePause() }, 'Pause room');
    this.lockButton = h('button', { type: 'button', class: 'button', id: 'lock-button', onclick: () => this.toggleLock() }, 'Lock room');
    // A toggle: its name stays and `aria-pressed` says whether it is on; the eye
    // reads it in words too.
    this.waitingState = h('span', { class: 'toggle-state', 'aria-hidden': 'true', text: 'off' });
    this.waitingButton = h('button', { type: 'button', class: 'button', id: 'waiting-room-button', 'aria-pressed': 'false',
      title: 'While on, people who arrive wait until a facilitator lets them in',
      onclick: () => this.toggleWaitingRoom() }, 'Waiting room', this.waitingState);
    // The shield: the waiting room, slow mode and newcomers' first messages held, at
    // once. A toggle shown pressed while up (no on/off word: the one row is full).
    this.shieldButton = h('button', { type: 'button', class: 'button', id: 'shield-button', 'aria-pressed': 'false',
      title: 'Turns on the waiting room and slow mode, and holds newcomers\' first messages for a facilitator; off puts the room back as it was',
      onclick: () => this.mod('shield', { on: !this.chat.state.shield }, this.chat.state.shield ? 'lower the shield' : 'raise the shield') },
    'Shield');
    this.slowSelect = h('select', { id: 'slow-mode', class: 'field small', 'aria-label': 'Slow mode', onchange: () => this.setSlowMode() },
      SLOW_MODE_CHOICES.map((s) => h('option', { value: String(s), text: `Slow mode: ${s ? `1 post / ${s < 60 ? `${s} s` : `${s / 60} min`}` : 'off'}` })));
    this.clearFloorButton = h('button', { type: 'button', class: 'button', hidden: true, onclick: () => this.mod('clear_floor', {}, 'open the floor') }, 'Open the floor');
    this.closeButton = h('button', { type: 'button', class: 'button danger', id: 'close-session-button', onclick: () => this.closeSession() }, 'Close session');
    this.scriptSlot = h('span', { class: 'toolbar-script', id: 'toolbar-script' });
    this.toolbar = h('div', { class: 'toolbar', id: 'facilitator-tools', role: 'toolbar', 'aria-label': 'Facilitator tools' },
      h('span', { class: 'toolbar-title', text: 'Facilitator' }),
      this.pauseButton,
      this.slowSelect,
      this.lockButton,
      this.waitingButton,
      this.shieldButton,
      h('button', { type: 'button', class: 'button', onclick: () => this.announce() }, 'Announce'),
      // Before the first phase, the session script's start (structure.js) waits here
      // rather than in a row of its own above the conversation.
      this.scriptSlot,
      this.clearFloorButton,
      this.closeButton);
    // Arrow keys move between the tools, as in any toolbar; opened as a menu under
    // "Tools", Escape closes it and gives the focus back to its button.
    this.toolbar.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.toolbar.classList.contains('open')) {
        this.toggleTools(false);
        this.toolsButton.focus();
        e.preventDefault();
        return;
      }
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const items = [...this.toolbar.querySelectorAll('button:not([hidden]), select')];
      const i = items.indexOf(document.activeElement);
      if (i < 0) return;
      const next = items[(i + (e.key === 'ArrowRight' ? 1 : items.length - 1)) % items.length];
      next.focus();
      e.preventDefault();
    });
  }

  /** On a phone, the toolbar is a menu that opens from "Tools". */
  toggleTools(open = !this.toolbar.classList.contains('open')) {
    this.toolbar.classList.toggle('open', open);
    this.toolsButton.setAttribute('aria-expanded', String(open));
    if (open) this.toolbar.querySelector('button:not([hidden]), select')?.focus();
  }

  /** The session is over for this page: nothing left to run. */
  /** The stay in the room ended (`reason` as ending.js has it). */
  ended(reason) {
    if (reason === 'closed') this.alerts.sessionClosed();
    this.toolbar.hidden = true;
    this.sessionBanner.hidden = true;
    this.toolsButton.hidden = true;
  }

  refresh() {
    const s = this.chat.state;
    this.pauseButton.textContent = s.paused ? 'Resume room' : 'Pause room';
    this.pauseButton.setAttribute('aria-pressed', String(!!s.paused));
    this.lockButton.textContent = s.locked ? 'Unlock room' : 'Lock room';
    this.lockButton.setAttribute('aria-pressed', String(!!s.locked));
    this.waitingButton.setAttribute('aria-pressed', String(!!s.waiting_room));
    this.waitingState.textContent = s.waiting_room ? 'on' : 'off';
    this.waitingList.setOn(!!s.waiting_room);
    this.shieldButton.setAttribute('aria-pressed', String(!!s.shield));
    const seconds = String(s.slow_mode_seconds || 0);
    if (![...this.slowSelect.options].some((o) => o.value === seconds)) {
      this.slowSelect.append(h('option', { value: seconds, text: `one post per ${seconds} s` }));
    }
    this.slowSelect.value = seconds;
    this.clearFloorButton.hidden = !s.floor;
    // Between sessions (`state.open` false) there is a session to open, none to close.
    const between = s.open === false && !this.chat.ended;
    this.closeButton.hidden = between;
    if (this.sessionBanner.hidden === between) {
      const hadFocus = this.sessionBanner.contains(document.activeElement);
      this.sessionBanner.hidden = !between;
      if (!between) {
        this.resetOpenButton();
        if (hadFocus) this.chat.composer.focus();
      }
    }
  }

  // ---- the session ------------------------------------------------------------

  /** Shown while the room is between sessions: participants wait for the facilitator. */
  buildSessionBanner() {
    this.openButton = h('button', { type: 'button', class: 'button primary', id: 'open-session-button',
      onclick: () => this.openSession() }, 'Open the session');
    this.sessionBanner = h('div', { class: 'banner session', id: 'session-banner', hidden: true },
      h('p', { text: 'The session is not open yet. Participants can join once you open it.' }),
      h('p', {}, this.openButton));
  }

  openSession() {
    const clientId = this.mod('open', {}, 'open the session');
    if (!clientId) return;
    this.opening = clientId;
    this.openButton.disabled = true;
    this.openButton.textContent = 'Opening…';
  }

  resetOpenButton() {
    this.opening = null;
    this.openButton.disabled = false;
    this.openButton.textContent = 'Open the session';
  }

  async togglePause() {
    if (this.chat.state.paused) {
      this.mod('resume', {}, 'resume the room');
      return;
    }
    const reason = await ask({
      title: 'Pause the room',
      body: 'Only facilitators can post during a pause. A few words help everyone settle.',
      input: { label: 'Message to the room (optional)', value: "Let's take a minute to breathe together.", maxlength: 500 },
      confirmLabel: 'Pause',
    });
    if (reason === null) return;
    this.mod('pause', reason ? { reason } : {}, 'pause the room');
  }

  toggleLock() {
    if (this.chat.state.locked) this.mod('unlock', {}, 'unlock the room');
    else this.mod('lock', {}, 'lock the room');
  }

  async toggleWaitingRoom() {
    if (!this.chat.state.waiting_room) {
      this.mod('waiting_room', { on: true }, 'turn the waiting room on');
      return;
    }
    const waiting = this.waitingList.members.length;
    if (waiting) {
      const ok = await ask({
        title: 'Turn the waiting room off?',
        body: waiting === 1
          ? 'The person waiting comes in now, and anyone who arrives after comes straight in.'
          : `The ${waiting} people waiting come in now, and anyone who arrives after comes straight in.`,
        confirmLabel: 'Turn it off',
      });
      if (!ok) return;
    }
    this.mod('waiting_room', { on: false }, 'turn the waiting room off');
  }

  setSlowMode() {
    this.mod('slow_mode', { seconds: Number(this.slowSelect.value) }, 'change slow mode');
  }

  async announce() {
    const text = await ask({
      title: 'Pin an announcement',
      body: 'It stays at the top of the room for everyone, replacing any earlier one.',
      input: { label: 'Announcement', multiline: true, required: true, value: this.chat.state.announcement || '' },
      confirmLabel: 'Pin it',
    });
    if (text) this.mod('announce', { text }, 'pin the announcement');
  }

  async closeSession() {
    // Closing with a crisis or a check-in still open ends it for that person too: say so first.
    const open = this.alerts.concerns();
    const names = open.map((a) => `${a.name} (${a.kind === 'crisis' ? 'crisis' : 'check-in'})`).join(', ');
    const warning = open.length
      ? `${open.length === 1 ? 'An alert is' : `${open.length} alerts are`} still open: ${names}. If someone may be at risk, reach out to them before you close. `
      : '';
    const reason = await ask({
      title: 'Close the session for everyone?',
      body: `${warning}Everyone is told and disconnected, and the conversation is deleted. This cannot be undone.`,
      input: { label: 'A closing word (optional)', value: 'Thank you all for tonight. Take good care.', maxlength: 500 },
      confirmLabel: open.length ? 'Close anyway' : 'Close session',
      danger: true,
    });
    if (reason === null) return;
    this.mod('close', reason ? { reason } : {}, 'close the session');
  }

  // ---- members ----------------------------------------------------------------

  memberMenu(m) {
    const s = this.chat.state;
    const menuId = `menu-${m.user}`;
    const item = (label, onclick, cls = '') => h('button', {
      type: 'button', role: 'menuitem', class: `menu-item ${cls}`,
      onclick: () => { this.closeMenu(); onclick(); },
    }, label);
    const items = [
      m.muted
        ? item('Unmute', () => this.mod('unmute', { user: m.user }, `unmute ${m.name}`))
        : item('Mute…', () => this.muteMember(m)),
      s.floor === m.user
        ? item('End their floor', () => this.mod('clear_floor', {}, 'open the floor'))
        : item('Give the floor for 3 minutes', () => this.mod('floor', { user: m.user, seconds: 180 }, `give ${m.name} the floor`)),
      m.hand_raised ? item('Lower their hand', () => this.mod('lower_hand', { user: m.user }, `lower ${m.name}'s hand`)) : null,
      m.role === 'participant' ? item('Warn…', () => this.warnMember(m)) : null,
      item(`Whisper to ${m.name}`, () => this.chat.whisperToMember(m.user)),
      m.role === 'participant' ? item('Step out for a quiet word…', () => this.stepOut(m)) : null,
      item('Remove from the room…', () => this.confirmRemove(m, 'remove'), 'danger'),
      item('Ban from the group…', () => this.confirmRemove(m, 'ban'), 'danger'),
    ];
    const menu = h('div', { class: 'menu', id: menuId, role: 'menu', hidden: true, 'aria-label': `Actions for ${m.name}` }, items);
    // A menu as the ARIA pattern has it: arrows move, Home and End go to the first
    // and last item, and Tab leaves it closed (focus goes on from its button).
    menu.addEventListener('keydown', (e) => {
      const buttons = [...menu.querySelectorAll('button')];
      const i = buttons.indexOf(document.activeElement);
      if (e.key === 'Tab') {
        this.closeMenu();
        return;
      }
      const next = {
        ArrowDown: () => buttons[(i + 1) % buttons.length],
        ArrowUp: () => buttons[(i + buttons.length - 1) % buttons.length],
        Home: () => buttons[0],
        End: () => buttons[buttons.length - 1],
      }[e.key];
      if (!next) return;
      next().focus();
      e.preventDefault();
    });
    const button = iconButton('⋯', `Actions for ${m.name}`, {
      class: 'menu-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId,
      onclick: (e) => {
        e.stopPropagation();
        const wasOpen = !menu.hidden;
        this.closeMenu();
        if (wasOpen) return;
        menu.hidden = false;
        button.setAttribute('aria-expanded', 'true');
        this.openMenu = wrap;
        menu.querySelector('button').focus();
      },
    });
    const wrap = h('span', { class: 'menu-wrap', dataset: { user: m.user } }, button, menu);
    return wrap;
  }

  /** Which member's menu is open, and which item has focus (the list is redrawn). */
  menuState() {
    if (!this.openMenu) return null;
    const items = [...this.openMenu.querySelectorAll('.menu-item')];
    return { user: this.openMenu.dataset.user, index: items.indexOf(document.activeElement) };
  }

  restoreMenu({ user, index }) {
    this.openMenu = null;
    const wrap = [...document.querySelectorAll('#members .menu-wrap')].find((w) => w.dataset.user === user);
    if (!wrap) return;
    wrap.querySelector('.menu').hidden = false;
    wrap.querySelector('.menu-button').setAttribute('aria-expanded', 'true');
    this.openMenu = wrap;
    const items = wrap.querySelectorAll('.menu-item');
    if (index >= 0) items[Math.min(index, items.length - 1)].focus();
  }

  closeMenu() {
    if (!this.openMenu) return;
    const menu = this.openMenu.querySelector('.menu');
    // Focus inside a menu about to be hidden goes back to its button, not to the page.
    if (menu.contains(document.activeElement)) this.openMenu.querySelector('.menu-button').focus();
    menu.hidden = true;
    this.openMenu.querySelector('.menu-button').setAttribute('aria-expanded', 'false');
    this.openMenu = null;
  }

  /** Mute for a while or until lifted, with a word only the member reads (mute.js). */
  async muteMember(m) {
    const choice = await askMute(m);
    if (!choice) return;
    const fields = { user: m.user };
    if (choice.seconds) fields.seconds = choice.seconds;
    if (choice.reason) fields.reason = choice.reason;
    this.mod('mute', fields, `mute ${m.name}`);
  }

  /**
   * Ask a participant out of the room for a quiet word (`step_out`): they wait
   * outside with the help lines, your note and a private word with the facilitators,
   * until you admit them back from the waiting list. Nobody is removed or banned.
   */
  async stepOut(m) {
    const note = await ask({
      title: `Step ${m.name} out for a quiet word?`,
      body: `${m.name} goes to the waiting room, still connected, and is told kindly that a facilitator would like a quiet word and that they are not in trouble. The group sees only that they stepped out. Write to them and admit them back from the waiting list.`,
      input: { label: 'A note for them (optional; only they see it)', multiline: true, maxlength: 500,
        placeholder: 'e.g. I wanted to check in with you about what you shared.' },
      confirmLabel: 'Step out',
    });
    if (note === null) return;
    const fields = note ? { user: m.user, text: note } : { user: m.user };
    this.mod('step_out', fields, `step ${m.name} out`);
  }

  async confirmRemove(m, action) {
    const ban = action === 'ban';
    const ok = await ask({
      title: ban ? `Ban ${m.name} from the group?` : `Remove ${m.name} from the room?`,
      body: ban
        ? `${m.name} is disconnected and cannot join this room again.`
        : `${m.name} is disconnected. They may join again.`,
      confirmLabel: ban ? 'Ban' : 'Remove',
      danger: true,
    });
    if (ok) this.mod(action, { user: m.user }, `${action} ${m.name}`);
  }

  /**
   * A private note (`warn`): the member reads it before posting again, and the
   * facilitators see when they have (the `warning` frames, `addWarning`).
   */
  async warnMember(m) {
    const reason = await ask({
      title: `Send ${m.name} a private note`,
      body: `Only ${m.name} and the facilitators see it. ${m.name} is asked to read it before posting again, and you will see when they have.`,
      input: { label: 'What would you like them to know?', multiline: true, required: true, maxlength: 500,
        placeholder: 'e.g. Please speak from your own experience rather than giving advice.' },
      confirmLabel: 'Send the note',
    });
    if (!reason) return;
    const clientId = this.mod('warn', { user: m.user, reason }, `send ${m.name} a note`);
    if (clientId) this.warning.set(m.user, clientId);
  }

  // ---- messages ---------------------------------------------------------------

  messageAction(f) {
    return [h('button', {
      type: 'button', class: 'link-button cw-add',
      onclick: () => this.coverMessage(f),
    }, 'Add a content warning'), h('button', {
      type: 'button', class: 'link-button danger',
      onclick: async () => {
        const ok = await ask({
          title: 'Remove this message?',
          body: `The words of ${f.name}'s message are withdrawn for everyone and shown as "message removed".`,
          confirmLabel: 'Remove message',
          danger: true,
        });
        if (ok) this.mod('redact', { seq: f.seq }, 'remove the message');
      },
    }, 'Remove')];
  }

  /**
   * Cover a message with a content warning after it was shared (`mod cw`): everyone
   * sees it collapsed behind the topic from then on.
   */
  async coverMessage(f) {
    const topics = this.chat.model.cwTopics || [];
    const cw = await ask({
      title: 'Add a content warning',
      body: `${f.name}'s message will show collapsed behind the warning for everyone, with a tap to open it.`,
      input: {
        label: 'What it warns of', required: true, maxlength: 100,
        value: this.chat.timeline.messages.get(f.seq)?.frame.cw || '',
        placeholder: topics.length ? `e.g. ${topics.slice(0, 2).join(', ')}` : '', suggestions: topics,
      },
      confirmLabel: 'Add the warning',
    });
    if (cw) this.mod('cw', { seq: f.seq, cw }, 'add a content warning');
  }

  // ---- alerts ---------------------------------------------------------------

  addAlert(f) {
    this.alerts.add(f);
  }

  addWarning(f) {
    this.alerts.addWarning(f);
  }
}
