// Private messages: a participant writes to the facilitators; a facilitator to the
// facilitators or to one member (PROTOCOL.md §9 `whisper`, §11 `whisper`). They
// have a panel of their own (a sheet of its own on a phone, with a count of unread
// ones on its button) and are not lost: the room keeps the session's whispers and
// gives them again after every `welcome`, so the list is replaced by what follows
// each welcome and each `id` is shown once. Nothing of their words is kept in the
// browser. What a participant wrote while no facilitator was here (`kept`) is what a
// returning facilitator must read first: those have a section of their own at the top
// of the alerts, counted on the Alerts button and in the tab's title and announced
// like an alert until marked read (the ids marked read are kept for this tab only,
// so a reload does not herald them again).

import { h, clear, clock, notify } from './dom.js';
import { announcer } from './announcer.js';

export class Whispers {
  /** `chat`: the room (its model, connection and side panels). */
  constructor(chat) {
    this.chat = chat;
    this.model = chat.model;
    this.pendingText = null; // the whisper sent last, until its copy comes back
    this.items = new Map(); // id → element
    this.known = new Set(); // ids this page has shown, across welcomes
    this.fresh = true; // no welcome caught up yet on this page
    this.firstReplay = false; // the whispers after this page's first welcome
    this.unread = 0;
    this.list = h('ol', { class: 'whispers', id: 'whispers', tabindex: '0', 'aria-labelledby': 'whispers-heading' });
    this.empty = h('p', { class: 'hint whispers-empty', text: 'Nothing yet. Only you and the facilitators see what is written here.' });
    this.to = h('select', { id: 'whisper-to', class: 'field', hidden: true });
    this.toLabel = h('label', { for: 'whisper-to', class: 'label', hidden: true, id: 'whisper-to-label', text: 'To' });
    this.text = h('textarea', {
      id: 'whisper-text', class: 'field', rows: '2', maxlength: '4000',
      placeholder: 'Only the facilitators will see this',
    });
    this.label = h('label', { for: 'whisper-text', class: 'label', text: 'Write privately to the facilitators' });
    this.error = h('p', { class: 'whisper-error', id: 'whisper-error', hidden: true });
    this.form = h('form', { class: 'whisper-form', onsubmit: (e) => { e.preventDefault(); this.send(); } },
      this.toLabel, this.to, this.label, this.text, this.error,
      h('button', { type: 'submit', class: 'button', text: 'Send privately' }));
    this.text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.heading = h('h2', { id: 'whispers-heading', tabindex: '-1', text: 'Private messages' });
    // Sent while no facilitator was here: placed above the alerts by facilitator.js.
    this.awayUnread = new Set(); // ids not marked read yet
    this.awayItems = new Map(); // id → element
    this.awayHeading = h('h3', { id: 'whispers-away-heading', text: 'Sent while no facilitator was here' });
    this.awayList = h('ol', { class: 'whispers', id: 'whispers-away', 'aria-labelledby': 'whispers-away-heading' });
    this.awayRead = h('button', { type: 'button', class: 'button small', id: 'whispers-away-read',
      onclick: () => this.markAwayRead() }, 'Mark as read');
    this.away = h('section', { class: 'whispers-away', id: 'whispers-away-section', hidden: true,
      'aria-labelledby': 'whispers-away-heading' }, this.awayHeading, this.awayList, this.awayRead);
    this.panel = h('section', { class: 'panel whispers-panel', id: 'whispers-panel', 'aria-labelledby': 'whispers-heading', dataset: { pane: 'private' } },
      this.heading, this.empty, this.list, this.form);
  }

  /** A facilitator chooses whom to write to. */
  forFacilitator() {
    this.to.hidden = false;
    this.toLabel.hidden = false;
    this.label.textContent = 'Message';
    this.text.placeholder = 'Private: the recipient and the facilitators see it';
    this.empty.textContent = 'Nothing yet. Private messages between members and the facilitators show here.';
  }

