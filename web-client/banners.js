// The banners above the conversation. The connection's: its state in the site's
// header, and the banner of a member whose room is open in too many tabs (close
// 4009). The room's state: a pause, a hold while no facilitator is here (with a way
// to write to them privately), the pinned announcement, and the notes on the floor,
// slow mode and a lock. And the place where the end of a stay is said: ending.js
// writes it. None of them is a live region: what a screen reader should hear of
// them is said once through announcer.js (a lost connection and its return here,
// the room's changes by chat.js as they happen).

import { h, clear, clock, duration } from './dom.js';
import { announcer } from './announcer.js';

export class Banners {
  /** `chat`: the room (its model, connection and private messages). */
  constructor(chat) {
    this.chat = chat;
    this.ended = h('div', { class: 'banner ended', hidden: true });
    this.blocked = h('div', { class: 'banner blocked', id: 'blocked-banner', hidden: true });
    this.lost = false; // the connection dropped and has not come back yet
    this.paused = h('div', { class: 'banner paused', id: 'paused-banner', hidden: true });
    this.held = h('div', { class: 'banner held', id: 'held-banner', hidden: true });
    this.announcement = h('div', { class: 'banner announcement', id: 'announcement', hidden: true });
    this.notes = h('div', { class: 'room-notes' });
  }

  // ---- the connection -------------------------------------------------------

  /** The connection's state, in the site's header (`onStatus`). */
  status({ state, retryInMs }) {
    const el = document.getElementById('conn-status');
    if (!el || this.chat.ended) return;
    el.dataset.state = state;
    if (state === 'live') this.blocked.hidden = true;
    if (state === 'live') el.textContent = 'Connected';
    else if (state === 'connecting') el.textContent = 'Connecting…';
    else el.textContent = `Connection lost. Trying again in ${duration(retryInMs)}…`;
    // Heard once each way: the first connection and every retry's countdown are
    // only seen.
    if (state === 'waiting' && !this.lost) {
      this.lost = true;
      announcer.say('Connection lost. Trying to reconnect; what you write waits until you are back.');
    } else if (state === 'live' && this.lost) {
      this.lost = false;
      announcer.say('Connected again.');
    }
  }

  /** Close 4009: this member has too many connections; reconnect only when asked. */
  tooManyTabs() {
    const status = document.getElementById('conn-status');
    if (status) { status.textContent = 'Not connected'; status.dataset.state = 'blocked'; }
    const button = h('button', { type: 'button', class: 'button primary', id: 'reconnect-button', text: 'Reconnect',
      onclick: () => { this.blocked.hidden = true; this.chat.conn.reconnect(); } });
    clear(this.blocked).append(
      h('p', { text: 'This room is open in too many tabs or windows. Close one, then reconnect.' }),
      h('p', {}, button));
    this.blocked.hidden = false;
    button.focus();
    announcer.say('This room is open in too many tabs or windows. Close one, then reconnect.');
  }

  // ---- the room's state -----------------------------------------------------

  /** Paused, held, the announcement and the notes, as the room's state says now. */
  render() {
    const chat = this.chat;
    const s = chat.model.state;
    if (s.paused) {
      clear(this.paused).append(
        h('strong', { text: 'A pause for breath. ' }),
        h('span', { text: 'The room is paused for a moment; only facilitators can post. Take your time.' }));
      this.paused.hidden = false;
    } else {
      this.paused.hidden = true;
    }
    // Only participants wait: a facilitator's arrival is what ends a hold.
    if (s.held && !chat.isFacilitator()) {
      if (this.held.hidden) {
        clear(this.held).append(
          h('p', {},
            h('strong', { text: 'No facilitator is here right now. ' }),
            h('span', { text: 'Posting is paused until one is back: nothing is sent meanwhile, and what you write stays in the box. You can keep reading. If you need help now, please contact a crisis line or your local emergency number.' })),
          h('p', { class: 'held-invite' },
            h('span', { text: 'You can write to the facilitators privately: the first one to arrive will read it. ' }),
            h('button', { type: 'button', class: 'button small', id: 'held-whisper-button',
              onclick: () => chat.whispers.writeTo(null) }, 'Write to the facilitators')));
      }
      this.held.hidden = false;
    } else {
      this.held.hidden = true;
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
      const mine = chat.model.isMe(s.floor);
      notes.push(h('p', { class: 'note floor', id: 'floor-note' },
        mine ? 'You have the floor' : `${chat.nameOf(s.floor)} has the floor`,
        s.floor_until ? ` until ${clock(s.floor_until)}` : '',
        mine ? '. Take your time.' : '. Let\'s listen.'));
    }
    if (s.slow_mode_seconds) notes.push(h('p', { class: 'note', text: `Slow mode: one message every ${duration(s.slow_mode_seconds * 1000)}.` }));
    if (s.locked) notes.push(h('p', { class: 'note', text: 'The room is locked to new members.' }));
    clear(this.notes).append(...notes);
  }
}
