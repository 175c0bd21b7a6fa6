// The conversation as the room's timeline draws it: messages with their reactions
// and actions, and one calm line for every other event (PROTOCOL.md §12). What the
// events do to the room's state is room.js's job; this file only shows them. A
// message this member's own view folds (myview.js: a content warning, a word of
// theirs, someone they hid) shows its fold, which opens on a tap or Enter.
// A keyboard reaches each message in one Tab stop: its actions share one stop, and
// the arrow keys move between them (a roving tabindex).

import { h, clear, clock, duration, ask, notify } from './dom.js';

/** The closed set of reactions (PROTOCOL.md §9 `react`). */
export const REACTIONS = [
  { emoji: 'heart', glyph: '❤️', label: 'I care' },
  { emoji: 'hug', glyph: '🤗', label: 'A hug' },
  { emoji: 'strength', glyph: '💪', label: 'You are strong' },
  { emoji: 'thanks', glyph: '🙏', label: 'Thank you for sharing' },
  { emoji: 'me_too', glyph: '🙋', label: 'Me too' },
  { emoji: 'candle', glyph: '🕯️', label: 'Thinking of you' },
];
const REACTION = Object.fromEntries(REACTIONS.map((r) => [r.emoji, r]));

/**
 * One Tab stop for a group of buttons: the one last used keeps `tabindex=0`, the
 * others -1, and the arrow keys (Home, End) move between them.
 */
export function rove(group, selector) {
  const buttons = () => [...group.querySelectorAll(selector)];
  buttons().forEach((b, i) => b.setAttribute('tabindex', i === 0 ? '0' : '-1'));
  group.addEventListener('focusin', (e) => {
    const all = buttons();
    if (!all.includes(e.target)) return;
    for (const b of all) b.setAttribute('tabindex', b === e.target ? '0' : '-1');
  });
  group.addEventListener('keydown', (e) => {
    const all = buttons();
    const i = all.indexOf(e.target);
    if (i < 0) return;
    let next = null;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') next = all[(i + 1) % all.length];
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = all[(i + all.length - 1) % all.length];
    else if (e.key === 'Home') next = all[0];
    else if (e.key === 'End') next = all[all.length - 1];
    if (!next) return;
    e.preventDefault();
    e.stopPropagation();
    next.focus();
  });
}

export class Timeline {
  /** `chat`: the room (its model, connection, facilitator tools and outbox). */
  constructor(chat) {
    this.chat = chat;
    this.model = chat.model;
    this.messages = new Map(); // seq → {frame, el, body, reactions: Map(emoji → Set(user))}
    this.lastLine = null;
    // Not a live region: announcer.js says what is new, briefly, and sums up a
    // burst; a resume's backlog is never read out message by message.
    this.list = h('ol', { class: 'timeline', id: 'timeline', 'aria-label': 'Conversation', 'aria-busy': 'true' });
  }

  /** Drop everything shown: the welcome's backlog starts the view again. */
  clear() {
    clear(this.list);
    this.messages.clear();
  }

  has(seq) {
    return this.messages.has(seq);
  }

  /** Busy while a backlog is being added, so a screen reader waits for the whole of it. */
  setBusy(busy) {
    this.list.setAttribute('aria-busy', String(busy));
  }

