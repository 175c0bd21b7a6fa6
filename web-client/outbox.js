// Messages on their way: each `send` is shown here from the moment it is written
// until its own message arrives in the timeline, with what happened to it meanwhile
// (waiting for the connection, held for review, refused and why). A send keeps its
// `client_id` across reconnections, so the server applies it once (PROTOCOL.md §8).
// A refusal about the room's state now (paused, muted…) is not kept here: its words
// go back to the composer, which says why in one line (composer.js). A `trial` is a
// message offered while the composer waits: never shown here, only answered. A
// message the room's guardrail asks about (`consider`) waits here with its question
// (guard.js) until its author chooses.

import { h, clear, newClientId, notify } from './dom.js';
import { FOLDED } from './composer.js';
import { announcer } from './announcer.js';
import { considerChoices } from './guard.js';

/** What to tell a member whose `send` was refused for good, by error code. */
function refusalText(error) {
  switch (error.code) {
    case 'too_large':
      return 'This message is longer than the room allows. Could you split it into two?';
    case 'closed':
      return 'The session has ended, so this message was not shared.';
    case 'filtered':
      return error.message ? `Not shared: ${error.message}.` : 'A facilitator decided not to share this message with the group.';
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
    this.list = h('ol', { class: 'outbox', id: 'outbox', 'aria-label': 'Your messages being sent' });
  }

  /**
   * Show a new message and send it (a `trial` is sent, not shown). `guard`: the
   * author's answer to the guardrail's question (`cw` or `as_is`).
   */
  add(text, cw, { trial = false, guard = null } = {}) {
    const clientId = newClientId('c');
    const p = { text, cw, status: 'sending', trial, guard };
    p.el = this.element(clientId, p);
    if (trial && !this.chat.conn.live) {
      notify('You are offline right now; your words are kept in the box.', { tone: 'warn' });
      return;
    }
    this.pending.set(clientId, p);
    if (!trial) this.list.append(p.el);
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
    if (p.guard) frame.guard = p.guard;
    const sent = this.chat.conn.send(frame);
    this.setStatus(p, sent ? 'sending' : 'waiting');
  }

  /** The `ack` of one of our sends; false when it is not ours. */
  onAck(f) {
    const p = this.pending.get(f.client_id);
    if (!p) return false;
    if (f.held) {
      if (p.trial) {
        // Taken after all, and held for review: shown here from now on.
        p.trial = false;
        this.list.append(p.el);
        this.chat.composer.accepted(p.text);
      }
      // It waits for a facilitator; their decision arrives as this send's
      // `ack` with a `seq` (released) or `error` `filtered` (declined).
      this.setStatus(p, 'held');
      return true;
    }
    this.pending.delete(f.client_id);
    if (p.trial) this.chat.composer.accepted(p.text);
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
    if (f.code === 'consider') {
      this.consider(f.client_id, p, f);
      return true;
    }
    if (FOLDED.has(f.code) || p.trial) {
      // Back to the composer, which says why in one line.
      this.pending.delete(f.client_id);
      p.el.remove();
      this.chat.composer.refused(f, p.trial ? null : { text: p.text, cw: p.cw });
      return true;
    }
    this.markFailed(p, f);
    return true;
  }

  /**
   * The guardrail asks before this message reaches anyone: its question waits here
   * with the message, and the author's choice sends it (with a content warning, or as
   * it is), sends it to the facilitators only, or gives it back to edit.
   */
  consider(clientId, p, f) {
    this.pending.delete(clientId);
    if (p.trial) {
      p.trial = false;
      this.list.append(p.el);
      this.chat.composer.accepted(p.text);
    }
    const stick = this.chat.layout.nearEnd();
    this.setStatus(p, 'consider', '');
    p.el.dataset.code = f.code;
    clear(p.actionsEl);
    const question = considerChoices(f, clientId, (choice) => {
      p.el.remove();
      if (choice === 'cw' || choice === 'as_is') {
        this.add(p.text, p.cw, { guard: choice });
      } else if (choice === 'facilitators') {
        if (this.chat.conn.send({ type: 'whisper', text: p.text })) {
          this.chat.lastSent = { sent: 'whisper' };
          notify('Sent to the facilitators only. It is in your private messages.');
        } else {
          notify('You are offline right now; your words are back in the box.', { tone: 'warn' });
          this.chat.composer.editAgain(p.text, p.cw);
          return;
        }
      } else {
        this.chat.composer.editAgain(p.text, p.cw);
        return;
      }
      this.chat.composer.focus();
    });
    p.actionsEl.append(question.el);
    this.chat.layout.scrollToEnd(stick);
    question.shown();
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
      if (p.trial) continue;
      if (p.status !== 'held') this.markFailed(p, { code: 'closed', message: text }, false);
    }
  }

  element(clientId, p) {
    p.statusEl = h('p', { class: 'pending-status' });
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
    const stick = this.chat.layout.nearEnd();
    this.setStatus(p, 'failed', refusalText(error));
    p.el.dataset.code = error.code;
    clear(p.actionsEl);
    if (retryable) {
      this.failedActions(p, error);
      announcer.say(`Not sent. ${refusalText(error)}`, { urgent: true });
    }
    this.chat.layout.scrollToEnd(stick);
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
        this.chat.composer.editAgain(p.text, p.cw);
      } });
    const discard = h('button', { type: 'button', class: 'button small quiet', text: 'Discard',
      onclick: () => { this.pending.delete(clientId); p.el.remove(); this.chat.composer.focus(); } });
    p.actionsEl.append(retry, edit, discard);
    if (error.retry_after_ms) {
      retry.disabled = true;
      setTimeout(() => { retry.disabled = false; }, error.retry_after_ms);
    }
  }
}