  /** Whisper recipients for a facilitator: the facilitators, or one member. */
  setRecipients(members) {
    const chosen = this.to.value;
    clear(this.to).append(h('option', { value: '', text: 'Facilitators only' }),
      ...members.filter((m) => !this.model.isMe(m.user)).map((m) => h('option', { value: m.user, text: m.name })));
    this.to.value = [...this.to.options].some((o) => o.value === chosen) ? chosen : '';
  }

  /** A welcome: the whispers that follow it are the whole list (§5). */
  welcomed() {
    this.items.clear();
    clear(this.list);
    this.empty.hidden = false;
    this.awayItems.clear();
    clear(this.awayList);
    this.away.hidden = true;
  }

  /** The ids of kept whispers marked read in this tab (session storage, ids only). */
  awayReadIds() {
    try {
      return new Set(JSON.parse(sessionStorage.getItem(`kindred.away-read.${this.chat.session.room}`) || '[]'));
    } catch {
      return new Set();
    }
  }

  /** A kept whisper from a participant, shown to a facilitator above everything else. */
  addAway(f, id, el) {
    const later = id === null ? null : [...this.awayItems.entries()].find(([other]) => other > id);
    if (later) this.awayList.insertBefore(el, later[1]);
    else this.awayList.append(el);
    if (id !== null) this.awayItems.set(id, el);
    this.away.hidden = false;
    if (id === null || this.awayUnread.has(id) || this.awayReadIds().has(id)) {
      this.updateAway();
      return;
    }
    this.awayUnread.add(id);
    el.classList.add('unread');
    // Counted until marked read, but said once in this tab: a reload counts it still
    // and says nothing.
    notify(`${f.name} wrote privately while no facilitator was here.`, {
      tone: 'warn', ms: 12000, once: `whisper:${id}`,
      say: `Sent while no facilitator was here: private message from ${f.name}: ${f.text}`,
    });
    this.updateAway();
  }

  /** The count of kept whispers not yet read, where a facilitator looks. */
  updateAway() {
    const n = this.awayUnread.size;
    this.awayHeading.textContent = n ? `Sent while no facilitator was here (${n} unread)` : 'Sent while no facilitator was here';
    this.awayRead.hidden = !n;
    this.chat.facilitator?.alerts.updateCount();
    this.chat.layout.updateTitle();
  }

  markAwayRead() {
    const read = this.awayReadIds();
    for (const id of this.awayUnread) read.add(id);
    try {
      sessionStorage.setItem(`kindred.away-read.${this.chat.session.room}`, JSON.stringify([...read]));
    } catch {
      // No storage: read for this page only.
    }
    this.awayUnread.clear();
    for (const el of this.awayItems.values()) el.classList.remove('unread');
    this.updateAway();
    this.awayHeading.setAttribute('tabindex', '-1');
    this.awayHeading.focus();
  }

  /**
   * The backlog is in; the session's whispers come next (§5), each marked
   * `replayed` by the server. On the first page of this tab in the room they are
   * the conversation so far, not news to announce; after a resume or a reload, a
   * replayed id this tab has not said is news (what it said is kept by the
   * announcer, by id). A whisper written now is never `replayed`, however soon after
   * arriving it comes.
   */
  caughtUp() {
    this.firstReplay = this.fresh;
    this.fresh = false;
  }

