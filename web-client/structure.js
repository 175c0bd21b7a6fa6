// The structured group at the top of the room (PROTOCOL.md §10, "The structured
// group"): the phase the group is in and its prompt, the time it was planned for;
// in a go-around, whose turn it is with its time and every turn so far, and a Pass
// button for the member whose turn it is; in a sharing queue, its order, "I'd like
// to share" and the member's place; for a facilitator, the script's controls (start
// or next phase, next turn, post the reading, move someone up). It keeps its own
// copy of `welcome`'s `state.script`, kept current by the live `phase`, `round`,
// `queue` and `script` events, and says a change of phase or turn once through
// announcer.js.

import { h, clear, notify } from './dom.js';
import { announcer } from './announcer.js';

/** "2:05" for a time left, "0:00" once it is up. */
function left(until) {
  const s = Math.max(0, Math.round((until - Date.now()) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "1st", "2nd", "3rd", "4th"… */
function ordinal(n) {
  const tail = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th');
  return `${n}${tail}`;
}

export class SessionScript {
  constructor(chat) {
    this.chat = chat;
    this.script = { phases: [], current: null, round: null, queue: [] };
    // How each turn had gone in the last `round` event the timeline drew (null: none
    // drawn since the page opened or the phase changed), to say who just passed.
    this.drawnTurns = null;
    this.el = h('section', { class: 'session-script', id: 'session-script', 'aria-label': 'Where the group is', hidden: true });
    this.tick = setInterval(() => this.renderTimes(), 1000);
  }

  /** Start again from a `welcome`'s `state.script` (`reset`: the timeline starts over). */
  welcome(script, { reset = false } = {}) {
    if (reset) this.drawnTurns = null;
    this.script = {
      phases: script?.phases || [],
      current: script?.current || null,
      round: script?.round || null,
      queue: script?.queue || [],
    };
    this.render();
  }

  /** A live timeline event (a backlog's are older than the welcome's state). */
  onEvent(f) {
    const s = this.script;
    switch (f.type) {
      case 'phase': {
        const fresh = !s.current || s.current.index !== f.index;
        s.current = { index: f.index, name: f.name, prompt: f.prompt, kind: f.kind, until: f.until, time_up: !!f.time_up };
        if (fresh) {
          s.round = null;
          s.queue = [];
          // A check-in or check-out phase offers a participant its prompt (checkin.js).
          announcer.say(`Now: ${f.name}. ${f.prompt}${this.chat.moods.offer(f.name)}`);
        } else if (f.time_up) {
          announcer.say(`The time planned for ${f.name} is up.`);
        }
        break;
      }
      case 'round':
        s.round = { turns: f.turns, ended: !!f.ended };
        if (f.ended) announcer.say('Everyone has had a turn.');
        break;
      case 'queue':
        s.queue = f.members;
        break;
      case 'script':
        this.script = { phases: f.phases, current: null, round: null, queue: [] };
        break;
      case 'floor':
        if (s.current?.kind === 'round' && s.round && !s.round.ended && f.user) {
          announcer.say(this.chat.model.isMe(f.user)
            ? "It's your turn. You can share, or pass: listening is participating."
            : `${this.chat.nameOf(f.user)}'s turn.`);
        }
        break;
      case 'closed':
        this.script = { ...this.script, current: null, round: null, queue: [] };
        break;
      default:
        return;
    }
    this.render();
  }

  /** The timeline's line for a structured-group event, or null for none. */
  describe(f) {
    switch (f.type) {
      case 'phase':
        if (!f.time_up) this.drawnTurns = null;
        return f.time_up ? `The time planned for ${f.name} is up.` : `Now: ${f.name}. ${f.prompt}`.trim();
      case 'round': {
        const before = this.drawnTurns;
        this.drawnTurns = new Map(f.turns.map((t) => [t.user, t.done]));
        const passed = before && f.turns.find((t) => t.done === 'passed' && before.get(t.user) !== 'passed');
        const words = passed ? `${passed.name} passed: listening is participating.` : null;
        if (f.ended) return words ? `${words} Everyone has had a turn.` : 'Everyone has had a turn.';
        return words;
      }
      case 'script':
        return 'The facilitator changed the session script.';
      default:
        return null;
    }
  }

  // ---- drawing ----------------------------------------------------------------

  render() {
    const { phases, current } = this.script;
    const facilitator = this.chat.isFacilitator();
    // Until the first phase, a facilitator's one control (start) sits in their
    // toolbar, and nobody's conversation gives up a row for it.
    this.el.hidden = !current;
    const slot = this.chat.facilitator?.scriptSlot;
    if (slot) {
      clear(slot);
      if (facilitator && !current && phases.length) slot.append(this.startButton(phases[0]));
    }
    clear(this.el);
    if (current) {
      const time = current.until
        ? h('span', { class: `phase-time${current.time_up ? ' up' : ''}`, dataset: { until: current.until } })
        : null;
      this.el.append(
        h('div', { class: 'phase-head' },
          h('h2', { class: 'phase-name', id: 'phase-name', text: current.name }), time),
        current.prompt ? h('p', { class: 'phase-prompt', id: 'phase-prompt', text: current.prompt }) : null);
      if (current.kind === 'round') this.el.append(this.roundPart());
      if (current.kind === 'queue') this.el.append(this.queuePart());
    }
    if (facilitator && current) this.el.append(this.controls());
    this.renderTimes();
  }

  /** The toolbar's "Start script", before the first phase. */
  startButton(first) {
    return h('button', { type: 'button', class: 'button', id: 'next-phase-button',
      title: `Start the session script: ${first.name}`,
      onclick: () => this.chat.facilitator?.mod('next_phase', {}, 'start the session script') }, 'Start script');
  }

  roundPart() {
    const round = this.script.round;
    const part = h('div', { class: 'round', id: 'round' });
    if (!round) return part;
    const floor = this.chat.state.floor;
    const mine = !round.ended && this.chat.model.isMe(floor);
    const holder = round.turns.find((t) => t.user === floor && !t.done);
    let status = 'Everyone has had a turn.';
    if (!round.ended) status = holder ? (mine ? "It's your turn" : `${holder.name}'s turn`) : 'Waiting for the next turn';
    part.append(h('p', { class: 'turn-now', id: 'turn-now' },
      h('strong', { text: status }),
      holder ? h('span', { class: 'turn-time', dataset: { until: this.chat.state.floor_until || '' } }) : null));
    if (mine) {
      part.append(h('p', { class: 'turn-hint', text: 'Share if you like, or pass: listening is participating.' }),
        h('button', { type: 'button', class: 'button', id: 'pass-button', onclick: () => this.send({ type: 'pass' }) }, 'Pass'));
    }
    const done = { shared: 'shared', passed: 'passed' };
    part.append(h('ol', { class: 'turns', 'aria-label': 'Turns in this round' },
      round.turns.map((t) => h('li', { class: t.done || (t.user === floor ? 'now' : '') },
        t.name, t.done ? h('span', { class: 'turn-done', text: ` (${done[t.done]})` }) : null,
        t.user === floor && !t.done ? h('span', { class: 'visually-hidden', text: ' (sharing now)' }) : null))));
    return part;
  }

  queuePart() {
    const queue = this.script.queue;
    const me = this.chat.me?.user;
    const place = queue.findIndex((q) => q.user === me) + 1;
    const part = h('div', { class: 'share-queue', id: 'share-queue' });
    part.append(h('p', { class: 'queue-place', id: 'queue-place', text: place
      ? `You are ${ordinal(place)} in the queue to share.`
      : (queue.length ? `${queue.length} waiting to share.` : 'Nobody is waiting to share yet.') }));
    if (queue.length) {
      part.append(h('ol', { class: 'queue-list', 'aria-label': 'Waiting to share, in order' },
        queue.map((q, i) => h('li', {},
          h('span', { text: q.user === me ? `${q.name} (you)` : q.name }),
          this.chat.facilitator && i > 0
            ? h('button', { type: 'button', class: 'button quiet small', onclick: () => this.chat.facilitator.mod('move_up', { user: q.user }, `move ${q.name} up`) }, `Move ${q.name} up`)
            : null))));
    }
    part.append(h('button', {
      type: 'button', class: 'button', id: 'queue-button', 'aria-pressed': String(!!place),
      onclick: () => this.send({ type: 'queue', on: !place }),
    }, place ? 'Leave the queue' : "I'd like to share"));
    return part;
  }

  /** The facilitator's controls: start or next phase, next turn, the reading. */
  controls() {
    const tools = this.chat.facilitator;
    const { phases, current, round, queue } = this.script;
    const box = h('div', { class: 'script-controls', role: 'group', 'aria-label': 'Session script' });
    const next = current ? phases[current.index + 1] : phases[0];
    if (next) {
      box.append(h('button', { type: 'button', class: 'button', id: 'next-phase-button',
        onclick: () => tools?.mod('next_phase', {}, 'move to the next phase') },
      current ? `Next: ${next.name}` : `Start: ${next.name}`));
    }
    if (current?.kind === 'round' && round && !round.ended) {
      box.append(h('button', { type: 'button', class: 'button', id: 'next-turn-button',
        onclick: () => tools?.mod('next_turn', {}, 'move to the next turn') }, 'Next turn'));
    }
    if (current?.kind === 'queue' && queue.length) {
      box.append(h('button', { type: 'button', class: 'button', id: 'next-turn-button',
        onclick: () => tools?.mod('next_turn', {}, 'give the floor to the next') }, `Give the floor to ${queue[0].name}`));
    }
    if (current && phases[current.index]?.reading) {
      box.append(h('button', { type: 'button', class: 'button quiet', id: 'reading-button',
        onclick: () => tools?.mod('post_reading', {}, 'post the reading') }, 'Post the reading'));
    }
    return box;
  }

  /** The time left on the phase and on the turn, once a second. */
  renderTimes() {
    for (const el of this.el.querySelectorAll('[data-until]')) {
      const until = Number(el.dataset.until);
      if (!until) continue;
      if (el.classList.contains('phase-time')) {
        el.textContent = this.script.current?.time_up || until <= Date.now() ? "Time's up" : `${left(until)} left`;
      } else {
        el.textContent = ` · ${left(until)} left`;
      }
    }
  }

  send(frame) {
    if (!this.chat.conn.send(frame)) notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
  }
}
