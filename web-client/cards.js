// A facilitator's note to this member alone, above the conversation, which the
// member reads before posting again (PROTOCOL.md §11 `warning`). The crisis card
// is crisis.js's.

import { h, clear, notify } from './dom.js';

/**
 * A facilitator's note to this member: shown until read, here or in another tab.
 * `current` is the note waiting to be read (null: none); the composer waits for it.
 */
export class WarningNote {
  /** `chat`: the room (its connection, composer and whether it has ended). */
  constructor(chat) {
    this.chat = chat;
    this.current = null;
    this.card = null;
    // The note is focused when it comes, so it is read out then: no live region.
    this.slot = h('div', { class: 'warning-slot' });
  }

  /** A `warning` to this member (§11). */
  on(f) {
    if (!f || !Number.isSafeInteger(f.id)) return;
    if (f.acknowledged) {
      if (this.card?.dataset.alertId === String(f.id)) this.drop();
      return;
    }
    this.set(f);
  }

  /**
   * The note waiting to be read (null: none), and its card. Put away with `quiet`
   * (at a welcome) the card is kept hidden, so that the same note given again comes
   * back without taking the focus a second time.
   */
  set(f, { quiet = false } = {}) {
    this.current = f;
    const card = this.card;
    if (!f) {
      if (card) {
        const hadFocus = card.contains(document.activeElement);
        card.hidden = true;
        if (hadFocus && !quiet) this.chat.composer.focus();
      }
    } else if (card && card.dataset.alertId === String(f.id)) {
      card.hidden = false;
      if (document.activeElement === document.body) card.focus();
    } else {
      this.card = this.cardFor(f);
      clear(this.slot).append(this.card);
      this.card.focus();
    }
    this.chat.renderComposer();
  }

  /** The note has been read: the card goes for good. */
  drop() {
    const hadFocus = this.card?.contains(document.activeElement);
    this.current = null;
    this.card = null;
    clear(this.slot);
    this.chat.renderComposer();
    if (hadFocus && !this.chat.ended) this.chat.composer.focus();
  }

  cardFor(f) {
    const button = h('button', { type: 'button', class: 'button primary', id: 'warning-ack-button', text: 'I understand',
      onclick: () => {
        if (!this.chat.conn.send({ type: 'ack_warning', alert: f.id })) {
          notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
          return;
        }
        // No answer comes to this tab's own `ack_warning` but the same note marked
        // read; the server takes this tab's next frames after it, in order.
        this.drop();
        this.chat.composer.focus();
      } });
    return h('section', {
      class: 'warning-card', id: 'warning-card', tabindex: '-1', dataset: { alertId: f.id },
      'aria-labelledby': 'warning-title', 'aria-describedby': 'warning-reason',
    },
    h('h2', { id: 'warning-title', text: 'A facilitator sent you a note' }),
    h('p', { class: 'warning-reason', id: 'warning-reason', text: f.reason || 'They would like you to look at the group guidelines again.' }),
    h('p', { class: 'warning-help', text: 'Only you and the facilitators can see this. Once you have read it, you can post again. You can also write privately to the facilitators if you would like to talk about it.' }),
    h('p', {}, button));
  }
}
