// The waiting room (PROTOCOL.md §10 "The waiting room"), from both sides: the calm
// screen a participant reads while a facilitator has not let them in yet (a waiting
// `welcome`), with their private word with the facilitators (whispers, and a note to
// everyone waiting); and the facilitators' list of who is waiting (`waiting` frames)
// with Admit, Turn away and Write to them, and a note to everyone waiting. Someone a
// facilitator asked out of the room for a quiet word (`welcome.you.stepped_out`) waits
// here too: told kindly why, with the facilitator's note and the help lines in view;
// the facilitators' list marks them, with Admit back.

import { h, clear, clock, ask, notify } from './dom.js';
import { announcer } from './announcer.js';
import { helpPanel } from './crisis.js';

/** What someone asked out of the room for a quiet word reads first: a fact, not a fault. */
export const STEPPED_OUT_TEXT = "A facilitator has asked for a quiet word with you. You're not in trouble: they would just like to check in with you privately.";
const STEPPED_OUT_HINT = 'You can write to the facilitators below; only they will see it. When you are ready, a facilitator will bring you back into the room.';

/** What a participant reads while they wait: the group, its guidelines, and the door. */
export class WaitingScreen {
  /** `chat`: the room (its connection and leave). */
  constructor(chat) {
    this.chat = chat;
    this.title = h('h1', { id: 'waiting-title', tabindex: '-1' });
    this.topic = h('p', { class: 'room-topic' });
    this.description = h('p', { class: 'room-description' });
    this.guidelines = h('div', { class: 'guidelines', id: 'waiting-guidelines' });
    // Seen, not a live region: a kind word added here is said by the announcer, and
    // the end of the wait takes the focus.
    this.status = h('div', { class: 'waiting-status', id: 'waiting-status' });
    this.leaveButton = h('button', { type: 'button', class: 'button quiet', id: 'waiting-leave-button', text: 'Leave',
      onclick: () => this.leave() });
    this.actions = h('p', { class: 'waiting-actions' }, this.leaveButton);
    // A private word with the facilitators while waiting: what they wrote, and a box
    // to write back. The room itself is never shown here.
    this.words = h('ol', { class: 'waiting-words', id: 'waiting-words' });
    this.wordsShown = new Set();
    this.wordInput = h('textarea', { class: 'field', id: 'waiting-word-input', rows: 2, maxlength: 2000 });
    this.wordForm = h('form', { class: 'waiting-word-form', id: 'waiting-word-form',
      onsubmit: (e) => { e.preventDefault(); this.write(); } },
    h('label', { for: 'waiting-word-input', text: 'Write to the facilitators (only they will see it)' }),
    this.wordInput,
    h('button', { type: 'submit', class: 'button', id: 'waiting-word-send' }, 'Send to the facilitators'));
    this.conversation = h('section', { class: 'waiting-conversation', 'aria-labelledby': 'waiting-words-heading' },
      h('h2', { id: 'waiting-words-heading', text: 'You and the facilitators' }),
      this.words, this.wordForm);
    // The help lines, while asked out for a quiet word (and when a wait ends badly).
    this.help = h('div', { class: 'waiting-help', id: 'waiting-help' });
    this.steppedOut = null; // the facilitator's reason to ask them out, while it holds
    this.el = h('section', { class: 'card narrow waiting-screen', id: 'waiting-screen', 'aria-labelledby': 'waiting-title', hidden: true },
      h('p', { class: 'eyebrow', text: 'Waiting room' }),
      this.title, this.topic, this.description,
      this.status,
      this.help,
      this.actions,
      this.conversation,
      h('h2', { text: 'Group guidelines' }),
      this.guidelines);
    this.waitingStatus();
  }

  /** The words of a participant who waits to be let in (or was asked out for a word). */
  waitingStatus() {
    if (this.steppedOut) {
      const note = this.steppedOut.note;
      clear(this.status).append(...[
        h('p', { class: 'waiting-main', id: 'stepped-out-text', text: STEPPED_OUT_TEXT }),
        note ? h('p', { class: 'note-from', id: 'stepped-out-note', text: `The facilitator's note: ${note}` }) : null,
        h('p', { class: 'hint', text: STEPPED_OUT_HINT })].filter(Boolean));
      this.status.classList.add('waiting-stepped-out');
      return;
    }
    this.status.classList.remove('waiting-stepped-out');
    clear(this.status).append(
      h('p', { class: 'waiting-main', text: 'A facilitator will let you in shortly.' }),
      h('p', { class: 'hint', text: 'Thank you for your patience. There is no rush: you can read the group\'s guidelines while you wait, and you will see the room as soon as you are in.' }));
  }