  add(f) {
    const id = Number.isSafeInteger(f.id) ? f.id : null;
    if (id !== null && this.items.has(id)) return;
    const fromMe = this.model.isMe(f.from);
    if (fromMe) {
      this.pendingText = null;
      this.error.hidden = true;
    }
    // News: not one this page has shown or this tab has said before, nor the replay
    // the first page of this tab is given.
    const key = id === null ? null : `whisper:${id}`;
    const news = !fromMe && (id === null || !this.known.has(id)) && (key === null || announcer.fresh(key))
      && !(f.replayed && this.firstReplay && !this.chat.returning);
    if (id !== null) this.known.add(id);
    // Someone in the waiting room is not among the members: the waiting list names them.
    const waiting = (user) => this.chat.facilitator?.waitingList.members.find((m) => m.user === user)?.name;
    const to = f.waiting ? 'everyone waiting'
      : f.to ? (this.model.isMe(f.to) ? 'you' : (this.model.names.has(f.to) ? this.model.nameOf(f.to) : waiting(f.to) || this.model.nameOf(f.to)))
        : 'the facilitators';
    const head = fromMe ? `You → ${to}` : `${f.name} → ${to}`;
    // Kept: written while no facilitator was connected (§11 `whisper`). The writer
    // is told it waits for the first to arrive; that facilitator, when it was sent.
    let kept = null;
    if (f.kept) {
      kept = h('p', { class: 'whisper-kept', text: fromMe
        ? 'No facilitator is connected right now; your message will be given to the first one who arrives.'
        : 'Sent while you were away.' });
    }
    const el = h('li', { class: `whisper${fromMe ? ' mine' : ''}${f.kept ? ' kept' : ''}`, dataset: { id: id ?? '' } },
      h('div', { class: 'msg-meta' }, h('span', { class: 'msg-name', text: head }),
        h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })),
      h('p', { class: 'msg-text', text: f.text }),
      kept);
    if (f.kept && !fromMe && this.chat.facilitator) {
      this.addAway(f, id, el);
      return;
    }
    if (!news && key !== null) announcer.remember(key);
    // In the order they were written, whatever order they arrive in.
    const later = id === null ? null : [...this.items.entries()].find(([other]) => other > id);
    if (later) this.list.insertBefore(el, later[1]);
    else this.list.append(el);
    if (id !== null) this.items.set(id, el);
    this.empty.hidden = true;
    // Scrolled within its own list only: nothing else on the page moves.
    this.list.scrollTop = this.list.scrollHeight;
    if (news) {
      notify(`Private message from ${f.name}.`, { say: `Private message from ${f.name}: ${f.text}`, once: key });
      if (!this.visible()) {
        this.unread += 1;
        this.chat.layout.setBadge('private', this.unread, { urgent: true });
        this.chat.layout.drawAttention('private');
      }
      this.chat.layout.updateTitle();
    }
  }

  /** Whether this panel is in sight now (a wide screen, or its sheet open). */
  visible() {
    const sidebar = this.chat.layout.sidebar;
    if (!sidebar) return false;
    if (!window.matchMedia('(max-width: 800px)').matches) return true;
    return sidebar.classList.contains('open') && sidebar.dataset.view === 'private';
  }

  /** The panel was opened: nothing unread. */
  seen() {
    this.unread = 0;
    this.chat.layout.setBadge('private', 0);
    this.chat.layout.updateTitle();
  }

  send() {
    const text = this.text.value.trim();
    if (!text) return;
    const frame = { type: 'whisper', text };
    if (this.chat.facilitator && this.to.value) frame.to = this.to.value;
    if (this.chat.conn.send(frame)) {
      // A crisis card may answer it (§15), before or after its copy comes back.
      this.chat.lastSent = { sent: 'whisper' };
      this.text.value = '';
      this.error.hidden = true;
      this.pendingText = text;
    } else notify('You are offline right now; your private message was not sent yet.', { tone: 'warn' });
  }

  /**
   * An `error` that answers our last whisper (`not_found`: no facilitator is here,
   * or no such member); false when it is not about one.
   */
  onError(f) {
    if (f.code !== 'not_found' || this.pendingText === null) return false;
    this.failed(f);
    return true;
  }

  /** A whisper that reached nobody: say so, and give the words back to send later. */
  failed(f) {
    const text = this.pendingText;
    this.pendingText = null;
    this.error.textContent = f.message || 'Your private message was not delivered.';
    this.error.hidden = false;
    announcer.say(`Not sent. ${this.error.textContent}`, { urgent: true });
    if (!this.text.value.trim()) this.text.value = text;
  }

  /** Open the private message box, addressed to one member (facilitators) or not. */
  writeTo(user) {
    this.chat.layout.openSidebar('private');
    if (user && [...this.to.options].some((o) => o.value === user)) this.to.value = user;
    this.text.focus();
  }
}
