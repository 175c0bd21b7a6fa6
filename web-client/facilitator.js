// A facilitator's tools: the room toolbar, the banner that opens a session, the
// per-member menu, per-message redaction and the panel of alerts and notes sent to
// members. Every action is a `mod` frame (PROTOCOL.md §10); its `ack` or `error`
// echoes our `client_id`.

import { h, clock, newClientId, ask, notify } from './dom.js';

const ALERT_KIND = {
  crisis: 'Crisis',
  report: 'Report',
  flagged: 'Flagged',
  held: 'Held for review',
};

const CATEGORY = {
  suicidal_ideation: 'thoughts of suicide',
  self_harm: 'self-harm',
  overdose: 'overdose',
  immediate_danger: 'immediate danger',
  abuse_disclosure: 'disclosure of abuse',
};

const SLOW_MODE_CHOICES = [0, 10, 30, 60, 120];

export class FacilitatorTools {
  constructor(chat) {
    this.chat = chat;
    this.inflight = new Map(); // client_id → what we asked for, for the error text
    this.openMenu = null;
    this.opening = null; // client_id of our `open`, until its answer
    this.warning = new Map(); // member → client_id of our `warn`, until its note comes back
    this.buildToolbar();
    this.buildSessionBanner();
    this.buildPanel();
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
    return true;
  }

  onError(f) {
    if (!this.inflight.has(f.client_id)) return false;
    const what = this.inflight.get(f.client_id);
    this.inflight.delete(f.client_id);
    if (f.client_id === this.opening) this.resetOpenButton();
    for (const [user, clientId] of this.warning) if (clientId === f.client_id) this.warning.delete(user);
    notify(`Could not ${what}: ${f.message}`, { tone: 'warn' });
    return true;
  }

  // ---- toolbar ----------------------------------------------------------------