  /** Show one timeline event (`lastLine`: the words of its line, if it has one). */
  show(f) {
    this.lastLine = null;
    const nameOf = (user) => this.model.nameOf(user);
    switch (f.type) {
      case 'message':
        this.renderMessage(f);
        break;
      case 'joined':
        this.model.saw(f.member.user, f.member.name);
        this.line(f, this.model.isMe(f.member.user) ? 'You joined the room.' : `${f.member.name} joined the room.`);
        break;
      case 'stepped_out':
        // A quiet word with a facilitator is nobody else's business: no reason given.
        this.line(f, `${nameOf(f.user)} stepped out for a moment.`);
        break;
      case 'left': {
        const who = nameOf(f.user);
        const why = {
          left: `${who} left the room.`,
          disconnected: `${who} lost their connection.`,
          removed: `${who} was asked to leave by a facilitator.`,
          banned: `${who} was removed from the group.`,
        }[f.reason] || `${who} left the room.`;
        this.line(f, why);
        break;
      }
      case 'away':
        this.line(f, this.model.isMe(f.user)
          ? 'Your connection dropped for a while; your seat was kept.'
          : `${nameOf(f.user)}'s connection dropped; their seat is kept.`);
        break;
      case 'back':
        this.line(f, this.model.isMe(f.user) ? "You're back." : `${nameOf(f.user)} is back.`);
        break;
      case 'stepping_away':
        if (this.model.isMe(f.user)) {
          this.line(f, f.on ? "You're taking a minute. Your place is kept; take the time you need." : "You're back from your minute.");
        } else {
          this.line(f, f.on ? `${nameOf(f.user)} is taking a minute.` : `${nameOf(f.user)} is back from their minute.`);
        }
        break;
      case 'muted':
        this.line(f, `${nameOf(f.user)} is muted ${f.until ? `until ${clock(f.until)}` : 'for now'}.`);
        break;
      case 'unmuted':
        this.line(f, `${nameOf(f.user)} can post again.`);
        break;
      case 'paused':
        this.line(f, `The facilitator paused the room${f.reason ? `: ${f.reason}` : '.'}`, 'pause');
        break;
      case 'resumed':
        this.line(f, 'The room is open for sharing again.', 'pause');
        break;
      case 'opened':
        this.line(f, 'The session is open.', 'pause');
        break;
      case 'held':
        this.line(f, 'No facilitator is here right now. Posting is paused until one is back.', 'pause');
        break;
      case 'unheld':
        this.line(f, 'A facilitator is back. You can share again.', 'pause');
        break;
      case 'redacted':
        this.redact(f.target);
        break;
      case 'cw':
        this.warn(f.target, f.cw);
        break;
      case 'slow_mode':
        this.line(f, f.seconds ? `Slow mode: one message every ${duration(f.seconds * 1000)}.` : 'Slow mode is off.');
        break;
      case 'locked':
        this.line(f, f.locked ? 'The room is locked: no new members for now.' : 'The room is open to new members again.');
        break;
      case 'floor':
        this.line(f, f.user
          ? `${nameOf(f.user)} has the floor${f.until ? ` until ${clock(f.until)}` : ''}. Let's listen.`
          : 'The floor is open to everyone again.');
        break;
      case 'hand':
        break;
      case 'reaction':
        this.addReaction(f);
        break;
      case 'announcement':
        this.line(f, 'The facilitator pinned an announcement.');
        break;
      case 'waiting_room':
        this.line(f, f.on
          ? 'The waiting room is on: people who arrive are welcomed in by a facilitator.'
          : 'The waiting room is off: people who arrive come straight in.');
        break;
      case 'shield':
        this.line(f, f.on
          ? `A facilitator has made the room quieter for now: people who arrive wait to be welcomed in, one message every ${duration(f.slow_mode_seconds * 1000)}, and a newcomer's first message is read by a facilitator before it is shared.`
          : 'The room is back to its usual settings.');
        break;
      case 'policy':
        if (this.chat.facilitator) this.line(f, "The room's content policy was changed.");
        break;
      case 'closed':
        this.line(f, `The session has ended${f.reason ? `: ${f.reason}` : '.'}`, 'pause');
        break;
      case 'phase':
      case 'round':
      case 'queue':
      case 'script': {
        // The structured group (structure.js): a line for a phase, a pass, a round's end.
        const text = this.chat.script.describe(f);
        if (text) this.line(f, text, f.type === 'phase' ? 'phase' : '');
        break;
      }
      default:
        console.info('kindred: a timeline event of unknown type', f.type);
        break;
    }
  }

