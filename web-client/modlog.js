// The session's moderation log, for facilitators (PROTOCOL.md §10 "The moderation
// log", §11 `mod_log`): who did what, to whom, why and when. The first `mod_log`
// after each welcome is the whole log and replaces what is shown; each later one
// adds an entry. An entry that handled a held message or an alert takes that item
// off this facilitator's open alerts.

import { h, clear, clock, duration, notify } from './dom.js';

const length = (e) => duration((e.seconds || 0) * 1000);

/** What each action did, as the log says it ("Sam muted Ash for 5 minutes"). */
const DID = {
  mute: (e, who) => (e.seconds ? `muted ${who} for ${length(e)}` : `muted ${who} until lifted`),
  unmute: (e, who) => `unmuted ${who}`,
  pause: () => 'paused the room',
  resume: () => 'resumed the room',
  open: () => 'opened the session',
  warn: (e, who) => `sent ${who} a note`,
  close: () => 'closed the session',
  remove: (e, who) => `removed ${who} from the room`,
  ban: (e, who) => `banned ${who} from the group`,
  redact: () => 'removed a message',
  cw: () => 'added a content warning to a message',
  slow_mode: (e) => (e.seconds ? `set slow mode to one message every ${length(e)}` : 'turned slow mode off'),
  lock: () => 'locked the room',
  unlock: () => 'unlocked the room',
  floor: (e, who) => `gave ${who} the floor${e.seconds ? ` for ${length(e)}` : ''}`,
  clear_floor: () => 'opened the floor to everyone',
  lower_hand: (e, who) => `lowered ${who}'s hand`,
  announce: () => 'pinned an announcement',
  release: () => 'released a held message to the room',
  decline: () => 'declined a held message',
  set_policy: () => "changed the room's content policy",
  waiting_room: (e) => (e.on ? 'turned the waiting room on' : 'turned the waiting room off'),
  admit: (e, who) => `let ${who} in`,
  admit_all: () => 'let everyone waiting in',
  deny: (e, who) => `turned ${who} away`,
  resolve: () => 'marked an alert as handled',
  phase: () => 'moved the group to another phase',
  next_phase: () => 'moved the group to the next phase',
  next_turn: () => 'moved on to the next turn',
  move_up: (e, who) => `moved ${who} up`,
  post_reading: () => 'posted a reading',
  set_script: () => 'changed the session script',
  step_out: (e, who) => `asked ${who} to step out for a quiet word`,
  shield: (e) => (e.on ? 'raised the shield' : 'lowered the shield'),
  escalate: () => 'called on-call about an alert',
  on_call_joined: () => 'is joining from on-call',
};

export class ModLog {
  /** `tools`: the facilitator's tools (the room, and the alerts an entry may handle). */
  constructor(tools) {
    this.tools = tools;
    this.chat = tools.chat;
    this.entries = new Map(); // id → entry
    this.expectWhole = true; // the next `mod_log` is a welcome's whole log
    this.heading = h('h2', { id: 'mod-log-heading', text: 'Moderation log' });
    this.list = h('ol', { class: 'mod-log', id: 'mod-log', 'aria-labelledby': 'mod-log-heading', tabindex: '0' });
    this.panel = h('section', { class: 'panel mod-log-panel', id: 'mod-log-panel', 'aria-labelledby': 'mod-log-heading' },
      this.heading,
      h('p', { class: 'hint', text: 'What facilitators have done this session. Only facilitators see it.' }),
      this.list);
    this.render();
  }

  /** A welcome: the whole log follows it. */
  welcomed() {
    this.expectWhole = true;
  }

  /** A `mod_log` frame. */
  receive(entries) {
    const list = Array.isArray(entries) ? entries.filter((e) => e && Number.isSafeInteger(e.id)) : [];
    let added = list;
    const live = !this.expectWhole;
    if (this.expectWhole) {
      this.expectWhole = false;
      this.entries.clear();
      clear(this.list);
    } else {
      added = list.filter((e) => !this.entries.has(e.id));
    }
    for (const e of added) this.entries.set(e.id, e);
    for (const e of added) this.tools.alerts.handledBy(e);
    for (const e of added) this.onCall(e, live);
    this.render();
  }

  /**
   * On-call's part of the log: an escalation marks its alert "On-call told"; as it
   * happens (not in the whole log a welcome brings), whoever escalated is told so,
   * and every facilitator that an on-call person is joining, each once per tab.
   */
  onCall(e, live) {
    if (e.action === 'escalate' && Number.isSafeInteger(e.alert)) {
      this.tools.alerts.escalated(e.alert);
      if (live && this.chat.model.isMe(e.by)) notify('On-call told. Help is on its way.', { once: `escalate:${e.alert}` });
    } else if (e.action === 'on_call_joined' && live && !this.chat.model.isMe(e.by)) {
      notify(`${e.by_name} is joining from on-call.`, { once: `on-call:${e.by}` });
    }
  }

  render() {
    const stick = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    const entries = [...this.entries.values()].sort((a, b) => a.id - b.id);
    this.heading.textContent = entries.length ? `Moderation log (${entries.length})` : 'Moderation log';
    clear(this.list);
    if (!entries.length) this.list.append(h('li', { class: 'empty', text: 'Nothing yet this session.' }));
    for (const e of entries) this.list.append(this.entryElement(e));
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  entryElement(e) {
    const mine = this.chat.model.isMe(e.by);
    const who = e.name || (e.user ? this.chat.nameOf(e.user) : 'a member');
    let did = DID[e.action] ? DID[e.action](e, who) : `${String(e.action).replace(/_/g, ' ')}${e.user ? ` (${who})` : ''}`;
    if (mine && e.action === 'on_call_joined') did = 'joined from on-call';
    return h('li', { class: 'log-entry', dataset: { id: e.id, action: e.action, ...(e.user ? { user: e.user } : {}) } },
      h('time', { datetime: new Date(e.ts).toISOString(), text: clock(e.ts) }), ' ',
      h('span', { class: 'log-by', text: mine ? 'You' : e.by_name }), ' ',
      h('span', { class: 'log-did', text: did }),
      e.reason ? h('span', { class: 'log-reason', text: `: “${e.reason}”` }) : '.');
  }
}
