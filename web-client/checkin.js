// Check-in and check-out, and the debrief (PROTOCOL.md §9 `checkin` and `checkout`,
// §11 `mood` and `debrief`). A participant is offered the prompt when a phase named
// for a check-in or a check-out begins (the default script's "Check-in" and
// "Check-out") and can open it from the room's header at any time: five large
// moods, optional words, and Skip. It goes to the facilitators alone. A facilitator
// sees each member's mood quietly in the people list (people.js asks `line`), the
// room's anonymous spread in a panel beside the room, and at the close the session's
// debrief, which stays on screen after the connection ends. Nothing here is stored
// in the browser; the words are shown, never kept.

import { h, clear, notify } from './dom.js';
import { announcer } from './announcer.js';

/** The five moods, 1 to 5, in the words the prompt shows. */
export const MOODS = ['Struggling', 'Low', 'Okay', 'Good', 'Well'];

/** Which moment a phase asks for, from its name: 'checkin', 'checkout' or null. */
export function momentOf(phaseName) {
  const name = String(phaseName || '').toLowerCase();
  if (/check[\s-]?out/.test(name)) return 'checkout';
  if (/check[\s-]?in/.test(name)) return 'checkin';
  return null;
}

const ALERT_WORDS = {
  crisis: 'crisis', check_in: 'check-in', concern: 'concern', report: 'report', held: 'held', flagged: 'flagged',
};

export class Moods {
  constructor(chat) {
    this.chat = chat;
    // A participant's own: what they gave or skipped this session, in this tab.
    this.given = { checkin: false, checkout: false };
    // A facilitator's: every member's entry, by user, and the spread.
    this.board = new Map();
    this.spread = null;
    this.moment = null;
    this.el = h('section', { class: 'mood-prompt', id: 'mood-prompt', 'aria-labelledby': 'mood-heading', hidden: true });
    this.button = h('button', { type: 'button', class: 'button quiet', id: 'mood-button',
      title: 'Tell the facilitators privately how you are', onclick: () => this.open() }, 'How I am');
    this.panel = h('section', { class: 'panel mood-panel', id: 'mood-panel', 'aria-labelledby': 'mood-panel-heading', dataset: { pane: 'people' } },
      h('h2', { id: 'mood-panel-heading', text: 'Check-ins' }));
    this.debriefEl = h('section', { class: 'debrief', id: 'debrief', 'aria-labelledby': 'debrief-heading', hidden: true });
  }

  // ---- a participant ----------------------------------------------------------

  /**
   * A phase began: offer the prompt it asks for, once a session. Returns the words
   * the phase's announcement adds (said once there), or ''.
   */
  offer(phaseName) {
    const moment = momentOf(phaseName);
    if (!moment || this.chat.isFacilitator() || this.given[moment]) return '';
    this.show(moment);
    return moment === 'checkin'
      ? ' You can tell the facilitators privately how you are arriving.'
      : ' You can tell the facilitators privately how you are leaving.';
  }

  /** From the header: the check-out once checked in, else the check-in. */
  open() {
    this.show(this.given.checkin ? 'checkout' : 'checkin');
    this.el.querySelector('button.mood')?.focus();
  }

  show(moment) {
    this.moment = moment;
    const arriving = moment === 'checkin';
    const words = h('input', { type: 'text', id: 'mood-words', maxlength: '80', autocomplete: 'off',
      placeholder: arriving ? 'tired, hopeful…' : 'one word for tonight' });
    const send = (mood) => {
      const frame = { type: moment, mood };
      const text = words.value.trim();
      if (text) frame.words = text;
      if (!this.chat.conn.send(frame)) {
        notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
        return;
      }
      this.given[moment] = true;
      this.hide();
      notify('Thank you. Only the facilitators will see it.');
    };
    clear(this.el).append(
      h('h2', { id: 'mood-heading', text: arriving ? 'How are you arriving?' : 'How are you leaving?' }),
      h('p', { class: 'hint', text: 'Only the facilitators will see this. You can skip it.' }),
      h('div', { class: 'moods', role: 'group', 'aria-label': 'Your mood, from 1 (struggling) to 5 (well)' },
        MOODS.map((label, i) => h('button', { type: 'button', class: 'button mood', dataset: { mood: i + 1 },
          onclick: () => send(i + 1) }, h('span', { class: 'mood-number', text: String(i + 1) }), ' ', h('span', { text: label })))),
      h('p', { class: 'mood-words' },
        h('label', { for: 'mood-words', text: 'A few words, if you like (before you choose)' }), words),
      h('button', { type: 'button', class: 'button quiet small', id: 'mood-skip', onclick: () => {
        this.given[moment] = true;
        this.hide();
      } }, 'Skip'));
    this.el.hidden = false;
  }