  buildToolbar() {
    this.pauseButton = h('button', { type: 'button', class: 'button', id: 'pause-button', onclick: () => this.togglePause() }, 'Pause room');
    this.lockButton = h('button', { type: 'button', class: 'button', id: 'lock-button', onclick: () => this.toggleLock() }, 'Lock room');
    this.slowSelect = h('select', { id: 'slow-mode', class: 'field small', onchange: () => this.setSlowMode() },
      SLOW_MODE_CHOICES.map((s) => h('option', { value: String(s), text: s ? `one post per ${s < 60 ? `${s} s` : `${s / 60} min`}` : 'off' })));
    this.clearFloorButton = h('button', { type: 'button', class: 'button', hidden: true, onclick: () => this.mod('clear_floor', {}, 'open the floor') }, 'Open the floor');
    this.closeButton = h('button', { type: 'button', class: 'button danger', id: 'close-session-button', onclick: () => this.closeSession() }, 'Close session');
    this.toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Facilitator tools' },
      h('span', { class: 'toolbar-title', text: 'Facilitator' }),
      this.pauseButton,
      h('label', { class: 'inline-label', for: 'slow-mode', text: 'Slow mode' }), this.slowSelect,
      this.lockButton,
      h('button', { type: 'button', class: 'button', onclick: () => this.announce() }, 'Announce'),
      this.clearFloorButton,
      this.closeButton);
    // Arrow keys move between the tools, as in any toolbar.
    this.toolbar.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const items = [...this.toolbar.querySelectorAll('button:not([hidden]), select')];
      const i = items.indexOf(document.activeElement);
      if (i < 0) return;
      const next = items[(i + (e.key === 'ArrowRight' ? 1 : items.length - 1)) % items.length];
      next.focus();
      e.preventDefault();
    });
  }

  refresh() {
    const s = this.chat.state;
    this.pauseButton.textContent = s.paused ? 'Resume room' : 'Pause room';
    this.pauseButton.setAttribute('aria-pressed', String(!!s.paused));
    this.lockButton.textContent = s.locked ? 'Unlock room' : 'Lock room';
    this.lockButton.setAttribute('aria-pressed', String(!!s.locked));
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
        if (hadFocus) this.chat.input.focus();
      }
    }
  }

  // ---- the session ------------------------------------------------------------

  /** Shown while the room is between sessions: participants wait for the facilitator. */
  buildSessionBanner() {
    this.openButton = h('button', { type: 'button', class: 'button primary', id: 'open-session-button',
      onclick: () => this.openSession() }, 'Open the session');
    this.sessionBanner = h('div', { class: 'banner session', id: 'session-banner', role: 'status', hidden: true },
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
    const reason = await ask({
      title: 'Close the session for everyone?',
      body: 'Everyone is told and disconnected, and the conversation is deleted. This cannot be undone.',
      input: { label: 'A closing word (optional)', value: 'Thank you all for tonight. Take good care.', maxlength: 500 },
      confirmLabel: 'Close session',
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
        : item('Mute for 5 minutes', () => this.mod('mute', { user: m.user, seconds: 300 }, `mute ${m.name}`)),
      s.floor === m.user
        ? item('End their floor', () => this.mod('clear_floor', {}, 'open the floor'))
        : item('Give the floor for 3 minutes', () => this.mod('floor', { user: m.user, seconds: 180 }, `give ${m.name} the floor`)),
      m.hand_raised ? item('Lower their hand', () => this.mod('lower_hand', { user: m.user }, `lower ${m.name}'s hand`)) : null,
      m.role === 'participant' ? item('Warn…', () => this.warnMember(m)) : null,
      item(`Whisper to ${m.name}`, () => this.chat.whisperToMember(m.user)),
      item('Remove from the room…', () => this.confirmRemove(m, 'remove'), 'danger'),
      item('Ban from the group…', () => this.confirmRemove(m, 'ban'), 'danger'),
    ];
    const menu = h('div', { class: 'menu', id: menuId, role: 'menu', hidden: true, 'aria-label': `Actions for ${m.name}` }, items);
    menu.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
      const buttons = [...menu.querySelectorAll('button')];
      const i = buttons.indexOf(document.activeElement);
      buttons[(i + (e.key === 'ArrowDown' ? 1 : buttons.length - 1)) % buttons.length].focus();
      e.preventDefault();
    });
    const button = h('button', {
      type: 'button', class: 'icon-button menu-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
      'aria-controls': menuId, 'aria-label': `Actions for ${m.name}`,
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
    }, '⋯');
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
    this.openMenu.querySelector('.menu').hidden = true;
    this.openMenu.querySelector('.menu-button').setAttribute('aria-expanded', 'false');
    this.openMenu = null;
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
    return h('button', {
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
    }, 'Remove');
  }

  // ---- alerts -----------------------------------------------------------------

  buildPanel() {
    // Alert ids already shown, for the life of the page: the server gives every open
    // alert again on each arrival (PROTOCOL.md §11), and an id is shown once.
    this.seenAlerts = new Set();
    this.alertsHeading = h('h2', { id: 'alerts-heading', text: 'Alerts' });
    this.alerts = h('ol', { class: 'alerts', id: 'alerts', 'aria-live': 'polite' },
      h('li', { class: 'empty', text: 'Nothing needs your attention right now.' }));
    this.panel = h('section', { class: 'panel alerts-panel', 'aria-labelledby': 'alerts-heading' },
      this.alertsHeading, this.alerts);
  }

  updateAlertCount() {
    const open = this.alerts.querySelectorAll('li.alert').length;
    this.alertsHeading.textContent = open ? `Alerts (${open})` : 'Alerts';
    if (!open && !this.alerts.querySelector('.empty')) {
      this.alerts.append(h('li', { class: 'empty', text: 'Nothing needs your attention right now.' }));
    }
  }

  addAlert(f) {
    if (f.id !== undefined && f.id !== null) {
      if (this.seenAlerts.has(f.id)) return;
      this.seenAlerts.add(f.id);
    }
    this.alerts.querySelector('.empty')?.remove();
    const detail = [];
    if (f.kind === 'crisis') {
      detail.push(`${f.name}'s message may show ${CATEGORY[f.category] || 'a crisis'}. They were shown the help lines.`);
    } else if (f.kind === 'report') {
      detail.push(`${f.name} reported a message${f.reason ? `: “${f.reason}”` : '.'}`);
    } else if (f.kind === 'held') {
      detail.push(`A message from ${f.name} is held and not shown to the group${f.reason ? ` (${f.reason})` : ''}.`);
    } else if (f.kind === 'flagged') {
      detail.push(`A message from ${f.name} was flagged${f.reason ? ` (${f.reason})` : ''}.`);
    } else {
      detail.push(f.reason || `About ${f.name}`);
    }
    const held = f.kind === 'held' && Number.isSafeInteger(f.held);
    const decide = (action) => (e) => {
      e.currentTarget.closest('.alert-actions').querySelectorAll('.decide').forEach((b) => { b.disabled = true; });
      this.mod(action, { held: f.held }, action === 'release' ? 'release the message' : 'decline the message');
    };
    const actions = h('div', { class: 'alert-actions' },
      held ? h('button', { type: 'button', class: 'button small decide', onclick: decide('release') }, 'Release to the room') : null,
      held ? h('button', { type: 'button', class: 'button small quiet decide', onclick: decide('decline') }, 'Decline') : null,
      f.kind !== 'held' && f.seq !== undefined
        ? h('button', { type: 'button', class: 'button small', onclick: () => this.chat.jumpTo(f.seq) }, 'Go to message')
        : null,
      f.user ? h('button', { type: 'button', class: 'button small quiet', onclick: () => this.chat.whisperToMember(f.user) }, `Whisper to ${f.name}`) : null,
      h('button', { type: 'button', class: 'button small quiet done-button',
        'aria-label': `Done with the ${f.kind} alert about ${f.name}`,
        onclick: (e) => {
          // Crisis and report alerts are kept by the room until handled: tell the
          // server, so it stops giving them (§11). Held messages are handled by
          // release or decline.
          const kept = (f.kind === 'crisis' || f.kind === 'report') && Number.isSafeInteger(f.id);
          if (kept && !this.chat.conn.send({ type: 'ack_warning', alert: f.id })) {
            notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
            return;
          }
          e.currentTarget.closest('li').remove();
          this.updateAlertCount();
        } }, 'Done'));
    this.alerts.prepend(h('li', { class: `alert ${f.kind}`, dataset: {
      kind: f.kind,
      ...(f.seq !== undefined ? { seq: f.seq } : {}),
      ...(f.id !== undefined ? { alertId: f.id } : {}),
    } },
      h('div', { class: 'msg-meta' },
        h('span', { class: `alert-kind ${f.kind}`, text: ALERT_KIND[f.kind] || f.kind }),
        h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })),
      h('p', { text: detail.join(' ') }),
      held && f.text ? h('blockquote', { class: 'held-text', text: f.text }) : null,
      actions));
    this.updateAlertCount();
    if (f.kind === 'crisis') notify(`Crisis alert: ${f.name} may need support.`, { tone: 'warn', ms: 12000 });
  }

  /**
   * A note to a member (`warning`, §11), sent by us or another facilitator; the
   * same note again with `acknowledged` once they have read it. Not an alert: it
   * asks nothing of us, so it is not counted.
   */
  addWarning(f) {
    if (!Number.isSafeInteger(f.id)) return;
    const who = f.name || this.chat.nameOf(f.user);
    let entry = [...this.alerts.querySelectorAll('li.warning-note')].find((li) => li.dataset.warningId === String(f.id));
    if (!entry) {
      // Ours if we asked to warn this member and this is the note that came of it.
      const mine = !f.acknowledged && this.warning.has(f.user);
      this.warning.delete(f.user);
      const reason = f.reason ? `: “${f.reason}”` : '.';
      entry = h('li', { class: 'warning-note', dataset: { warningId: f.id, user: f.user } },
        h('div', { class: 'msg-meta' },
          h('span', { class: 'alert-kind', text: 'Note' }),
          h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })),
        h('p', { class: 'warning-text', text: mine ? `You warned ${who}${reason}` : `A facilitator warned ${who}${reason}` }),
        h('p', { class: 'warning-status', role: 'status' }),
        h('div', { class: 'alert-actions' },
          h('button', { type: 'button', class: 'button small quiet', onclick: () => this.chat.whisperToMember(f.user) }, `Whisper to ${who}`),
          h('button', { type: 'button', class: 'button small quiet', 'aria-label': `Done with the note to ${who}`,
            onclick: (e) => { e.currentTarget.closest('li').remove(); } }, 'Done')));
      this.alerts.prepend(entry);
    }
    const status = entry.querySelector('.warning-status');
    if (f.acknowledged) {
      entry.dataset.acknowledged = 'true';
      status.textContent = `${who} has read the note.`;
    } else if (entry.dataset.acknowledged !== 'true') {
      status.textContent = `Waiting for ${who} to read it. Until then they can read along but not post.`;
    }
  }
}