  /**
   * Show the screen for the room the waiting `welcome` describes; `you`: the
   * welcome's `you` (its `stepped_out`, when a facilitator asked them out).
   */
  show(room, you = {}) {
    const first = this.el.hidden;
    const before = this.steppedOut;
    this.steppedOut = you.stepped_out || null;
    this.waitingStatus();
    clear(this.help);
    if (this.steppedOut) {
      this.help.append(helpPanel('waiting-help-lines'));
      // Said once, as it happens (a reload of this screen is not news).
      const again = before && (before.note || '') === (this.steppedOut.note || '');
      if (!again) {
        const note = this.steppedOut.note ? ` Their note: ${this.steppedOut.note}` : '';
        announcer.say(`${STEPPED_OUT_TEXT}${note}`, { urgent: true });
      }
    }
    this.title.textContent = room.title;
    this.topic.textContent = room.topic || '';
    this.topic.hidden = !room.topic;
    this.description.textContent = room.description || '';
    this.description.hidden = !room.description;
    this.guidelines.textContent = room.guidelines || '';
    this.el.hidden = false;
    if (first) this.title.focus();
  }

  hide() {
    this.el.hidden = true;
  }

  /** A whisper while waiting: a facilitator's word (or a note to all waiting), or our own. */
  whisper(f) {
    const key = f.id ?? `${f.ts}:${f.from}`;
    if (this.wordsShown.has(key)) return;
    this.wordsShown.add(key);
    const mine = this.chat.model.isMe(f.from);
    const who = mine ? 'You' : (f.waiting ? `${f.name}, to everyone waiting` : f.name);
    this.words.append(h('li', { class: `waiting-word${mine ? ' mine' : ''}` },
      h('span', { class: 'who', text: `${who} · ${clock(f.ts)}` }),
      h('p', { class: 'msg-text', text: f.text })));
    if (!mine && !f.replayed) announcer.say(`${f.name} wrote to you: ${f.text}`);
  }

  write() {
    const text = this.wordInput.value.trim();
    if (!text) return;
    if (this.chat.conn.send({ type: 'whisper', text })) this.wordInput.value = '';
    else notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
  }

  /** A kind word while waiting (an `error` `waiting` for something they tried). */
  say(text) {
    this.waitingStatus();
    this.status.append(h('p', { class: 'note', text }));
    announcer.say(text);
  }

  /**
   * The wait is over without coming in: they left, were not admitted, or the
   * session ended. `lines`: what to say; `extra`: an element to add (the next session).
   */
  end(lines, extra = null, help = null) {
    this.steppedOut = null;
    this.status.classList.remove('waiting-stepped-out');
    clear(this.status).append(...lines.map((text, i) => h('p', { class: i === 0 ? 'waiting-main' : 'hint', text })),
      ...(extra ? [extra] : []));
    clear(this.help).append(...(help ? [help] : []));
    clear(this.actions).append(h('a', { href: '/', class: 'button primary', id: 'waiting-other-groups', text: 'See other groups' }));
    this.status.setAttribute('tabindex', '-1');
    this.status.focus();
  }

  async leave() {
    const ok = await ask({
      title: 'Leave the waiting room?',
      body: 'You can come back later and join again, under any name.',
      confirmLabel: 'Leave',
      cancelLabel: 'Keep waiting',
    });
    if (ok) this.chat.conn.leave();
  }
}

/** The facilitators' list of who is waiting, replaced by each `waiting` frame. */
export class WaitingList {
  /** `tools`: the facilitator's tools (their `mod`). */
  constructor(tools) {
    this.tools = tools;
    this.members = [];
    this.heading = h('h2', { id: 'waiting-heading', tabindex: '-1', text: 'Waiting' });
    this.list = h('ul', { class: 'waiting-list', id: 'waiting-list' });
    this.admitAllButton = h('button', { type: 'button', class: 'button small', id: 'admit-all-button', hidden: true,
      onclick: () => this.admitAll() }, 'Admit all');
    this.noteButton = h('button', { type: 'button', class: 'button small quiet', id: 'waiting-note-button', hidden: true,
      onclick: () => this.noteToAll() }, 'Note to everyone waiting');
    this.panel = h('section', { class: 'panel waiting-panel', id: 'waiting-panel', 'aria-labelledby': 'waiting-heading', hidden: true },
      this.heading,
      h('p', { class: 'hint', text: 'People who arrive wait here until you let them in.' }),
      this.list, this.admitAllButton, this.noteButton);
    this.on = false;
    this.render();
  }

  has(user) {
    return this.members.some((m) => m.user === user);
  }

