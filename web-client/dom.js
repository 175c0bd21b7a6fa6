// Small DOM helpers. Everything a member wrote reaches the page as a text node,
// never as markup: `h` appends strings with `append`, which escapes them.

import { announcer } from './announcer.js';

/**
 * Build an element. `attrs` keys: `class`, `text`, `on<event>` (listeners),
 * `dataset`, `hidden`, boolean attributes, anything else as an attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Remove every child of `el`. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

const CLOCK = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });

/** "7:32 PM" or "19:32", in the reader's locale, as the schedule writes its times. */
export function clock(ms) {
  return CLOCK.format(new Date(ms));
}

/** "12 seconds", "1 minute", "3 minutes". */
export function duration(ms) {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

/** A fresh id for a `send` or `mod` command (at most 64 bytes). */
let counter = 0;
const tabId = Math.random().toString(36).slice(2, 8);
export function newClientId(prefix = 'c') {
  counter += 1;
  return `${prefix}-${tabId}-${Date.now().toString(36)}-${counter}`;
}

/**
 * A modal question, built on <dialog> so focus, Escape and the backdrop behave.
 * Resolves to the typed text (with `input`), `true` (without), or `null` (cancelled).
 */
export function ask({ title, body, input, check, confirmLabel = 'OK', cancelLabel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const field = input
      ? h(input.multiline ? 'textarea' : 'input', {
          id: 'dialog-input',
          class: 'field',
          maxlength: input.maxlength || 4000,
          placeholder: input.placeholder || '',
          rows: input.multiline ? 3 : undefined,
          required: input.required || undefined,
        })
      : null;
    if (field && input.value) field.value = input.value;
    // Suggestions to pick from (`input.suggestions`), any text still allowed.
    const suggestions = field && input.suggestions && input.suggestions.length
      ? h('datalist', { id: 'dialog-suggestions' }, input.suggestions.map((s) => h('option', { value: s })))
      : null;
    if (suggestions) field.setAttribute('list', 'dialog-suggestions');
    // An option to confirm with (`check: {label}`): then the answer is `{checked}`.
    const box = check ? h('input', { type: 'checkbox', id: 'dialog-check' }) : null;
    const form = h('form', { method: 'dialog', class: 'dialog-form' },
      h('h2', { id: 'dialog-title', text: title }),
      body ? h('p', { class: 'dialog-body', text: body }) : null,
      field ? h('label', { for: 'dialog-input', class: 'label', text: input.label }) : null,
      field,
      suggestions,
      box ? h('p', { class: 'dialog-check' }, box, h('label', { for: 'dialog-check', text: check.label })) : null,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button quiet', value: 'cancel', text: cancelLabel,
          onclick: () => dialog.close('cancel') }),
        h('button', { type: 'submit', class: `button ${danger ? 'danger' : 'primary'}`, value: 'ok', text: confirmLabel }),
      ),
    );
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' }, form);
    form.addEventListener('submit', (event) => {
      if (field && input.required && !field.value.trim()) {
        event.preventDefault();
        field.focus();
      }
    });
    dialog.addEventListener('close', () => {
      const ok = dialog.returnValue === 'ok';
      dialog.remove();
      if (!ok) resolve(null);
      else if (box) resolve({ checked: box.checked });
      else resolve(field ? field.value.trim() : true);
    });
    document.body.append(dialog);
    dialog.showModal();
    (field || form.querySelector('button[type=submit]')).focus();
  });
}

/**
 * A button shown as a symbol ("×", "⋯") and named in words. The words are its
 * content, visually hidden, and the symbol is hidden from screen readers: no
 * `aria-label` over a text that says something else.
 */
export function iconButton(symbol, name, attrs = {}) {
  return h('button', { type: 'button', ...attrs, class: `icon-button${attrs.class ? ` ${attrs.class}` : ''}` },
    h('span', { 'aria-hidden': 'true', text: symbol }),
    h('span', { class: 'visually-hidden', text: name }));
}

/**
 * Point the page's skip link at what a keyboard user wants first on it now: the
 * message box in the room, the main content where there is none (the waiting
 * screen, a stay that has ended). A link to something hidden would lead nowhere.
 */
export function setSkipLink(id, text) {
  const skip = document.querySelector('.skip-link');
  if (!skip) return;
  skip.href = `#${id}`;
  skip.textContent = text;
}

/**
 * A short notice in the page's notice area, seen and heard once: it fades after a
 * while, and the announcer says it (`say`: other words to say, or null for none;
 * `once`: a key, as `announcer.say` takes). A `warn` notice, something that did not
 * happen or must not wait, is said at once (assertive); the others politely. A
 * notice whose `once` this tab has had already is neither shown nor said again.
 */
export function notify(text, { tone = 'info', ms = 7000, say = text, once = null } = {}) {
  if (once !== null && !announcer.fresh(once)) return;
  if (say !== null) announcer.say(say, { urgent: tone === 'warn', once });
  else if (once !== null) announcer.remember(once);
  const area = document.getElementById('notices');
  if (!area) return;
  const note = h('p', { class: `notice ${tone}` }, text,
    iconButton('×', 'Dismiss', { onclick: () => note.remove() }));
  area.append(note);
  if (ms) setTimeout(() => note.remove(), ms);
}
