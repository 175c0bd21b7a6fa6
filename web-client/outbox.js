// Messages on their way: each `send` is shown here from the moment it is written
// until its own message arrives in the timeline, with what happened to it meanwhile
// (waiting for the connection, held for review, refused and why). A send keeps its
// `client_id` across reconnections, so the server applies it once (PROTOCOL.md §8).

import { h, clear, clock, duration, newClientId } from './dom.js';

/** What to tell a member whose `send` was refused, by error code. */
function refusalText(error, model) {
  const wait = error.retry_after_ms ? duration(error.retry_after_ms) : null;
  switch (error.code) {
    case 'muted': {
      const until = model.myself()?.muted_until;
      return `You're muted for now${until ? ` (until ${clock(until)})` : ''}. Your words are kept here, and you can still write privately to a facilitator.`;
    }
    case 'paused':
      return 'The room is paused for a moment, so messages are on hold. You can send this once the facilitator resumes.';
    case 'held':
      return "No facilitator is here right now, so messages wait. You can send this once one is back, or write to the facilitators privately meanwhile. If you are in danger now, please contact a crisis line or your local emergency number.";
    case 'waiting':
      return "You're in the waiting room for now. A facilitator will let you in shortly, and then you can share this.";
    case 'warned':
      return 'A facilitator sent you a note. Once you have read it and pressed "I understand", you can send this.';
    case 'slow_mode':
      return `Slow mode is on: you can post again in ${wait || 'a little while'}.`;
    case 'not_your_turn':
      return "Someone has the floor right now. You can send this when their share is over, or write privately to a facilitator.";
    case 'rate_limited':
      return `That was a lot at once. You can try again in ${wait || 'a moment'}.`;
    case 'too_large':
      return 'This message is longer than the room allows. Could you split it into two?';
    case 'closed':
      return 'The session has ended, so this message was not shared.';
    default:
      return error.message || 'This message could not be sent.';
  }
}

export class Outbox {
  /** `chat`: the room (its connection, model and composer). */
  constructor(chat) {
    this.chat = chat;
    this.pending = new Map(); // client_id → {text, cw, el, statusEl, actionsEl, status}
    this.awaiting = new Map(); // seq → pending entry acknowledged before its message arrived
    this.list = h('ol', { class: 'outbox', id: 'outbox', 'aria-live': 'polite', 'aria-label': 'Your messages being sent' });
  }

  /** Show a new message and send it. */
  add(text, cw) {
    const clientId = newClientId('c');
    const p = { text, cw, status: 'sending' };
    p.el = this.element(clientId, p);
    this.pending.set(clientId, p);
    this.list.append(p.el);
    this.transmit(clientId, p);
  }

  /**
   * Anything written while away goes out now, with its original client_id, so a
   * message that did reach the server is not applied twice (PROTOCOL.md §8).
   */
  resend() {
    for (const [clientId, p] of this.pending) {
      if (p.status === 'waiting' || p.status === 'sending') this.transmit(clientId, p);
    }
  }

  /** A reset welcome drops the view: messages acknowledged but not yet seen with it. */
  reset() {
    this.awaiting.clear();
  }

  transmit(clientId, p) {
    const frame = { type: 'send', client_id: clientId, text: p.text };
    if (p.cw) frame.cw = p.cw;
    const sent = this.chat.conn.send(frame);
    this.setStatus(p, sent ? 'sending' : 'waiting');
  }

  /** The `ack` of one of our sends; false when it is not ours. */
  onAck(f) {
    const p = this.pending.get(f.client_id);
    if (!p) return false;
    if (f.held) {
      // It waits for a facilitator; their decision arrives as this send's
      // `ack` with a `seq` (released) or `error` `filtered` (declined).
      this.setStatus(p, 'held');
      return true;
    }
    this.pending.delete(f.client_id);
    if (f.seq !== undefined && f.seq !== null && !this.chat.timeline.has(f.seq)) {
      this.setStatus(p, 'sent', 'Sent');
      this.awaiting.set(f.seq, p);
    } else {
      p.el.remove();
    }
    return true;
  }

  /** An `error` about one of our sends; false when it is not ours. */
  onError(f) {
    const p = this.pending.get(f.client_id);
    if (!p) return false;
    this.markFailed(p, f);
    return true;
  }

  /** The message at `seq` is in the timeline now: its copy here can go. */
  shown(seq) {
    const waiting = this.awaiting.get(seq);
    if (waiting) {
      waiting.el.remove();
      this.awaiting.delete(seq);
    }
  }

  /** The room has ended: nothing still here will be shared, except what a facilitator holds. */
  endAll(text) {
    for (const p of this.pending.values()) {
      if (p.status !== 'held') this.markFailed(p, { code: 'closed', message: text }, false);
    }
  }

  element(clientId, p) {
    p.statusEl = h('p', { class: 'pending-status', role: 'status' });
    p.actionsEl = h('div', { class: 'pending-actions' });
    return h('li', { class: 'msg mine pending', dataset: { clientId } },
      h('div', { class: 'msg-meta' }, h('span', { class: 'msg-name', text: 'You' })),
      p.cw ? h('p', { class: 'cw-label', text: `Content warning: ${p.cw}` }) : null,
      h('p', { class: 'msg-text', text: p.text }),
      p.statusEl, p.actionsEl);
  }

  setStatus(p, status, text) {
    p.status = status;
    p.el.dataset.status = status;
    const copy = {
      sending: 'Sending…',
      waiting: 'Waiting for the connection; it will be sent as soon as you are back.',
      held: 'Held for a facilitator to look at before the group sees it.',
    };
    p.statusEl.textContent = text || copy[status] || '';
  }

  markFailed(p, error, retryable = true) {
    const stick = this.chat.nearEnd();
    this.setStatus(p, 'failed', refusalText(error, this.chat.model));
    p.el.dataset.code = error.code;
    clear(p.actionsEl);
    if (retryable) this.failedActions(p, error);
    this.chat.scrollToEnd(stick);
  }

  failedActions(p, error) {
    const clientId = p.el.dataset.clientId;
    const retry = h('button', { type: 'button', class: 'button small', text: 'Try again',
      onclick: () => {
        // A refused send is not remembered by the server, but a fresh id keeps
        // every attempt distinct (PROTOCOL.md §8).
        this.pending.delete(clientId);
        const again = newClientId('c');
        p.el.dataset.clientId = again;
        this.pending.set(again, p);
        clear(p.actionsEl);
        this.transmit(again, p);
      } });
    const edit = h('button', { type: 'button', class: 'button small quiet', text: 'Edit',
      onclick: () => {
        this.pending.delete(clientId);
        p.el.remove();
        this.chat.editAgain(p.text, p.cw);
      } });
    const discard = h('button', { type: 'button', class: 'button small quiet', text: 'Discard',
      onclick: () => { this.pending.delete(clientId); p.el.remove(); this.chat.input.focus(); } });
    p.actionsEl.append(retry, edit, discard);
    if (error.retry_after_ms) {
      retry.disabled = true;
      setTimeout(() => { retry.disabled = false; }, error.retry_after_ms);
    }
  }
}
