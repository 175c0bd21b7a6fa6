// Private messages: a participant writes to the facilitators; a facilitator to the
// facilitators or to one member (PROTOCOL.md §9 `whisper`, §11 `whisper`). The
// panel, the form, and what became of the last one sent.

import { h, clear, clock, notify } from './dom.js';

export class Whispers {
  /** `chat`: the room (its model, connection and sidebar). */
  constructor(chat) {
    this.chat = chat;
    this.model = chat.model;
    this.pendingText = null; // the whisper sent last, until its copy comes back
    this.list = h('ol', { class: 'whispers', id: 'whispers', 'aria-live': 'polite' });
    this.to = h('select', { id: 'whisper-to', class: 'field', hidden: true });
    this.toLabel = h('label', { for: 'whisper-to', class: 'label', hidden: true, id: 'whisper-to-label', text: 'To' });
    this.text = h('textarea', {
      id: 'whisper-text', class: 'field', rows: '2', maxlength: '4000',
      placeholder: 'Only the facilitators will see this',
    });
    this.label = h('label', { for: 'whisper-text', class: 'label', text: 'Write privately to the facilitators' });
    this.error = h('p', { class: 'whisper-error', id: 'whisper-error', role: 'alert', hidden: true });
    this.form = h('form', { class: 'whisper-form', onsubmit: (e) => { e.preventDefault(); this.send(); } },
      this.toLabel, this.to, this.label, this.text, this.error,
      h('button', { type: 'submit', class: 'button', text: 'Send privately' }));
    this.text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.panel = h('section', { class: 'panel', 'aria-labelledby': 'whispers-heading' },
      h('h2', { id: 'whispers-heading', text: 'Private messages' }), this.list, this.form);
  }

  /** A facilitator chooses whom to write to. */
  forFacilitator() {
    this.to.hidden = false;
    this.toLabel.hidden = false;
    this.label.textContent = 'Message';
    this.text.placeholder = 'Private: the recipient and the facilitators see it';
  }

  /** Whisper recipients for a facilitator: the facilitators, or one member. */
  setRecipients(members) {
    const chosen = this.to.value;
    clear(this.to).append(h('option', { value: '', text: 'Facilitators only' }),
      ...members.filter((m) => !this.model.isMe(m.user)).map((m) => h('option', { value: m.user, text: m.name })));
    this.to.value = [...this.to.options].some((o) => o.value === chosen) ? chosen : '';
  }

  add(f) {
    const fromMe = this.model.isMe(f.from);
    if (fromMe) {
      this.pendingText = null;
      this.error.hidden = true;
    }
    const to = f.to ? (this.model.isMe(f.to) ? 'you' : this.model.nameOf(f.to)) : 'the facilitators';
    const head = fromMe ? `You → ${to}` : `${f.name} → ${to}`;
    // Kept: written while no facilitator was connected (§11 `whisper`). The writer
    // is told it waits for the first to arrive; that facilitator, when it was sent.
    let kept = null;
    if (f.kept) {
      kept = h('p', { class: 'whisper-kept', text: fromMe
        ? 'No facilitator is connected right now; your message will be given to the first one who arrives.'
        : 'Sent while you were away.' });
    }
    this.list.append(h('li', { class: `whisper${fromMe ? ' mine' : ''}${f.kept ? ' kept' : ''}` },
      h('div', { class: 'msg-meta' }, h('span', { class: 'msg-name', text: head }),
        h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })),
      h('p', { class: 'msg-text', text: f.text }),
      kept));
    this.list.lastChild.scrollIntoView({ block: 'nearest' });
    if (!fromMe) {
      notify(`Private message from ${f.name}.`);
      this.chat.drawAttention();
    }
  }

  send() {
    const text = this.text.value.trim();
    if (!text) return;
    const frame = { type: 'whisper', text };
    if (this.chat.facilitator && this.to.value) frame.to = this.to.value;
    if (this.chat.conn.send(frame)) {
      this.text.value = '';
      this.error.hidden = true;
      this.pendingText = text;
    } else notify('You are offline right now; your private message was not sent yet.', { tone: 'warn' });
  }

  /**
   * An `error` that answers our last whisper (`not_found`: no facilitator is here,
   * or no such member); false when it is not about one.
   */
  onError(f) {
    if (f.code !== 'not_found' || this.pendingText === null) return false;
    this.failed(f);
    return true;
  }

  /** A whisper that reached nobody: say so, and give the words back to send later. */
  failed(f) {
    const text = this.pendingText;
    this.pendingText = null;
    this.error.textContent = f.message || 'Your private message was not delivered.';
    this.error.hidden = false;
    if (!this.text.value.trim()) this.text.value = text;
  }

  /** Open the private message box, addressed to one member (facilitators) or not. */
  writeTo(user) {
    this.chat.openSidebar();
    if (user && [...this.to.options].some((o) => o.value === user)) this.to.value = user;
    this.text.focus();
  }
}
