// Each member's own view of the conversation, and nobody else's business: the
// content warnings they keep folded, words of their own that fold a message, and
// members they hid for themselves alone. Nothing here is sent to the server (hiding
// someone tells nobody); it is kept for this tab only (sessionStorage, per room), so
// a reload keeps it and closing the tab or quick exit (quickexit.js) ends it.
// timeline.js asks `fold` of every message it draws, history, replay and live alike,
// and draws them all again (`refold`) when a choice changes here. The "My view"
// sheet is a modal <dialog>: focus stays in it, Escape closes it, and every choice
// is a labelled control reached with Tab.

import { h, clear, ask, notify } from './dom.js';

/**
 * The topics offered when the room's `welcome` names none (`cw_topics`): the one
 * place the client keeps them.
 */
export const DEFAULT_CW_TOPICS = ['self-harm', 'suicide', 'abuse', 'eating', 'substances', 'grief', 'violence'];

const PREFIX = 'kindred.view.';

/** The words a fold shows for each reason. */
export const FOLD_LABELS = {
  hidden: 'Hidden by you',
  word: 'Contains a word you chose to fold',
};

const lower = (s) => String(s || '').toLocaleLowerCase();
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `text` holds `word` on its own (not inside a longer word), in any case. */
function holds(text, word) {
  if (!word) return false;
  const re = new RegExp(`(^|[^\\p{L}\\p{N}])${escape(lower(word))}($|[^\\p{L}\\p{N}])`, 'u');
  return re.test(lower(text));
}

function storageKey(room) {
  return `${PREFIX}${room}`;
}

/** Every view this tab keeps, for every room: quick exit leaves none behind. */
function forgetAllViews() {
  try {
    for (const name of Object.keys(sessionStorage)) {
      if (name.startsWith(PREFIX)) sessionStorage.removeItem(name);
    }
  } catch {
    // Nothing was kept.
  }
}
window.addEventListener('kindred:exit', forgetAllViews);

