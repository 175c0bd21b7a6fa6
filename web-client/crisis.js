// Help, first: the crisis resources card (PROTOCOL.md §11 `crisis_resources`, §15)
// and the "Need help now" link that reopens it from any page. The card puts the
// help lines first, each number a `tel:` or `sms:` link, with the emergency
// sentence beside them, so a phone shows both without scrolling; after an overdose
// the emergency number comes before everything. What it says about the message
// (shared with the group or not) and about the facilitators (told or not) is
// worked out here from `seq`, `told` and the room, never taken from the operator's
// `body`, which claims neither. Nothing of it is stored: it lives as long as the page.

import { h, clear } from './dom.js';

/**
 * The lines shown if the server's own card cannot be fetched (PROTOCOL.md §21
 * `GET /api/resources`, asked for as each page loads): the same international set
 * the server ships by default. Otherwise the link shows the server's card (the
 * operator's own, from `--resources-card`), on every page, before any crisis card
 * has arrived; once one has, that card is what the link reopens.
 */
const BUILT_IN = {
  title: 'Help is there for you',
  body: 'If things feel like too much right now, you can talk to someone: the lines here are free, confidential, and there for you at any hour.',
  lines: [
    { region: 'US & Canada', name: '988 Suicide & Crisis Lifeline', contact: 'Call or text 988', url: 'https://988lifeline.org' },
    { region: 'UK & Ireland', name: 'Samaritans', contact: 'Call 116 123 (free, any time)', url: 'https://www.samaritans.org' },
    { region: 'Australia', name: 'Lifeline', contact: 'Call 13 11 14', url: 'https://www.lifeline.org.au' },
    { region: 'Elsewhere', name: 'Find A Helpline', contact: 'Free, confidential support in your country', url: 'https://findahelpline.com' },
  ],
};

/**
 * The country a person picked for their help lines, kept for this tab only
 * (sessionStorage): asked once, never guessed from the browser's language.
 */
const COUNTRY_KEY = 'kindred.country';

export function chosenCountry() {
  try {
    return sessionStorage.getItem(COUNTRY_KEY) || '';
  } catch {
    return '';
  }
}

function chooseCountry(code) {
  try {
    if (code) sessionStorage.setItem(COUNTRY_KEY, code);
    else sessionStorage.removeItem(COUNTRY_KEY);
  } catch { /* kept for this card only */ }
}

/**
 * What the card shows for the person's choice: the chosen country's lines and
 * emergency number, or the card's default lines and number (which may be absent:
 * then the words "your local emergency number", and no number made up).
 */
function forPlace(f) {
  const countries = Array.isArray(f.countries) ? f.countries : [];
  const country = countries.find((c) => c.code === chosenCountry()) || null;
  if (country) return { countries, country, lines: country.lines || [], number: country.emergency };
  return { countries, country: null, lines: Array.isArray(f.lines) ? f.lines : [], number: f.emergency || '' };
}

/** The picker of countries, when the card has any: "Everywhere" (the default) first. */
function countryPicker(place, onPick, id = 'help-country') {
  if (!place.countries.length) return null;
  const select = h('select', { id, class: 'field small', onchange: () => onPick(select.value) },
    h('option', { value: '', text: 'Not chosen (lines for everywhere)' }),
    place.countries.map((c) => h('option', { value: c.code, text: c.name })));
  select.value = place.country ? place.country.code : '';
  return h('p', { class: 'help-country' },
    h('label', { for: id, text: 'Your country, for its help lines and emergency number: ' }), select);
}

/** Phone numbers in a contact line ("Call or text 988", "Call 116 123 (free)"). */
function numbersIn(contact) {
  const found = String(contact || '').match(/\+?\d[\d ]{1,14}\d|\b\d{3}\b/g) || [];
  return [...new Set(found.map((n) => n.trim()))];
}

/**
 * Tappable links for one help line: call, text, and its web address. `told`: true
 * when the links say all the contact line says, so it need not be written twice.
 */
