// How a stay in the room ends, in calm words: left, the session closed (and when
// the group meets next), removed, banned, turned away from the waiting room, or a
// place that expired. The room's page and the waiting screen both say it here, and
// where a facilitator ended the stay (removed, banned, turned away) the help lines
// stay in view beside the words (crisis.js `helpPanel`).

import { h, clear, setSkipLink } from './dom.js';
import { forgetSession } from './connection.js';
import { forgetSeat } from './seat.js';
import { nextSessionNote } from './schedule.js';
import { announcer } from './announcer.js';
import { helpPanel } from './crisis.js';

/**
 * What a banned person is told, in the same words whether the ban ends their stay
 * in the room or they try to join again (app.js).
 */
export const BANNED_TEXT = "A facilitator has asked you to leave this group, so you can't rejoin it.";
export const BANNED_HELP = 'Other groups are still open to you. If you need to talk to someone right now, please contact a crisis line or your local emergency number.';

/** What someone turned away from the waiting room is told: a fact, gently, not a fault. */
const DENIED_TEXT = "Thank you for waiting. A facilitator wasn't able to let you into this session.";
const DENIED_HELP = 'You are welcome to look at other groups, or to come back for a later session. If you need to talk to someone right now, please contact a crisis line or your local emergency number.';

const FORGET = ['left', 'closed', 'removed', 'unauthorized', 'denied'];

/** The connection will not be retried: the room's page says why and what next. */
export function endRoom(chat, { reason, code, error, text: closeReason }) {
  const status = document.getElementById('conn-status');
  // A facilitator's seat ends with the session, a removal or a withdrawn seat; leaving
  // is a choice they may come back from with their link.
  if (['closed', 'removed', 'unauthorized'].includes(reason)) forgetSeat(chat.session.room);
  const messages = {
    left: "You've left the room. Take good care of yourself.",
    closed: 'This session has ended. Thank you for being here.',
    removed: 'A facilitator has removed you from this room.',
    unauthorized: 'Your place in this room has expired. You are welcome to join again.',
    ended: 'You are connected to this room in another tab or window.',
    refused: 'The server could not accept this connection.',
  };
  let text = messages[reason] || 'The connection has ended.';
  // The close reason names who removed them: a facilitator, or the organiser (§20).
  if (reason === 'removed' && /\borganiser\b/i.test(closeReason || '')) {
    text = 'The organiser of this group has removed you from this room.';
  }
  if (reason === 'closed' && chat.closedReason) text = `This session has ended. ${chat.closedReason}`;
  // Left from another tab or window: this one saw its own `left`, then was closed.
  const leftElsewhere = reason === 'ended' && chat.leftReason === 'left';
  if (leftElsewhere) text = "You've left the room from another tab or window. Take good care of yourself.";
  else if (error && error.code === 'not_found') text = 'This room no longer exists.';
  // Close 4003 is a removal or a ban (PROTOCOL.md §20): a ban says so in its error
  // frame (at `hello`), in our own `left` event, or in the close reason.
  const banned = (error && error.code === 'banned') || chat.leftReason === 'banned'
    || (code === 4003 && /\bbanned\b/i.test(closeReason || ''));
  if (banned) text = BANNED_TEXT;
  const denied = reason === 'denied';
  if (denied) text = DENIED_TEXT;
  // After a session, when the group meets next (if it has a schedule).
  const nextSlot = reason === 'closed' ? h('div', { class: 'next-slot' }) : null;
  // Sent away by a facilitator (or the organiser): the help lines stay in view.
  const sentAway = banned || denied || reason === 'removed';
  // `append` would write out a null as "null": only what is there goes in.
  clear(chat.banners.ended).append(...[h('p', { text }),
    banned ? h('p', { text: BANNED_HELP }) : null,
    denied ? h('p', { text: DENIED_HELP }) : null,
    sentAway ? helpPanel('ending-help') : null,
    nextSlot,
    h('p', { class: 'ending-links' },
      reason === 'unauthorized'
        ? h('a', { href: `/?room=${encodeURIComponent(chat.session.room)}`, class: 'button primary', text: 'Join again' })
        : null,
      ' ',
      h('a', { href: '/', class: 'button quiet', text: 'See other groups' }))].filter(Boolean));
  chat.banners.ended.hidden = false;
  chat.banners.blocked.hidden = true;
  if (status) { status.textContent = ''; status.dataset.state = 'ended'; }
  if (FORGET.includes(reason) || leftElsewhere) forgetSession(chat.session.room);
  if (reason === 'closed') announcer.forget(chat.session.room);
  // The banner is seen, not spoken (focus goes to its first link): said once here,
  // at once unless this person chose it (left, here or in another tab).
  announcer.say(text, { urgent: !['left', 'ended'].includes(reason) });
  chat.composer.end();
  setSkipLink('main', 'Skip to the main content');
  chat.typing.el.textContent = '';
  chat.layout.handButton.hidden = true;
  chat.layout.leaveButton.hidden = true;
  chat.whispers.form.hidden = true;
  chat.note.set(null, { quiet: true });
  if (chat.facilitator) chat.facilitator.ended(reason);
  // A facilitator's debrief came just before the close: said after it.
  if (reason === 'closed') chat.moods?.sayDebrief();
  chat.outbox.endAll(text);
  // Its own links, not a help line's: the help is seen beside the words.
  chat.banners.ended.querySelector('.ending-links a')?.focus();
  if (nextSlot) showNextSession(chat, nextSlot);
}

/**
 * When the group meets next, read afresh: the summary the welcome carried may
 * still name the session that has just ended.
 */
async function showNextSession(chat, slot) {
  let room = chat.model.summary;
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(chat.session.room)}`);
    if (response.status === 404) return; // The room is gone: it meets no more.
    if (response.ok) room = await response.json();
  } catch {
    // Offline: the welcome's summary will do.
  }
  const note = nextSessionNote(room, { justEnded: true });
  if (note) slot.replaceChildren(note);
}

/** The wait ended without coming in: said on the waiting screen itself. */
export function endWaiting(chat, reason, error) {
  const status = document.getElementById('conn-status');
  if (status) { status.textContent = ''; status.dataset.state = 'ended'; }
  if (FORGET.includes(reason)) forgetSession(chat.session.room);
  let lines;
  if (reason === 'denied') lines = [DENIED_TEXT, DENIED_HELP];
  else if (reason === 'left') lines = ["You've left the waiting room. Take good care of yourself."];
  else if (reason === 'closed') lines = ['This session has ended before you could come in. Thank you for waiting.'];
  else if (reason === 'removed' && error && error.code === 'banned') lines = [BANNED_TEXT, BANNED_HELP];
  else if (reason === 'unauthorized') lines = ['Your place in the waiting room has expired. You are welcome to join again.'];
  else lines = ['The connection has ended. You are welcome to join again.'];
  const nextSlot = reason === 'closed' ? h('div', { class: 'next-slot' }) : null;
  // Turned away or banned (or removed by the organiser) while waiting, a quiet word
  // included: the help lines stay in view.
  const sentAway = reason === 'denied' || reason === 'removed';
  chat.waitingScreen.end(lines, nextSlot, sentAway ? helpPanel('ending-help') : null);
  if (nextSlot) showNextSession(chat, nextSlot);
}
