// The composer: where a member writes to the group, and what it says when they
// cannot post right now. While muted, paused, held, warned or off the floor it is
// `aria-disabled` (still focusable and readable, the draft kept) and its hint says
// why in plain words. A message the room refused folds into one status line above
// it, the words stay in the box, and the line clears when posting is possible again.
//
// A message written while the composer waits is still offered to the server once:
// the room refuses it, but crisis words in it still bring the help card to the
// author and the words to the facilitators (PROTOCOL.md §15). Help is never held
// back by the client.

import { h, clear, clock, duration } from './dom.js';
import { announcer } from './announcer.js';

/** `typing` at most this often (PROTOCOL.md: at most every 3 s). */
const TYPING_EVERY_MS = 3000;

const READY_HINT = 'Enter sends · Shift+Enter for a new line';

/** Refusals that say something about the room or this member now: folded into the status line. */
export const FOLDED = new Set(['muted', 'paused', 'held', 'warned', 'not_your_turn', 'slow_mode', 'rate_limited', 'waiting']);

export class Composer {
  /** `chat`: the room (its model, connection, outbox, note and whispers). */
  constructor(chat) {
    this.chat = chat;
    this.model = chat.model;
    this.lastTypingSent = 0;
    this.blocked = '';
    this.tried = null; // {text, reason}: offered once while blocked
    this.statusCode = '';
    this.statusTimer = null;
    this.build();
  }

