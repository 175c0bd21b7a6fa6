// The on-call page (`/#oncall=<token>`, PROTOCOL.md §21): what an on-call supervisor
// watches on their phone. Every room in session on every instance, read from
// `GET /api/oncall/board` every few seconds: the alerts facilitators escalated (with
// the words), rooms held with no facilitator (and since when), and how many
// facilitators each room has. A new escalation, or a room held long enough to need
// on-call, is said once through the announcer; "Join as facilitator" takes a seat in
// one tap. The token stays in the fragment, which the browser never sends anywhere.

import { h, clear, clock } from './dom.js';
import { announcer } from './announcer.js';

const POLL_MS = 4000;

/** What a crisis alert's category says, in words for a supervisor. */
const CATEGORY = {
  suicidal_ideation: 'thoughts of suicide',
  self_harm: 'self-harm',
  overdose: 'an overdose',
  immediate_danger: 'immediate danger',
  abuse_disclosure: 'abuse',
};

/**
 * Show the board in `main`. `api(path, options)` reads JSON (app.js's); `enter(joined)`
 * takes the person into the room with a join's answer.
 */
export function showOnCall(main, token, { api, enter }) {
  document.title = 'On call · Kindred';
  // Its own header: the public proxy keeps `Authorization` for the admin API.
  const auth = { 'x-kindred-on-call': token };
  const status = h('p', { class: 'hint', id: 'on-call-status', text: 'Reading the rooms…' });
  const list = h('ul', { class: 'on-call-rooms', id: 'on-call-rooms', 'aria-labelledby': 'on-call-heading' });
  clear(main).append(h('section', { class: 'on-call' },
    h('h1', { id: 'on-call-heading', text: 'On call' }),
    h('p', { class: 'lead', text: 'Rooms meeting now. Rooms that need you come first.' }),
    status,
    list));
  // What this tab has said, kept like a room's (ids only).
  announcer.forRoom('on-call', 0);
  let timer = null;
  let stopped = false;
  let reads = 0;

  const join = async (room, button) => {
    button.disabled = true;
    try {
      const joined = await api(`/api/oncall/rooms/${encodeURIComponent(room.id)}/join`, {
        method: 'POST', headers: auth, body: '{}',
      });
      stopped = true;
      clearTimeout(timer);
      enter(joined);
    } catch (e) {
      button.disabled = false;
      status.textContent = `Could not join ${room.title}: ${e.message}`;
      announcer.say(status.textContent, { urgent: true });
    }
  };

  const render = (board) => {
    const rooms = board.rooms || [];
    // How many times the board was read (seen by tests and nobody else).
    list.dataset.reads = String(++reads);
    clear(list);
    if (!rooms.length) list.append(h('li', { class: 'card empty', text: 'No room is meeting right now.' }));
    for (const room of rooms) list.append(roomCard(room, board, join));
    const needing = rooms.filter((r) => r.needs_on_call).length;
    status.textContent = `${rooms.length} ${rooms.length === 1 ? 'room' : 'rooms'} meeting; ${needing} ${needing === 1 ? 'needs' : 'need'} on-call. Updated ${clock(board.now)}.`;
    for (const room of rooms) {
      for (const e of room.escalations || []) {
        announcer.say(`${e.by_name} in ${room.title} is asking for on-call about ${e.name}.`, { urgent: true, once: `escalation:${room.id}:${e.alert}` });
      }
      if (room.needs_on_call && Number.isSafeInteger(room.held_since)) {
        announcer.say(`${room.title} has had no facilitator since ${clock(room.held_since)}.`, { urgent: true, once: `held:${room.id}:${room.held_since}` });
      }
    }
  };

  const poll = async () => {
    if (stopped) return;
    try {
      render(await api('/api/oncall/board', { headers: auth }));
    } catch (e) {
      status.textContent = e.code === 'unauthorized'
        ? `This on-call link does not work: ${e.message}`
        : `Could not read the rooms just now: ${e.message} Trying again.`;
      if (e.code === 'unauthorized') {
        announcer.say(status.textContent, { urgent: true, once: 'on-call-refused' });
        return;
      }
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  };
  poll();
}

/** One room: what needs on-call first, then who is there, and the one-tap join. */
function roomCard(room, board, join) {
  const held = Number.isSafeInteger(room.held_since);
  const facilitators = room.facilitators === 1 ? '1 facilitator here' : `${room.facilitators} facilitators here`;
  const button = h('button', { type: 'button', class: 'button primary join-on-call',
    'aria-label': `Join as facilitator: ${room.title}`, text: 'Join as facilitator' });
  button.addEventListener('click', () => join(room, button));
  const headingId = `on-call-room-${room.id}`;
  return h('li', { class: 'card on-call-room',
    dataset: { room: room.id, needs: String(room.needs_on_call), held: String(held) } },
    h('h2', { id: headingId, text: room.title }),
    room.needs_on_call ? h('p', { class: 'on-call-needed', text: 'Needs on-call' }) : null,
    held
      ? h('p', { class: 'on-call-held', text: `Held: no facilitator since ${clock(room.held_since)}` })
      : h('p', { class: 'on-call-present', text: facilitators }),
    h('p', { class: 'room-meta', text: `${room.members} ${room.members === 1 ? 'person' : 'people'} in the room` }),
    (room.escalations || []).length
      ? h('ul', { class: 'on-call-escalations' }, room.escalations.map((e) => h('li', { class: 'on-call-escalation' },
        h('p', {}, h('strong', { text: e.by_name }), ` asked for on-call at ${clock(e.ts)} about `, h('strong', { text: e.name }),
          e.category && CATEGORY[e.category] ? ` (${CATEGORY[e.category]})` : '', '.'),
        e.quote ? h('blockquote', { class: 'on-call-quote', text: e.quote }) : null)))
      : null,
    h('p', {}, button),
    board.held_after_seconds && held && !room.needs_on_call
      ? h('p', { class: 'hint', text: 'On-call is asked to come if no facilitator is back soon.' })
      : null);
}
