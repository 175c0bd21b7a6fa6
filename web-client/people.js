// The people list: who is here now, facilitators first, with a raised hand, the
// floor, "taking a minute", a mute and a dropped connection (their seat kept) beside the name, the count on the People sheet's button, and for
// a facilitator each member's menu and the recipients of a private message. A
// facilitator also sees, quietly, how the air is shared (`share_the_air`): who
// hasn't spoken yet, who has shared a lot next to the others, who is here for the
// first time. Participants never do: the server gives those figures only to
// facilitators, and this list shows them only when they were given.

import { h, clear, clock } from './dom.js';

/** "Has shared a lot": at least this many times the room's average… */
const A_LOT = 2;
/** …among at least this many participants, and at least this many characters. */
const A_LOT_AMONG = 3;
const A_LOT_MIN_CHARS = 400;

/**
 * The quiet notes on each participant, by user: "first time here", "hasn't spoken
 * yet" or "has shared a lot" (relative to the room), and a title with the figures.
 */
export function airNotes(air) {
  const notes = new Map();
  if (!air) return notes;
  const total = air.reduce((sum, a) => sum + a.chars, 0);
  const average = air.length ? total / air.length : 0;
  for (const a of air) {
    const words = [];
    if (a.first_time) words.push('first time here');
    if (!a.messages) words.push("hasn't spoken yet");
    else if (air.length >= A_LOT_AMONG && a.chars >= A_LOT_MIN_CHARS && a.chars >= A_LOT * average) words.push('has shared a lot');
    const spoke = a.last_spoke ? `, last spoke at ${clock(a.last_spoke)}` : '';
    const title = `${a.messages} message${a.messages === 1 ? '' : 's'} this session${spoke}`;
    notes.set(a.user, { words, title });
  }
  return notes;
}

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
    const air = chat.facilitator ? airNotes(chat.air) : new Map();
    clear(this.list);
    for (const m of list) {
      const me = model.isMe(m.user);
      const status = [];
      if (m.hand_raised) status.push(h('span', { class: 'status hand' }, h('span', { 'aria-hidden': 'true', text: '✋ ' }), 'hand raised'));
      if (model.state.floor === m.user) status.push(h('span', { class: 'status floor', text: 'has the floor' }));
      if (m.stepping_away) status.push(h('span', { class: 'status stepping-away', text: 'taking a minute' }));
      if (m.away) status.push(h('span', { class: 'status away', text: 'connection dropped, seat kept' }));
      if (m.muted) status.push(h('span', { class: 'status muted', text: m.muted_until ? `muted until ${clock(m.muted_until)}` : 'muted' }));
      const notes = air.get(m.user);
      if (notes && notes.words.length) {
        status.push(h('span', { class: 'status air', title: notes.title, text: notes.words.join(' · ') }));
      }
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