  build() {
    this.cwInput = h('input', {
      id: 'cw-input', class: 'field cw-input', maxlength: '60', hidden: true,
      placeholder: 'e.g. grief, self-harm', 'aria-label': 'Content warning label',
    });
    this.cwInput.addEventListener('input', () => this.markTopic());
    // The room's topics (`welcome.cw_topics`), one tap each; any other label may be typed.
    this.cwTopics = h('div', { class: 'cw-topics', id: 'cw-topics', role: 'group', 'aria-label': 'Content warning topics', hidden: true });
    this.cwButton = h('button', {
      type: 'button', class: 'button quiet small', 'aria-pressed': 'false', id: 'cw-button',
      onclick: () => this.toggleCw(),
    }, 'Add a content warning');
    this.input = h('textarea', {
      id: 'composer-input', class: 'field composer-input', rows: '2',
      placeholder: 'Share with the group…', 'aria-describedby': 'composer-hint composer-status',
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => this.typed());
    this.hint = h('p', { class: 'composer-hint', id: 'composer-hint', text: READY_HINT });
    this.status = h('p', { class: 'composer-status', id: 'composer-status', hidden: true });
    this.sendButton = h('button', { type: 'submit', class: 'button primary', id: 'send-button', text: 'Send' });
    this.el = h('form', { class: 'composer', id: 'composer', onsubmit: (e) => { e.preventDefault(); this.submit(); } },
      this.status,
      h('label', { for: 'composer-input', class: 'visually-hidden', text: 'Your message' }),
      h('div', { class: 'composer-row' }, this.input, this.sendButton),
      h('div', { class: 'composer-extras' }, this.cwButton, this.cwInput, this.cwTopics, this.hint));
  }

  focus() {
    this.input.focus();
  }

  /** The room's content-warning topics, offered when a warning is being added. */
  setTopics(topics) {
    clear(this.cwTopics).append(...topics.map((topic) => h('button', {
      type: 'button', class: 'button quiet small cw-topic', 'aria-pressed': 'false',
      onclick: () => {
        this.cwInput.value = topic;
        this.markTopic();
        this.input.focus();
      },
    }, topic)));
  }

  /** The topic button matching the label typed, shown pressed. */
  markTopic() {
    for (const b of this.cwTopics.querySelectorAll('.cw-topic')) {
      b.setAttribute('aria-pressed', String(b.textContent === this.cwInput.value.trim()));
    }
  }

  toggleCw() {
    const on = this.cwInput.hidden;
    this.cwInput.hidden = !on;
    this.cwTopics.hidden = !on || !this.cwTopics.childElementCount;
    this.cwButton.setAttribute('aria-pressed', String(on));
    if (on) this.cwInput.focus();
    else this.cwInput.value = '';
    this.markTopic();
  }

  /** Why this member cannot post right now ('' when they can), and the words for it. */
  reason() {
    const me = this.model.myself();
    const facilitator = this.model.isFacilitator();
    const s = this.model.state;
    if (!facilitator && this.chat.note.current) {
      return ['warned', 'A facilitator sent you a note, just above. You can post again once you have read it.'];
    }
    if (!facilitator && s.held) {
      return ['held', 'No facilitator is here right now, so posting is paused until one is back; your words stay here. You can still write to the facilitators privately.'];
    }
    if (me && me.muted) {
      const until = me.muted_until ? ` until ${clock(me.muted_until)}` : ' for now';
      return ['muted', `You are muted${until}. Your words stay here, and you can still write privately to the facilitators.`];
    }
    if (!facilitator && s.paused) {
      return ['paused', 'The room is paused for a moment: only facilitators can post. Your words stay here until it resumes.'];
    }
    if (!facilitator && s.floor && !this.model.isMe(s.floor)) {
      return ['not_your_turn', `${this.model.nameOf(s.floor)} has the floor right now. You can post when their share is over.`];
    }
    return ['', READY_HINT];
  }

  /** Draw the composer's state: the hint, `aria-disabled`, and a status line that may clear. */
  render() {
    const [blocked, hint] = this.reason();
    this.blocked = blocked;
    this.hint.textContent = hint;
    this.el.dataset.blocked = blocked;
    for (const el of [this.input, this.sendButton]) {
      if (blocked) el.setAttribute('aria-disabled', 'true');
      else el.removeAttribute('aria-disabled');
    }
    if (!blocked) this.tried = null;
    // A refusal about the room's state is over once the state is.
    if (!blocked && this.statusCode && !['slow_mode', 'rate_limited'].includes(this.statusCode)) this.clearStatus();
  }

  submit() {
    const text = this.input.value.trim();
    if (!text || this.chat.ended) return;
    const cw = this.cwInput.hidden ? '' : this.cwInput.value.trim();
    if (this.blocked) {
      // Offered once, kept here: the room will say no, but help still comes for
      // crisis words. The same words again, while it still waits, are not resent.
      if (this.tried && this.tried.text === text && this.tried.reason === this.blocked) {
        this.refused({ code: this.blocked });
        return;
      }
      this.tried = { text, reason: this.blocked };
      this.chat.outbox.add(text, cw, { trial: true });
      return;
    }
    this.input.value = '';
    if (!this.cwInput.hidden) this.toggleCw();
    this.clearStatus();
    this.chat.outbox.add(text, cw);
    this.chat.layout.scrollToEnd(true);
    this.input.focus();
  }

  /** A tried message went through after all (the room opened meanwhile): the box empties. */
  accepted(text) {
    if (this.input.value.trim() === text) {
      this.input.value = '';
      if (!this.cwInput.hidden) this.toggleCw();
    }
    this.tried = null;
    this.clearStatus();
  }

  /**
   * A refused send (`error` with a code of FOLDED): its words back in the box
   * (after any draft), one status line for all of them.
   */
  refused(error, words = null) {
    if (words && words.text) {
      const draft = this.input.value.trim();
      if (draft !== words.text && !draft.includes(words.text)) {
        this.input.value = draft ? `${words.text}\n\n${draft}` : words.text;
      }
      if (words.cw && this.cwInput.hidden) {
        this.toggleCw();
        this.cwInput.value = words.cw;
      }
    }
    const text = refusalText(error, this.model);
    const fresh = this.statusCode !== error.code || this.status.hidden;
    this.statusCode = error.code;
    this.status.dataset.code = error.code;
    clear(this.status).append(h('strong', { text: 'Not sent. ' }), h('span', { text }));
    this.status.hidden = false;
    if (fresh) announcer.say(`Not sent. ${text}`, { urgent: true });
    clearTimeout(this.statusTimer);
    if (error.retry_after_ms) {
      this.statusTimer = setTimeout(() => this.clearStatus(), error.retry_after_ms);
    }
    this.render();
  }

  clearStatus() {
    clearTimeout(this.statusTimer);
    this.statusCode = '';
    delete this.status.dataset.code;
    this.status.hidden = true;
    clear(this.status);
  }

  /** A refused message back in the box, to change and send again. */
  editAgain(text, cw) {
    this.input.value = text;
    if (cw && this.cwInput.hidden) { this.toggleCw(); this.cwInput.value = cw; }
    this.input.focus();
  }

  typed() {
    const now = Date.now();
    if (this.blocked) return; // Nobody is shown typing who may not post.
    if (this.input.value.trim() && now - this.lastTypingSent >= TYPING_EVERY_MS) {
      if (this.chat.conn.send({ type: 'typing' })) this.lastTypingSent = now;
    }
  }

  /** The session is over: nothing more to write here. */
  end() {
    this.el.hidden = true;
    this.clearStatus();
  }
}

/** The status line's words for a refused send. */
function refusalText(error, model) {
  const wait = error.retry_after_ms ? duration(error.retry_after_ms) : null;
  switch (error.code) {
    case 'muted': {
      const until = model.myself()?.muted_until;
      return `You are muted${until ? ` until ${clock(until)}` : ' for now'}. Your words are kept here, and you can still write privately to the facilitators.`;
    }
    case 'paused':
      return 'The room is paused for a moment. Your words are kept here; you can send them once it resumes.';
    case 'held':
      return 'No facilitator is here right now. Your words are kept here until one is back; you can write to the facilitators privately meanwhile.';
    case 'waiting':
      return "You're in the waiting room for now. A facilitator will let you in shortly.";
    case 'warned':
      return 'A facilitator sent you a note. Once you have read it and pressed "I understand", you can send this.';
    case 'slow_mode':
      return `Slow mode is on: you can post again in ${wait || 'a little while'}. Your words are kept here.`;
    case 'not_your_turn':
      return 'Someone has the floor right now. Your words are kept here for when their share is over.';
    case 'rate_limited':
      return `That was a lot at once. You can try again in ${wait || 'a moment'}.`;
    default:
      return error.message || 'This message could not be sent.';
  }
}