  hide() {
    this.el.hidden = true;
    clear(this.el);
    this.chat.composer.focus();
  }

  /** The session is over: nothing to give any more. */
  ended() {
    this.el.hidden = true;
    clear(this.el);
    this.button.hidden = true;
  }

  // ---- a facilitator ----------------------------------------------------------

  /** `welcome.moods`: the whole board (absent for a participant). */
  welcome(moods) {
    if (!moods) return;
    this.board = new Map(moods.members.map((m) => [m.user, m]));
    this.spread = moods.spread;
    this.renderPanel();
  }

  /** A `mood` frame: one member's entry and the spread. Said once, quietly. */
  onMood(f) {
    this.board.set(f.member.user, f.member);
    this.spread = f.spread;
    const m = f.member;
    const latest = m.checkout && (!m.checkin || m.checkout.ts >= m.checkin.ts) ? ['checked out', m.checkout] : ['checked in', m.checkin];
    if (latest[1]) announcer.say(`${m.name} ${latest[0]}: ${latest[1].mood} of 5.`);
    this.renderPanel();
    this.chat.people.render();
  }

  /** The quiet line beside a member's name in a facilitator's people list, or null. */
  line(user) {
    const m = this.board.get(user);
    if (!m || (!m.checkin && !m.checkout)) return null;
    const part = (label, g) => (g ? `${label} ${g.mood}/5${g.words ? ` “${g.words}”` : ''}` : null);
    const text = [part('in', m.checkin), part('out', m.checkout)].filter(Boolean).join(' · ');
    return h('span', { class: 'status mood-line', text });
  }

  renderPanel() {
    const heading = this.panel.firstChild;
    clear(this.panel).append(heading);
    const s = this.spread || { checkin: [0, 0, 0, 0, 0], checkout: [0, 0, 0, 0, 0] };
    this.panel.append(h('p', { class: 'hint', text: 'How the group arrived and is leaving, anonymously: how many at each mood.' }),
      spreadTable(s, 'mood-spread'));
  }

  /** The `debrief` frame: the session in counts, kept on screen after the close. */
  onDebrief(d) {
    const facts = [
      ['Length', `${d.minutes} minute${d.minutes === 1 ? '' : 's'}`],
      ['Members', `${d.members} came, ${d.peak} at most at once`],
      ['Messages', String(d.messages)],
      ['Rounds', `${d.rounds}: ${d.shared} shared, ${d.passes} passed`],
      ['Alerts', (d.alerts || []).length
        ? d.alerts.map((a) => `${ALERT_WORDS[a.kind] || a.kind} ${a.raised} (${a.handled} handled)`).join(', ')
        : 'none'],
      ['Actions', (d.actions || []).length ? d.actions.map((a) => `${a.action.replace(/_/g, ' ')} ${a.count}`).join(', ') : 'none'],
    ];
    clear(this.debriefEl).append(
      h('h2', { id: 'debrief-heading', text: 'Debrief of this session' }),
      h('dl', { class: 'debrief-facts' }, facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v, dataset: { fact: k.toLowerCase() } })])),
      h('h3', { text: 'Check-in and check-out' }),
      spreadTable(d.moods, 'debrief-spread'),
      h('p', { class: 'hint', text: 'Counts only, kept nowhere: this page is the only copy. It stays here until you leave the page.' }));
    this.debriefEl.hidden = false;
    const count = (n, one) => `${n} ${one}${n === 1 ? '' : 's'}`;
    // Said after the session's ending (ending.js), which comes just after this frame.
    this.debriefNews = `The session's debrief: ${count(d.minutes, 'minute')}, ${count(d.members, 'member')}, ${count(d.messages, 'message')}. It is shown below the notice.`;
  }

  /** Say the debrief once, after the ending it belongs to. */
  sayDebrief() {
    if (!this.debriefNews) return;
    announcer.say(this.debriefNews);
    this.debriefNews = null;
  }
}

/** A small table of the spread: one row in, one row out, a column per mood. */
function spreadTable(spread, id) {
  const row = (label, counts) => h('tr', {}, h('th', { scope: 'row', text: label }),
    counts.map((n) => h('td', { text: String(n) })));
  // Named by aria-label, not a visually hidden caption: an absolutely placed caption
  // down a panel that scrolls inside itself would lengthen the page.
  return h('table', { class: 'spread', id, 'aria-label': 'How many at each mood, 1 (struggling) to 5 (well)' },
    h('thead', {}, h('tr', {}, h('td', {}), MOODS.map((label, i) => h('th', { scope: 'col', title: label, text: String(i + 1) })))),
    h('tbody', {}, row('Arriving', spread.checkin), row('Leaving', spread.checkout)));
}