  /** The whole list, oldest first (a `waiting` frame). */
  update(members) {
    this.members = Array.isArray(members) ? members.filter((m) => m && m.user) : [];
    this.render();
  }

  /** Whether the room's waiting room is on: the panel shows while it is, or while anyone waits. */
  setOn(on) {
    this.on = !!on;
    this.panel.hidden = !this.on && this.members.length === 0;
  }

  render() {
    const hadFocus = this.list.contains(document.activeElement);
    const n = this.members.length;
    this.heading.textContent = n ? `Waiting (${n})` : 'Waiting';
    clear(this.list);
    if (!n) this.list.append(h('li', { class: 'empty', text: 'Nobody is waiting right now.' }));
    for (const m of this.members) {
      const when = Number.isSafeInteger(m.since) ? ` since ${clock(m.since)}` : '';
      const since = m.stepped_out ? `stepped out for a quiet word${when}` : `waiting${when}`;
      this.list.append(h('li', { class: 'waiting-member', dataset: { user: m.user, online: String(m.online !== false), steppedOut: String(!!m.stepped_out) } },
        h('span', { class: 'member-name', text: m.name }),
        h('span', { class: 'status', text: m.online === false ? `${since} · connection lost for now` : since }),
        h('span', { class: 'waiting-actions' },
          h('button', { type: 'button', class: 'button small primary admit-button', 'aria-label': `${m.stepped_out ? 'Admit back' : 'Admit'} ${m.name}`,
            onclick: (e) => this.admit(m, e.currentTarget) }, m.stepped_out ? 'Admit back' : 'Admit'),
          h('button', { type: 'button', class: 'button small quiet deny-button', 'aria-label': `Turn away ${m.name}`,
            onclick: (e) => this.deny(m, e.currentTarget) }, 'Turn away'),
          h('button', { type: 'button', class: 'button small quiet write-button', 'aria-label': `Write to ${m.name}`,
            onclick: () => this.writeTo(m) }, 'Write'))));
    }
    this.admitAllButton.hidden = n === 0;
    this.admitAllButton.disabled = false;
    this.noteButton.hidden = n === 0;
    this.setOn(this.on);
    if (hadFocus) (this.list.querySelector('button') || this.heading).focus();
  }

  admit(m, button) {
    if (this.tools.mod('admit', { user: m.user }, `let ${m.name} in`)) this.busy(button);
  }

  /** A private word with someone before they are let in: they see only this, never the room. */
  async writeTo(m) {
    const text = await ask({
      title: `Write to ${m.name}`,
      body: `${m.name} is still waiting: only they and the facilitators will see this, and their replies show under Private messages.`,
      input: { label: 'Your message', multiline: true, maxlength: 2000, required: true },
      confirmLabel: 'Send',
    });
    if (!text) return;
    if (!this.tools.chat.conn.send({ type: 'whisper', to: m.user, text })) {
      notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
    }
  }

  /** A note to everyone waiting ("we start at 7:05"); the room does not see it. */
  async noteToAll() {
    const text = await ask({
      title: 'A note to everyone waiting',
      body: 'Everyone in the waiting room sees it, and the facilitators; the group does not.',
      input: { label: 'Your note', multiline: true, maxlength: 2000, required: true },
      confirmLabel: 'Send the note',
    });
    if (!text) return;
    if (!this.tools.chat.conn.send({ type: 'waiting_note', text })) {
      notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
    }
  }

  admitAll() {
    if (this.tools.mod('admit_all', {}, 'let everyone in')) this.admitAllButton.disabled = true;
  }

  async deny(m, button) {
    const answer = await ask({
      title: `Turn ${m.name} away?`,
      body: `${m.name} will be told, kindly, that they cannot join this session, and their connection will end.`,
      check: { label: `Also ban ${m.name}: they cannot join again from this browser or, this session, from this network` },
      confirmLabel: 'Turn away',
      danger: true,
    });
    const ban = !!answer?.checked;
    const args = ban ? { user: m.user, ban: true } : { user: m.user };
    if (answer && this.tools.mod('deny', args, ban ? `turn ${m.name} away and ban them` : `turn ${m.name} away`)) this.busy(button);
    else button.focus();
  }

  /** The buttons of one person wait for the list that follows our command. */
  busy(button) {
    button.closest('li')?.querySelectorAll('button').forEach((b) => { b.disabled = true; });
  }

  /** Bring the list into view (a knock's "See who is waiting"). */
  focus() {
    this.panel.hidden = false;
    this.tools.chat.layout.openSidebar();
    this.heading.focus();
    this.panel.scrollIntoView({ block: 'nearest' });
  }
}
