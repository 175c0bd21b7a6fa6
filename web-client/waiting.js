// The waiting room (PROTOCOL.md §10 "The waiting room"), from both sides: the calm
// screen a participant reads while a facilitator has not let them in yet (a waiting
// `welcome`), and the facilitators' list of who is waiting (`waiting` frames) with
// Admit and Turn away.

import { h, clear, clock, ask } from './dom.js';
import { announcer } from './announcer.js';

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
    this.el = h('section', { class: 'card narrow waiting-screen', id: 'waiting-screen', 'aria-labelledby': 'waiting-title', hidden: true },
      h('p', { class: 'eyebrow', text: 'Waiting room' }),
      this.title, this.topic, this.description,
      this.status,
      this.actions,
      h('h2', { text: 'Group guidelines' }),
      this.guidelines);
    this.waitingStatus();
  }

  /** The words of a participant who waits to be let in. */
  waitingStatus() {
    clear(this.status).append(
      h('p', { class: 'waiting-main', text: 'A facilitator will let you in shortly.' }),
      h('p', { class: 'hint', text: 'Thank you for your patience. There is no rush: you can read the group\'s guidelines while you wait, and you will see the room as soon as you are in.' }));
  }

  /** Show the screen for the room the waiting `welcome` describes. */
  show(room) {
    const first = this.el.hidden;
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
  end(lines, extra = null) {
    clear(this.status).append(...lines.map((text, i) => h('p', { class: i === 0 ? 'waiting-main' : 'hint', text })),
      ...(extra ? [extra] : []));
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
    this.panel = h('section', { class: 'panel waiting-panel', id: 'waiting-panel', 'aria-labelledby': 'waiting-heading', hidden: true },
      this.heading,
      h('p', { class: 'hint', text: 'People who arrive wait here until you let them in.' }),
      this.list, this.admitAllButton);
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
      const since = Number.isSafeInteger(m.since) ? `waiting since ${clock(m.since)}` : 'waiting';
      this.list.append(h('li', { class: 'waiting-member', dataset: { user: m.user, online: String(m.online !== false) } },
        h('span', { class: 'member-name', text: m.name }),
        h('span', { class: 'status', text: m.online === false ? `${since} · connection lost for now` : since }),
        h('span', { class: 'waiting-actions' },
          h('button', { type: 'button', class: 'button small primary admit-button', 'aria-label': `Admit ${m.name}`,
            onclick: (e) => this.admit(m, e.currentTarget) }, 'Admit'),
          h('button', { type: 'button', class: 'button small quiet deny-button', 'aria-label': `Turn away ${m.name}`,
            onclick: (e) => this.deny(m, e.currentTarget) }, 'Turn away'))));
    }
    this.admitAllButton.hidden = n === 0;
    this.admitAllButton.disabled = false;
    this.setOn(this.on);
    if (hadFocus) (this.list.querySelector('button') || this.heading).focus();
  }

  admit(m, button) {
    if (this.tools.mod('admit', { user: m.user }, `let ${m.name} in`)) this.busy(button);
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
