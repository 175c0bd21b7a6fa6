// The room's guardrail asks first (PROTOCOL.md §13 "The guardrail"): a message with
// the means or method of harm, graphic detail or a dose in it reaches nobody until
// its author chooses — add a content warning and send, send it to the facilitators
// only, edit it, or send it as it is. The question sits where the message waits (in
// the outbox), never over the page: a crisis card that comes with it must stay in
// reach. Said once through announcer.js; Escape is "edit".

import { h } from './dom.js';
import { announcer } from './announcer.js';

/** What was found, in plain words, by category. */
const FOUND = {
  method: 'details of a way to hurt yourself',
  graphic: 'graphic details',
  dose: 'amounts of medication or another substance',
};

/** The choices, by the server's names, in the order it gives them. */
const LABELS = {
  cw: 'Add a content warning and send',
  facilitators: 'Send to the facilitators only',
  edit: 'Edit my message',
  as_is: 'Send as it is',
};

/** The words of the question, for the page and for the announcer alike. */
export function considerText(f) {
  const found = FOUND[f.guard] || 'details that can be hard to read';
  return `Thank you for trusting the group with this. Your message has ${found}, which can be hard for others here to read, so it has not been shared yet. What would you like to do?`;
}

/**
 * The question for one refused message: an element with its choices, each a button.
 * `choose(choice)` is called once with `cw`, `facilitators`, `edit` or `as_is`.
 */
export function considerChoices(f, clientId, choose) {
  const offered = Array.isArray(f.choices) && f.choices.length ? f.choices : ['cw', 'edit', 'as_is'];
  const titleId = `consider-title-${clientId}`;
  const bodyId = `consider-body-${clientId}`;
  let done = false;
  const pick = (choice) => {
    if (done) return;
    done = true;
    box.remove();
    choose(choice);
  };
  const buttons = offered.filter((c) => LABELS[c]).map((c, i) => h('button', {
    type: 'button',
    class: `button ${i === 0 ? 'primary' : 'quiet'} consider-choice`,
    dataset: { choice: c },
    text: LABELS[c],
    onclick: () => pick(c),
  }));
  const box = h('div', { class: 'consider', role: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': bodyId },
    h('p', { id: titleId, class: 'consider-title', text: 'Before this is shared' }),
    h('p', { id: bodyId, class: 'consider-body', text: considerText(f) }),
    h('div', { class: 'consider-choices' }, buttons));
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      pick('edit');
    }
  });
  return {
    el: box,
    /** Shown: the first choice takes the focus, and the question is said once. */
    shown() {
      announcer.say(considerText(f), { urgent: true });
      buttons[0]?.focus();
    },
  };
}
