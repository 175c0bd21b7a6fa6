// A mute, from both sides (PROTOCOL.md §10 `mute`, §11 `mute_notice`): the
// facilitator's dialog, with a choice of how long and a reason, and what the muted
// member alone reads — until when, and why in the facilitator's own words. The room
// sees only a neutral line (`muted` carries no reason).

import { h, clear, clock } from './dom.js';
import { announcer } from './announcer.js';

/** How long a mute may last, in seconds (null: until a facilitator lifts it). */
export const MUTE_CHOICES = [
  { seconds: 300, label: '5 minutes' },
  { seconds: 900, label: '15 minutes' },
  { seconds: 1800, label: '30 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: null, label: 'Until I lift it' },
];

/**
 * Ask a facilitator how long to mute `member` and why. Resolves to
 * `{seconds, reason}` (`seconds` null: until lifted; `reason` '' for none) or null.
 */
export function askMute(member) {
  return new Promise((resolve) => {
    const choices = MUTE_CHOICES.map((c, i) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'mute-length', value: c.seconds === null ? '' : String(c.seconds), checked: i === 0 }),
      h('span', { text: c.label })));
    const reason = h('textarea', { id: 'mute-reason', class: 'field', rows: '3', maxlength: '500',
      placeholder: "e.g. Let's take a few minutes; we'll come back to you." });
    const form = h('form', { method: 'dialog', class: 'dialog-form' },
      h('h2', { id: 'dialog-title', text: `Mute ${member.name}` }),
      h('p', { class: 'dialog-body', text: `${member.name} can still read along and write privately to the facilitators. Only ${member.name} sees your reason; the room sees only that they are muted.` }),
      h('fieldset', { class: 'choices' }, h('legend', { class: 'label', text: 'For how long?' }), choices),
      h('label', { for: 'mute-reason', class: 'label', text: `A word for ${member.name} (optional)` }),
      reason,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button quiet', text: 'Cancel', onclick: () => dialog.close('cancel') }),
        h('button', { type: 'submit', class: 'button primary', value: 'ok', id: 'mute-confirm', text: 'Mute' })));
    const dialog = h('dialog', { class: 'dialog', id: 'mute-dialog', 'aria-labelledby': 'dialog-title' }, form);
    dialog.addEventListener('close', () => {
      const ok = dialog.returnValue === 'ok';
      const picked = form.querySelector('input[name="mute-length"]:checked');
      dialog.remove();
      if (!ok) { resolve(null); return; }
      resolve({ seconds: picked && picked.value ? Number(picked.value) : null, reason: reason.value.trim() });
    });
    document.body.append(dialog);
    dialog.showModal();
    form.querySelector('input[name="mute-length"]').focus();
  });
}

/** What the muted member reads, above the conversation, while the mute lasts. */
export class MuteNotice {
  /** `chat`: the room (its model, and the composer that says the same in its hint). */
  constructor(chat) {
    this.chat = chat;
    this.notice = null; // the last `mute_notice`
    this.slot = h('div', { class: 'mute-slot' });
  }

  /** A `mute_notice` for this member. */
  on(f) {
    const fresh = !this.notice || this.notice.until !== f.until || this.notice.reason !== f.reason;
    this.notice = f;
    const me = this.chat.model.myself();
    // The notice may come just before the room's `muted`: the member is muted now.
    if (me) { me.muted = true; me.muted_until = f.until; }
    this.render();
    // Said once in this tab: the same notice given again after a reload is not news.
    if (fresh) announcer.say(this.headline(), { once: this.key() });
    this.chat.renderState();
  }

  headline() {
    const until = this.notice && this.notice.until;
    return until ? `A facilitator has muted you until ${clock(until)}.` : 'A facilitator has muted you for now.';
  }

  /** What the announcer knows this mute by: its end, or that it lasts until lifted. */
  key() {
    return `mute:${this.notice?.until ?? 'lifted'}`;
  }

  /** Shown while this member is muted; gone with the mute. */
  render() {
    const me = this.chat.model.myself();
    if (!me || !me.muted) {
      // Over: a later mute is news again, even one of the same kind.
      if (this.notice && me) announcer.drop(this.key());
      this.notice = null;
      clear(this.slot);
      return;
    }
    if (!this.notice) this.notice = { until: me.muted_until };
    const reason = this.notice.reason;
    clear(this.slot).append(h('section', { class: 'mute-notice', id: 'mute-notice', 'aria-labelledby': 'mute-title' },
      h('h2', { id: 'mute-title', text: this.headline() }),
      reason ? h('p', { class: 'mute-reason' }, h('span', { class: 'visually-hidden', text: 'Their words: ' }),
        h('span', { id: 'mute-reason-text', text: reason })) : null,
      h('p', { class: 'hint', text: 'You can keep reading, and you can still write privately to the facilitators. Only you can see this.' })));
  }
}