export class MyView {
  /** `chat`: the room (its session's room id, model and timeline). */
  constructor(chat) {
    this.chat = chat;
    this.room = chat.session.room;
    this.topics = DEFAULT_CW_TOPICS;
    let kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(storageKey(this.room)) || 'null');
    } catch {
      // A damaged record is the same as none.
    }
    // Topics are folded unless the member chose to see them open: a topic the room
    // adds later is folded too, as is a warning that names none of them (`other`).
    this.shown = new Set(Array.isArray(kept?.shown) ? kept.shown : []);
    this.words = Array.isArray(kept?.words) ? kept.words.filter((w) => typeof w === 'string') : [];
    this.hidden = new Map(Array.isArray(kept?.hidden) ? kept.hidden : []);
    this.button = h('button', {
      type: 'button', class: 'button quiet', id: 'my-view-button', 'aria-haspopup': 'dialog',
      onclick: () => this.openSheet(),
    }, 'My view');
  }

  /** The room's topics, from its `welcome` (`cw_topics`) when it names them. */
  welcome(f) {
    const topics = Array.isArray(f.cw_topics) ? f.cw_topics.filter((t) => typeof t === 'string' && t.trim()) : [];
    this.topics = topics.length ? topics : DEFAULT_CW_TOPICS;
  }

  store() {
    try {
      sessionStorage.setItem(storageKey(this.room), JSON.stringify({
        shown: [...this.shown], words: this.words, hidden: [...this.hidden],
      }));
    } catch {
      // No storage: kept for this page only.
    }
  }

  /** The topic a content warning is about, if it names one of the room's. */
  topicOf(cw) {
    return this.topics.find((t) => lower(cw) === lower(t) || holds(cw, t)) ?? null;
  }

  /**
   * Whether a message is folded for this member, and what its fold says:
   * `{why: 'hidden' | 'word' | 'topic', label}`, or null when it shows as written.
   */
  fold(f) {
    const mine = this.chat.model.isMe(f.user);
    if (!mine && this.hidden.has(f.user)) return { why: 'hidden', label: FOLD_LABELS.hidden };
    if (!mine && this.words.some((w) => holds(f.text, w) || holds(f.cw, w))) return { why: 'word', label: FOLD_LABELS.word };
    if (f.cw) {
      const topic = this.topicOf(f.cw);
      if (!(topic && this.shown.has(topic))) return { why: 'topic', label: `Content warning: ${f.cw}` };
    }
    return null;
  }

  changed() {
    this.store();
    this.chat.timeline.refold();
    if (this.sheet) this.fillSheet();
  }

  /** Hide a member's messages for this member alone, after asking. Nothing is sent. */
  async hide(user, name) {
    const ok = await ask({
      title: `Hide ${name}'s messages?`,
      body: `Their messages fold to "hidden by you", for you alone: ${name} and the others are not told. You can show one message, or unhide ${name} in My view.`,
      confirmLabel: 'Hide for me',
      cancelLabel: 'Not now',
    });
    if (!ok) return;
    this.hidden.set(user, name);
    this.changed();
    notify(`${name}'s messages are hidden for you. My view can bring them back.`);
  }

  // ---- the sheet --------------------------------------------------------------

  openSheet() {
    if (this.sheet) return;
    this.body = h('div', { class: 'myview-body' });
    this.sheet = h('dialog', { class: 'dialog myview', id: 'my-view', 'aria-labelledby': 'my-view-title' },
      h('div', { class: 'dialog-form' },
        h('h2', { id: 'my-view-title', text: 'My view' }),
        h('p', { class: 'dialog-body', text: 'Only you see these choices. Nobody is told, nothing is sent, and they last in this tab until you close it or leave with Exit this page.' }),
        this.body,
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'button primary', id: 'my-view-close', onclick: () => this.sheet.close() }, 'Done'))));
    this.sheet.addEventListener('close', () => {
      this.sheet.remove();
      this.sheet = null;
      this.button.focus();
    });
    this.fillSheet();
    document.body.append(this.sheet);
    this.sheet.showModal();
    this.sheet.querySelector('input').focus();
  }

  /** The sheet's controls, drawn again after each change (focus kept on its control). */
  fillSheet() {
    const focused = document.activeElement?.id;
    const topics = h('fieldset', { class: 'myview-group' },
      h('legend', { text: 'Keep these content warnings folded' }),
      this.topics.map((t, i) => h('p', { class: 'dialog-check' },
        h('input', {
          type: 'checkbox', id: `fold-topic-${i}`, checked: !this.shown.has(t), dataset: { topic: t },
          onchange: (e) => {
            if (e.target.checked) this.shown.delete(t);
            else this.shown.add(t);
            this.changed();
          },
        }),
        h('label', { for: `fold-topic-${i}`, text: t }))),
      h('p', { class: 'myview-note', text: 'A warning about anything else stays folded too.' }));

    const wordInput = h('input', { id: 'fold-word-input', class: 'field', maxlength: '60', autocomplete: 'off' });
    const addWord = () => {
      const word = wordInput.value.trim();
      if (!word) { wordInput.focus(); return; }
      if (!this.words.some((w) => lower(w) === lower(word))) this.words.push(word);
      wordInput.value = '';
      this.changed();
    };
    wordInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); addWord(); }
    });
    const words = h('fieldset', { class: 'myview-group' },
      h('legend', { text: 'Words of your own to fold' }),
      h('label', { for: 'fold-word-input', class: 'label', text: 'A word or phrase' }),
      h('div', { class: 'myview-add' }, wordInput,
        h('button', { type: 'button', class: 'button quiet small', id: 'fold-word-add', onclick: addWord }, 'Add')),
      this.words.length
        ? h('ul', { class: 'myview-list', 'aria-label': 'Words you fold' }, this.words.map((w, i) => h('li', {},
          h('span', { text: w }),
          h('button', {
            type: 'button', class: 'link-button', id: `fold-word-remove-${i}`,
            onclick: () => { this.words = this.words.filter((x) => x !== w); this.changed(); },
          }, 'Remove', h('span', { class: 'visually-hidden', text: ` ${w}` })))))
        : h('p', { class: 'myview-note', text: 'None yet.' }));

    const people = h('fieldset', { class: 'myview-group' },
      h('legend', { text: 'People you hid' }),
      this.hidden.size
        ? h('ul', { class: 'myview-list', id: 'hidden-people' }, [...this.hidden].map(([user, name], i) => h('li', {},
          h('span', { text: name }),
          h('button', {
            type: 'button', class: 'link-button', id: `unhide-${i}`,
            onclick: () => { this.hidden.delete(user); this.changed(); },
          }, 'Unhide', h('span', { class: 'visually-hidden', text: ` ${name}` })))))
        : h('p', { class: 'myview-note', text: 'Nobody. "Hide" under a message hides its writer for you alone.' }));

    clear(this.body).append(topics, words, people);
    const again = focused && document.getElementById(focused);
    if (again && this.sheet.contains(again)) again.focus();
    else if (focused?.startsWith('unhide-') || focused?.startsWith('fold-word-remove-')) {
      this.sheet.querySelector('#my-view-close').focus();
    }
  }
}