function contactLinks(line) {
  const links = [];
  const contact = String(line.contact || '');
  const verbs = contact.toLowerCase();
  const numbers = numbersIn(contact);
  const canText = /\btext\b|\bsms\b/.test(verbs);
  const canCall = /\bcall\b|\bphone\b|\bring\b/.test(verbs) || !canText;
  for (const number of numbers) {
    const dial = number.replace(/\s+/g, '');
    // One number to call: the button carries the whole line ("Call 116 123 (free, any time)").
    const callText = numbers.length === 1 && !canText ? contact : `Call ${number}`;
    if (canCall) links.push(h('a', { class: 'button small help-call', href: `tel:${dial}`, text: callText }));
    if (canText) links.push(h('a', { class: 'button small quiet help-text', href: `sms:${dial}`, text: `Text ${number}` }));
  }
  if (line.url) {
    links.push(h('a', { class: 'help-web', href: line.url, target: '_blank', rel: 'noopener noreferrer',
      text: line.url.replace(/^https?:\/\//, '').replace(/\/$/, '') }));
  }
  // "Call or text 988" is all in its buttons; anything longer is kept in words.
  const told = numbers.length === 1 && (!canText || /^\s*call or text [\d ]+\s*$/i.test(contact));
  return { links, told };
}

/**
 * The emergency sentence: the card's number to tap, first, or without one the
 * words alone. After an overdose, it says why now.
 */
function emergencyLine(category, number, id = 'crisis-emergency') {
  // The largest thing to tap on the card: the number that reaches help fastest.
  const call = number
    ? h('a', { class: 'button danger emergency-call', href: `tel:${number}`, text: `call ${number}` })
    : h('span', { text: 'call your local emergency number' });
  const or = number ? ' (or your local emergency number)' : '';
  if (category === 'overdose') {
    return h('p', { class: 'emergency overdose', id },
      h('strong', {}, h('span', { text: 'Emergency: ' }), call,
        h('span', { text: `${or} now` })),
      h('span', { text: ' if you have taken too much of something, even if you feel all right. Effects can come later.' }));
  }
  return h('p', { class: 'emergency', id },
    h('strong', { text: 'In danger now? ' }), call,
    h('span', { text: number ? ' or your local emergency number.' : '.' }));
}

/**
 * What is true of this message and this room, in plain words. `context.sent`:
 * `shared` (it has a `seq`), `whisper` (it went privately to the facilitators),
 * `refused` (the room could not take it) or `none` (the card was opened by hand).
 */
export function truthLines(f, context) {
  const lines = [];
  const sent = context.sent;
  // Said only to someone who wrote: a card opened by hand thanks nobody for anything.
  if (sent !== 'none') lines.push("Thank you for telling us. It sounds like you're going through something really painful right now, and you deserve support.");
  if (sent === 'shared') lines.push('Your message was shared with the group.');
  else if (sent === 'whisper') lines.push('Your private message went only to the facilitators, not to the group.');
  else if (sent === 'refused' && context.waits) lines.push('Your message has not been shared with the group yet: it waits for your choice, in your messages being sent.');
  else if (sent === 'refused') lines.push(`Your message was not shared with the group${context.why ? ` (${context.why})` : ''}. Your words are still in your message box.`);
  if (sent === 'none') return lines;
  if (f.told) {
    lines.push('A facilitator has been told and may check in with you privately.');
  } else if (context.facilitated) {
    lines.push('No facilitator is here right now. The first one to arrive will be told, but please don\'t wait for them: the lines above are there for you now.');
  } else {
    lines.push('This is a drop-in room and nobody is keeping watch right now, so no one here has been told. Please reach out to one of the lines above.');
  }
  return lines;
}

/** The help lines, each with its links to call, text or visit. */
function helpList(lines) {
  return h('ul', { class: 'help-lines', 'aria-label': 'Help lines' }, lines.map((line) => {
    const { links, told } = contactLinks(line);
    return h('li', {},
      h('p', { class: 'help-head' },
        h('span', { class: 'help-name', text: line.name }),
        line.region ? h('span', { class: 'help-region', text: line.region }) : null),
      told ? null : h('p', { class: 'help-contact', text: line.contact }),
      links.length ? h('p', { class: 'help-actions' }, links) : null);
  }));
}

/**
 * The help lines kept in view where a stay ends or pauses (removed, banned, turned
 * away, asked out for a quiet word): the lines for the person's chosen country and
 * its emergency number, with the country picker, and nothing said about a message.
 * Seen, not spoken: the screen that holds it says what happened. `id` names the
 * panel (and its title and picker), so it never clashes with the crisis card's.
 */
export function helpPanel(id) {
  const panel = h('section', { class: 'help-panel', id, 'aria-labelledby': `${id}-title` });
  const render = (f) => {
    const place = forPlace(f);
    const picker = countryPicker(place, (code) => {
      chooseCountry(code);
      render(f);
      panel.querySelector(`#${id}-country`)?.focus();
    }, `${id}-country`);
    clear(panel).append(...[
      h('h2', { id: `${id}-title`, text: 'If you need to talk to someone' }),
      helpList(place.lines),
      emergencyLine(null, place.number, `${id}-emergency`),
      picker].filter(Boolean));
  };
  render(help.server || BUILT_IN);
  // The operator's own card, once it has come (asked for as the page loaded).
  if (!help.server && help.fetching) help.fetching.then(() => { if (help.server) render(help.server); });
  return panel;
}

/**
 * The card. `context`: what happened to the message (see `truthLines`), and
 * `onSeen` for its button. The lines come first; the operator's words after.
 */
export function crisisCard(f, context, onSeen) {
  const place = forPlace(f);
  const { lines } = place;
  const overdose = f.category === 'overdose';
  const title = h('h2', { id: 'crisis-title', text: f.title || BUILT_IN.title });
  const help = helpList(lines);
  const truth = truthLines(f, context);
  // A pick shows that country's card in place, the picker keeping the focus.
  const picker = countryPicker(place, (code) => {
    chooseCountry(code);
    const again = crisisCard(f, context, onSeen);
    card.replaceWith(again);
    again.querySelector('#help-country')?.focus();
  });
  const card = h('section', { class: `crisis-card${overdose ? ' overdose' : ''}`, id: 'crisis-card',
    'aria-labelledby': 'crisis-title', tabindex: '-1', dataset: { category: f.category || '', told: String(!!f.told) } },
  title,
  overdose ? emergencyLine(f.category, place.number) : null,
  overdose ? picker : null,
  help,
  overdose ? null : emergencyLine(f.category, place.number),
  overdose ? null : picker,
  truth.length ? h('div', { class: 'crisis-truth', id: 'crisis-truth' }, truth.map((text) => h('p', { text }))) : null,
  f.body ? h('p', { class: 'crisis-body', text: f.body }) : null,
  h('p', { class: 'crisis-actions' },
    h('button', { type: 'button', class: 'button', id: 'crisis-seen-button', text: 'Thank you, I have seen this',
      onclick: () => onSeen(card) })));
  return card;
}

/**
 * The card this page reopens with "Need help now": the last one the server gave,
 * or the built-in lines. `mount(slot)` says where the room shows it; without a
 * room it opens at the top of the page.
 */
class Help {
  constructor() {
    this.frame = null; // the last `crisis_resources`, as given
    this.server = null; // the server's card (`GET /api/resources`), once fetched
    this.fetching = null; // the fetch of it, while on its way
    this.context = { sent: 'none' };
    this.slot = null;
    this.onSeen = null;
  }

  /** The room's place for the card, and what pressing its button does there. */
  mount(slot, onSeen) {
    this.slot = slot;
    this.onSeen = onSeen;
  }

  /** A card from the server: shown now, and kept for the link. */
  show(f, context) {
    this.frame = f;
    this.context = context;
    this.render(f, context, true);
  }

  /**
   * "Need help now": the card again, without the words about a message. Before any
   * card has come, the server's own lines, waited for a moment at most while they
   * are still on their way (never longer: the built-in lines are shown instead).
   */
  async open() {
    if (!this.frame && !this.server && this.fetching) {
      await Promise.race([this.fetching, new Promise((r) => setTimeout(r, 800))]);
    }
    const f = this.frame ? { ...this.frame } : { ...(this.server || BUILT_IN) };
    this.render(f, { ...this.context, sent: 'none' }, false);
  }

  render(f, context, fromServer) {
    // The room's place, unless the room is out of sight (the waiting screen shows
    // instead): then the top of the page, where the person is.
    const shown = this.slot && this.slot.isConnected && !this.slot.closest('[hidden]');
    let slot = shown ? this.slot : null;
    if (!slot) {
      slot = document.getElementById('help-slot') || h('div', { id: 'help-slot', class: 'help-slot' });
      if (!slot.isConnected) document.getElementById('main')?.prepend(slot);
    }
    const card = crisisCard(f, context, (el) => {
      el.remove();
      // Only a card the server gave is acknowledged: it stops giving it again.
      if (fromServer && this.onSeen) this.onSeen();
      else document.getElementById('need-help-link')?.focus();
    });
    clear(slot).append(card);
    bringToTop(card);
    card.focus({ preventScroll: true });
  }
}

/**
 * Scroll the card to the top of what scrolls around it (the room's main area, or
 * the page), below the sticky header. Not `scrollIntoView`, which would also
 * scroll the room's fixed frame and leave a gap under it.
 */
function bringToTop(card) {
  const main = document.getElementById('main');
  if (main && main.classList.contains('in-room')) {
    main.scrollTop += card.getBoundingClientRect().top - main.getBoundingClientRect().top - 4;
    return;
  }
  const header = document.querySelector('.site-header');
  const offset = header ? header.getBoundingClientRect().height : 0;
  window.scrollTo({ top: window.scrollY + card.getBoundingClientRect().top - offset - 8 });
}

export const help = new Help();

/** Wire the header's "Need help now" link: the same place on every page. */
export function initHelpLink() {
  const link = document.getElementById('need-help-link');
  if (!link) return;
  // The server's card, so the lines are the operator's from the first page on.
  help.fetching = fetch('/api/resources', { headers: { accept: 'application/json' } })
    .then((r) => (r.ok ? r.json() : null))
    .then((card) => {
      if (card && Array.isArray(card.lines) && card.lines.length) help.server = card;
    })
    .catch(() => { /* the built-in lines stay */ });
  link.addEventListener('click', (e) => {
    e.preventDefault(); // no fragment in the history
    help.open();
  });
}
