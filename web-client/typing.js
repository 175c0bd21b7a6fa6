// Who is typing: "X is typing…" under the conversation, for as long as a `typing`
// frame lasts (PROTOCOL.md: about 5 s), and gone as soon as that member's message,
// their leaving, or a change that stops them posting arrives.

import { h } from './dom.js';

/** How long "X is typing" stays after the last `typing` (PROTOCOL.md: about 5 s). */
const TYPING_SHOWN_MS = 5000;

export class TypingLine {
  /** `chat`: the room (who this member is). */
  constructor(chat) {
    this.chat = chat;
    this.typers = new Map(); // user → {name, timer}
    this.el = h('p', { class: 'typing', id: 'typing' });
  }

  /** A `typing` frame: shown, or kept a while longer. */
  show(f) {
    if (this.chat.model.isMe(f.user)) return;
    const old = this.typers.get(f.user);
    if (old) clearTimeout(old.timer);
    this.typers.set(f.user, { name: f.name, timer: setTimeout(() => this.stop(f.user), TYPING_SHOWN_MS) });
    this.render();
  }

  stop(user) {
    const t = this.typers.get(user);
    if (!t) return;
    clearTimeout(t.timer);
    this.typers.delete(user);
    this.render();
  }

  render() {
    const names = [...this.typers.values()].map((t) => t.name);
    let text = '';
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = 'Several people are typing…';
    this.el.textContent = text;
  }
}
