// The people list: who is here now, facilitators first, with a raised hand, the
// floor, a mute and a dropped connection (their seat kept) beside the name, the count on the People sheet's button, and for
// a facilitator each member's menu and the recipients of a private message.

import { h, clear, clock } from './dom.js';

export class PeopleList {
  /** `chat`: the room (its model, layout, facilitator's tools and private messages). */
  constructor(chat) {
    this.chat = chat;
    this.list = h('ul', { class: 'members', id: 'members' });
    this.heading = h('h2', { id: 'members-heading', text: 'Here now' });
    this.panel = h('section', { class: 'panel', 'aria-labelledby': 'members-heading', dataset: { pane: 'people' } },
      this.heading, this.list);
  }

  render() {
    const chat = this.chat;
    const model = chat.model;
    const list = [...model.members.values()].sort((a, b) =>
      (a.role === 'facilitator' ? 0 : 1) - (b.role === 'facilitator' ? 0 : 1) || a.name.localeCompare(b.name));
    this.heading.textContent = `Here now (${list.length})`;
    chat.layout.peopleButton.querySelector('.sheet-label').textContent = `People (${list.length})`;
    const openMenu = chat.facilitator?.menuState();
    clear(this.list);
    for (const m of list) {
      const me = model.isMe(m.user);
      const status = [];
      if (m.hand_raised) status.push(h('span', { class: 'status hand' }, h('span', { 'aria-hidden': 'true', text: '✋ ' }), 'hand raised'));
      if (model.state.floor === m.user) status.push(h('span', { class: 'status floor', text: 'has the floor' }));
      if (m.away) status.push(h('span', { class: 'status away', text: 'connection dropped, seat kept' }));
      if (m.muted) status.push(h('span', { class: 'status muted', text: m.muted_until ? `muted until ${clock(m.muted_until)}` : 'muted' }));
      // A facilitator sees how each member arrived and leaves, quietly (checkin.js).
      const mood = chat.facilitator ? chat.moods.line(m.user) : null;
      if (mood) status.push(mood);
      const li = h('li', { class: `member${m.hand_raised ? ' hand-raised' : ''}${m.away ? ' away' : ''}`, dataset: { user: m.user } },
        h('span', { class: 'member-name' }, m.name, me ? h('span', { class: 'you', text: ' (you)' }) : null),
        m.role === 'facilitator' ? h('span', { class: 'badge', text: 'facilitator' }) : null,
        ...status,
        chat.facilitator && !me ? chat.facilitator.memberMenu(m) : null);
      this.list.append(li);
    }
    if (openMenu) chat.facilitator.restoreMenu(openMenu);
    if (chat.facilitator) chat.whispers.setRecipients(list);
  }
}