  line(f, text, tone = '') {
    this.lastLine = text;
    this.list.append(h('li', { class: `event ${tone}`, dataset: { seq: f.seq } },
      h('span', { text }), ' ', h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })));
  }

  renderMessage(f) {
    this.model.saw(f.user, f.name);
    const mine = this.model.isMe(f.user);
    const author = this.model.members.get(f.user);
    const entry = { frame: f, reactions: new Map() };
    const body = h('div', { class: 'msg-body' });
    const el = h('li', {
      class: `msg${mine ? ' mine' : ''}`, id: `m-${f.seq}`, tabindex: '-1', dataset: { seq: f.seq },
    },
    h('div', { class: 'msg-meta' },
      h('span', { class: 'msg-name', text: f.name }),
      author && author.role === 'facilitator' ? h('span', { class: 'badge', text: 'facilitator' }) : null,
      mine ? h('span', { class: 'visually-hidden', text: '(you)' }) : null,
      h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })),
    body);
    entry.el = el;
    entry.body = body;
    this.messages.set(f.seq, entry);
    if (f.redacted) {
      this.fillRemoved(entry);
    } else {
      this.fillText(entry);
      entry.reactionsEl = h('div', { class: 'reactions', 'aria-label': 'Reactions' });
      el.append(entry.reactionsEl, this.messageActions(f, entry));
      rove(el, ':scope > .msg-body > .cw-toggle, :scope > .msg-actions > button');
    }
    this.list.append(el);
    this.chat.outbox.shown(f.seq);
  }

  /**
   * A message's words, as this member's view has them: folded behind what folds it
   * (a content warning, a word of theirs, "hidden by you"), opened by its button, or
   * as written, under its content warning's label when it has one.
   */
  fillText(entry) {
    const f = entry.frame;
    const fold = this.chat.myView.fold(f);
    entry.fold = fold;
    entry.el.classList.toggle('folded', !!fold);
    entry.el.classList.toggle('hidden-by-me', fold?.why === 'hidden');
    clear(entry.body);
    if (!fold) {
      if (f.cw) entry.body.append(h('p', { class: 'cw-label', text: `Content warning: ${f.cw}` }));
      entry.body.append(h('p', { class: 'msg-text', text: f.text }));
      return;
    }
    const text = h('p', { class: 'msg-text', hidden: true, id: `t-${f.seq}`, text: f.text });
    const toggle = h('button', {
      type: 'button', class: 'cw-toggle', 'aria-expanded': 'false', 'aria-controls': `t-${f.seq}`,
      onclick: () => {
        const open = text.hidden;
        text.hidden = !open;
        toggle.setAttribute('aria-expanded', String(open));
        // "Fold", not "Hide": Hide under a message hides its writer (myview.js).
        toggle.lastChild.textContent = open ? 'Fold' : 'Show';
      },
    }, h('span', { class: 'cw-label', text: fold.label }), h('span', { class: 'cw-action', text: 'Show' }));
    // One Tab stop per message: a toggle drawn again after the actions were roving
    // waits its turn among them.
    if (entry.actionsEl?.querySelector('button[tabindex="0"]')) toggle.setAttribute('tabindex', '-1');
    entry.body.append(toggle, text);
  }

  /** Draw every message again as this member's view now folds it (myview.js changed). */
  refold() {
    for (const entry of this.messages.values()) {
      if (!entry.frame.redacted) this.fillText(entry);
    }
  }

  messageActions(f, entry) {
    const conn = this.chat.conn;
    const mine = this.model.isMe(f.user);
    const picker = h('div', { class: 'picker', hidden: true, role: 'group', 'aria-label': 'Choose a reaction' },
      REACTIONS.map((r) => h('button', {
        type: 'button', class: 'picker-button', title: r.label, 'aria-label': `${r.label} (${r.emoji.replace('_', ' ')})`,
        dataset: { emoji: r.emoji },
        onclick: () => {
          conn.send({ type: 'react', seq: f.seq, emoji: r.emoji });
          picker.hidden = true;
          reactButton.setAttribute('aria-expanded', 'false');
          reactButton.focus();
        },
      }, r.glyph)));
    picker.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { picker.hidden = true; reactButton.setAttribute('aria-expanded', 'false'); reactButton.focus(); }
    });
    const reactButton = h('button', {
      type: 'button', class: 'link-button react-button', 'aria-expanded': 'false',
      onclick: () => {
        picker.hidden = !picker.hidden;
        reactButton.setAttribute('aria-expanded', String(!picker.hidden));
        if (!picker.hidden) picker.querySelector('button').focus();
      },
    }, 'React');
    const actions = h('div', { class: 'msg-actions', role: 'group', 'aria-label': `Actions for ${f.name}'s message` }, reactButton,
      mine ? null : h('button', { type: 'button', class: 'link-button', onclick: () => this.report(f) }, 'Report'),
      mine || this.chat.facilitator ? null : h('button', { type: 'button', class: 'link-button concern-button', onclick: () => this.concern(f) }, "I'm worried"),
      // Hiding someone is this member's own view: nothing is sent (myview.js). Not
      // a facilitator: their words are how the room is kept safe.
      mine || this.model.members.get(f.user)?.role === 'facilitator' ? null : h('button', { type: 'button', class: 'link-button hide-button', onclick: () => this.chat.myView.hide(f.user, f.name) }, 'Hide'),
      this.chat.facilitator ? this.chat.facilitator.messageAction(f) : null,
      picker);
    rove(picker, 'button');
    entry.actionsEl = actions;
    return actions;
  }

  async report(f) {
    const reason = await ask({
      title: 'Report this message to the facilitators',
      body: `Only the facilitators will see your report; ${f.name} will not know who sent it.`,
      input: { label: 'What worries you about it? (optional)', multiline: true, maxlength: 500 },
      confirmLabel: 'Send report',
    });
    if (reason === null) return;
    const frame = { type: 'report', seq: f.seq };
    if (reason) frame.reason = reason;
    if (this.chat.conn.send(frame)) notify('Thank you. The facilitators have been told.');
    else notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
  }

  /** A member worried about the author: the facilitators are told, never the author who. */
  async concern(f) {
    const ok = await ask({
      title: `Worried about ${f.name}?`,
      body: `The facilitators will be told, with this message, so they can check in with ${f.name} gently. Only they will know it came from you: ${f.name} will not be told who.`,
      confirmLabel: 'Tell the facilitators',
      cancelLabel: 'Not now',
    });
    if (!ok) return;
    if (!this.chat.conn.send({ type: 'concern', user: f.user, seq: f.seq })) {
      notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
    }
  }

  /** A facilitator put a content warning on a message: it folds behind it for everyone. */
  warn(seq, cw) {
    const entry = this.messages.get(seq);
    if (!entry || entry.frame.redacted || entry.frame.cw === cw) return;
    entry.frame = { ...entry.frame, cw };
    this.fillText(entry);
    rove(entry.el, ':scope > .msg-body > .cw-toggle, :scope > .msg-actions > button');
  }

  redact(seq) {
    const entry = this.messages.get(seq);
    if (entry) this.fillRemoved(entry);
  }

  fillRemoved(entry) {
    entry.frame = { ...entry.frame, text: '', redacted: true };
    clear(entry.body).append(h('p', { class: 'msg-text removed', text: 'message removed' }));
    entry.reactionsEl?.remove();
    entry.actionsEl?.remove();
    entry.el.classList.add('redacted');
  }

  addReaction(f) {
    const entry = this.messages.get(f.target);
    if (!entry || !entry.reactionsEl) return;
    let users = entry.reactions.get(f.emoji);
    if (!users) { users = new Set(); entry.reactions.set(f.emoji, users); }
    users.add(f.user);
    clear(entry.reactionsEl);
    for (const r of REACTIONS) {
      const who = entry.reactions.get(r.emoji);
      if (!who || who.size === 0) continue;
      const names = [...who].map((u) => (this.model.isMe(u) ? 'you' : this.model.nameOf(u)));
      entry.reactionsEl.append(h('span', {
        class: `reaction${this.model.me && who.has(this.model.me.user) ? ' mine' : ''}`, dataset: { emoji: r.emoji },
        title: `${r.label}: ${names.join(', ')}`,
      }, h('span', { 'aria-hidden': 'true', text: r.glyph }),
      h('span', { class: 'visually-hidden', text: `${r.label} from ${names.join(', ')}` }),
      h('span', { class: 'count', 'aria-hidden': 'true', text: String(who.size) })));
    }
    if (!REACTION[f.emoji]) console.info('kindred: unknown reaction', f.emoji);
  }

  /** Bring a message into view and mark it for a moment (a facilitator's "Go to message"). */
  jumpTo(seq) {
    const entry = this.messages.get(seq);
    if (!entry) {
      notify('That message is no longer in the conversation.', { tone: 'warn' });
      return;
    }
    entry.el.scrollIntoView({ block: 'center', behavior: window.matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
    entry.el.classList.add('highlight');
    entry.el.focus({ preventScroll: true });
    setTimeout(() => entry.el.classList.remove('highlight'), 2500);
  }
}
