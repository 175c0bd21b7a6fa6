// Entry point: the public directory at `/`, and for `/?room=<id>` (or
// `/join/<id>`) the guidelines, the pseudonym and the room itself; an on-call
// supervisor's link (`/#oncall=<token>`) opens the on-call board (oncall.js). A facilitator's
// link carries the invite in the fragment (`#invite=<token>`), which the browser
// never sends anywhere; links minted before say `?invite=<token>`. Admission is
// HTTP (PROTOCOL.md §3, §21).

import { h, clear } from './dom.js';
import { Chat } from './chat.js';
import { BANNED_TEXT, BANNED_HELP } from './ending.js';
import { initQuickExit } from './quickexit.js';
import { initHelpLink } from './crisis.js';
import { loadSession, saveSession } from './connection.js';
import { nextSessionNote, nextSessionLine } from './schedule.js';
import { announcer } from './announcer.js';
import { newSeatKey, keepSeatKey, seatFor, inviteFingerprint, takeSeat } from './seat.js';
import { showOnCall } from './oncall.js';

const main = document.getElementById('main');

// On every page: the quick exit, "Need help now", and a skip link that moves the
// focus itself (no fragment in the history).
initQuickExit();
initHelpLink();
document.querySelector('.skip-link')?.addEventListener('click', (e) => {
  const target = document.getElementById(e.currentTarget.getAttribute('href').slice(1));
  if (!target) return;
  e.preventDefault();
  if (!target.hasAttribute('tabindex') && !['TEXTAREA', 'INPUT', 'BUTTON', 'A', 'SELECT'].includes(target.tagName)) {
    target.setAttribute('tabindex', '-1');
  }
  target.focus();
});

/** Read a JSON answer; an HTTP error becomes an Error carrying the `HttpError` body. */
async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {
      ...options,
      headers: { 'content-type': 'application/json', ...(options.headers || {}) },
    });
  } catch {
    throw Object.assign(new Error('We could not reach the server. Please check your connection and try again.'), { code: 'network' });
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = (body && body.message) || `The server answered ${response.status}.`;
    throw Object.assign(new Error(message), {
      code: body && body.code,
      status: response.status,
      retryAfterMs: body && body.retry_after_ms,
      // A `403 closed` join of a scheduled room says when it meets next.
      nextSession: body && body.next_session,
    });
  }
  return body;
}

// ---- this browser ---------------------------------------------------------------

const DEVICE_KEY = 'kindred.device';
const DEVICE_FORM = /^[A-Za-z0-9_-]{16,64}$/;
let device = null;

/** 16 random bytes, base64url without padding: 22 characters. */
function newDeviceId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The random id this browser keeps for Kindred, sent with every join so that a ban
 * covers the browser and not only the pseudonym. It is made up here and is nothing
 * but that: no fingerprinting of any kind. Where storage is refused (private
 * windows), one id lives as long as the page.
 */
function deviceId() {
  if (device) return device;
  try {
    const kept = localStorage.getItem(DEVICE_KEY);
    if (kept && DEVICE_FORM.test(kept)) {
      device = kept;
      return device;
    }
  } catch {
    // No storage: an id for this page only.
  }
  device = newDeviceId();
  try {
    localStorage.setItem(DEVICE_KEY, device);
  } catch {
    // Kept in memory for the page's life.
  }
  return device;
}

// ---- routing --------------------------------------------------------------------

/** The facilitator invite the address carries: in the fragment, or the older query. */
function inviteInAddress() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  return fragment.get('invite') || new URLSearchParams(location.search).get('invite');
}

/** The one-time code of a facilitator's link for another device (`#seat=<code>`). */
function seatCodeInAddress() {
  return new URLSearchParams(location.hash.slice(1)).get('seat');
}

/** Take the invite out of the address bar (and the history entry) once it is used. */
function forgetInviteInAddress(roomId) {
  history.replaceState(null, '', `/?room=${encodeURIComponent(roomId)}`);
}

function route() {
  const params = new URLSearchParams(location.search);
  const joinPath = location.pathname.match(/^\/join\/([^/]+)\/?$/);
  const room = params.get('room') || (joinPath && decodeURIComponent(joinPath[1]));
  const invite = inviteInAddress();
  const onCall = new URLSearchParams(location.hash.slice(1)).get('oncall');
  if (room) showRoom(room, invite, seatCodeInAddress());
  else if (onCall) showOnCall(main, onCall, { api, enter: enterFromOnCall });
  else showDirectory();
}

/** On-call joined a room from the board: into it as a facilitator, as a seat taken back is. */
async function enterFromOnCall(joined) {
  let room;
  try {
    room = await api(`/api/rooms/${encodeURIComponent(joined.room)}`);
  } catch (e) {
    showMessage('We could not open this group', e.message);
    return;
  }
  forgetInviteInAddress(room.id);
  document.title = `${room.title} · Kindred`;
  startSeated(joined, room);
}

// A facilitator link pasted into a tab already on this page changes only the
// fragment, which loads nothing: start again so the invite (or seat code) is seen.
window.addEventListener('hashchange', () => {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has('invite') || fragment.has('seat') || fragment.has('oncall')) location.reload();
});

// ---- sessions -------------------------------------------------------------------

/**
 * A room meets in sessions that a facilitator opens and closes (PROTOCOL.md §3):
 * between them, participants cannot join. A summary without `open` (an older
 * server) is a room that is meeting.
 */
function isMeeting(room) {
  return room.open !== false;
}

const CLOSED_TEXT = 'This group is not meeting right now. Please come back when its next session opens.';

/** "Meeting now" or "Not meeting right now", in words and a mark of its own shape. */
function meetingStatus(room, id) {
  const meeting = isMeeting(room);
  return h('p', { class: 'room-status', id, dataset: { open: String(meeting) } },
    h('span', { class: 'status-mark', 'aria-hidden': 'true' }),
    h('span', { text: meeting ? 'Meeting now' : 'Not meeting right now' }));
}

/**
 * What a participant reads in place of the Join button while the group is not
 * meeting, with when it meets next if it has a schedule.
 */
function closedNote(room, invite) {
  return h('div', { class: 'closed-note', id: 'closed-note', tabindex: '-1' },
    h('p', { class: 'closed-text', text: CLOSED_TEXT }),
    nextSessionNote(room),
    h('p', {}, 'Other groups may be meeting now. ', h('a', { href: '/', text: 'See the other groups' })),
    h('p', { class: 'hint', text: 'If you need to talk to someone right now, please contact a crisis line or your local emergency number.' }),
    h('p', {}, h('button', { type: 'button', class: 'button quiet small', id: 'check-again-button', text: 'Check again',
      onclick: () => showRoom(room.id, invite) })));
}

function showMessage(title, text, link = true) {
  clear(main).append(h('section', { class: 'card narrow' },
    h('h1', { text: title }), h('p', { text }),
    link ? h('p', {}, h('a', { href: '/', class: 'button', text: 'See the groups' })) : null));
}

// ---- directory ------------------------------------------------------------------

async function showDirectory() {
  document.title = 'Kindred · Peer support groups';
  let list;
  try {
    list = await api('/api/rooms');
  } catch (e) {
    showMessage('Groups are not available', e.message, false);
    return;
  }
  const rooms = list.rooms || [];
  const items = rooms.map((r) => {
    const full = r.members >= r.capacity;
    const href = `/?room=${encodeURIComponent(r.id)}`;
    let action;
    // A group that is not meeting can still be read about: its page shows the guidelines.
    // The name a screen reader gives, and speech control listens for, starts with the words shown.
    if (!isMeeting(r)) action = h('a', { class: 'button quiet', href, 'aria-label': `About this group: ${r.title}`, text: 'About this group' });
    else if (full) action = h('span', { class: 'full', text: 'Full right now' });
    else action = h('a', { class: 'button primary', href, 'aria-label': `Join ${r.title}`, text: 'Join' });
    return h('li', { class: 'room-card', dataset: { open: String(isMeeting(r)) } },
      h('h2', {}, h('a', { href, text: r.title })),
      r.topic ? h('p', { class: 'room-topic', text: r.topic }) : null,
      r.description ? h('p', { class: 'room-description', text: r.description }) : null,
      meetingStatus(r),
      isMeeting(r) ? null : nextSessionLine(r),
      h('p', { class: 'room-meta' },
        h('span', { text: `${r.members} of ${r.capacity} here` }),
        action));
  });
  clear(main).append(h('section', { class: 'directory' },
    h('h1', { text: 'Peer support groups' }),
    h('p', { class: 'lead', text: 'Small groups led by trained peer facilitators. Join under any name you like; no account, no e-mail.' }),
    rooms.length
      ? h('ul', { class: 'room-list', id: 'room-list', onclick: intoRoomInPlace }, items)
      : h('p', { class: 'card', text: 'No public groups are listed right now. Please check back later.' }),
    h('p', { class: 'small-print', text: 'If you are in danger right now, please contact your local emergency number or a crisis line.' })));
}

/**
 * A link from the directory into a group replaces the directory's history entry, so
 * that once quick exit has replaced the room's, Back shows no page of Kindred at all.
 * A click with a modifier (a new tab or window) is left to the browser.
 */
function intoRoomInPlace(e) {
  const link = e.target.closest('a[href^="/?room="]');
  if (!link || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  location.replace(link.href);
}

// ---- joining --------------------------------------------------------------------

async function showRoom(roomId, invite, seatCode) {
  let room;
  try {
    room = await api(`/api/rooms/${encodeURIComponent(roomId)}`);
  } catch (e) {
    if (e.code === 'not_found') showMessage('This group does not exist', 'The link may be old, or the session has ended.');
    else showMessage('We could not open this group', e.message);
    return;
  }
  document.title = `${room.title} · Kindred`;
  // Back in the same tab (a reload): carry on with the same place in the room.
  // A facilitator link with a different invite always goes through the form.
  const saved = loadSession(room.id);
  if (saved && !seatCode && (!invite || saved.invite === invite)) {
    if (invite) forgetInviteInAddress(room.id);
    startChat(saved, room);
    return;
  }
  if (seatCode) {
    seatThisDevice(room, seatCode);
    return;
  }
  // A facilitator back in a browser their seat is bound to (the tab was closed), from
  // the same link: the same seat, without the form. A seat that has ended, or
  // another invite's link, goes on to the form.
  const kept = await seatFor(room.id, invite);
  if (kept) {
    const joined = await takeSeat(room.id, { ...kept, device: deviceId() }).catch(() => null);
    if (joined) {
      if (invite) forgetInviteInAddress(room.id);
      startSeated(joined, room, invite);
      return;
    }
  }
  showJoinForm(room, invite);
}

/** A facilitator's link for another device: this browser joins their seat. */
async function seatThisDevice(room, code) {
  // The code works once: out of the address bar (and the history) at once.
  forgetInviteInAddress(room.id);
  try {
    const joined = await takeSeat(room.id, { key: newSeatKey(), code, device: deviceId() });
    startSeated(joined, room);
  } catch (e) {
    showMessage('This link for another device cannot be used', e.message);
  }
}

/** Into the room with a seat taken back (or onto this device): a join's answer. */
function startSeated(joined, room, invite) {
  const session = {
    room: joined.room || room.id,
    token: joined.token,
    user_id: joined.user_id,
    role: joined.role,
    name: joined.name,
    expires_at: joined.expires_at,
    ws_path: joined.ws_path || '/ws',
    invite: invite || undefined,
    last_seq: null,
    epoch: null,
  };
  saveSession(session.room, session);
  startChat(session, room);
}

function showJoinForm(room, invite, { quiet = false } = {}) {
  if (!isMeeting(room) && !invite) {
    showClosedForm(room, invite);
    return;
  }
  // Seen here, and said once through the announcer (the page's only live regions).
  const errorEl = h('p', { class: 'form-error', id: 'join-error' });
  const refuse = (text) => {
    errorEl.textContent = text;
    announcer.say(text, { urgent: true });
  };
  const accept = h('input', { type: 'checkbox', id: 'accept', required: true });
  // Optional, unticked: only the facilitators learn it, so they can make them welcome.
  const firstTime = h('input', { type: 'checkbox', id: 'first-time', 'aria-describedby': 'first-time-hint' });
  const name = h('input', {
    type: 'text', id: 'pseudonym', class: 'field', maxlength: '32', required: true,
    autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'pseudonym-hint',
  });
  const submit = h('button', { type: 'submit', class: 'button primary', id: 'join-button', text: 'Join the group' });
  const form = h('form', { class: 'join-form', id: 'join-form', novalidate: true },
    h('h2', { text: 'Group guidelines' }),
    h('div', { class: 'guidelines', id: 'guidelines', text: room.guidelines }),
    h('div', { class: 'check' }, accept,
      h('label', { for: 'accept', text: 'I have read the guidelines and I accept them' })),
    h('label', { for: 'pseudonym', class: 'label', text: 'The name others will see' }),
    name,
    h('p', { class: 'hint', id: 'pseudonym-hint', text: 'Any name you like, up to 32 characters. It does not have to be your real name.' }),
    invite ? null : h('div', { class: 'check' }, firstTime,
      h('label', { for: 'first-time', text: 'This is my first time here' })),
    invite ? null : h('p', { class: 'hint', id: 'first-time-hint', text: 'Optional. Only the facilitators see it.' }),
    invite ? h('p', { class: 'note', text: 'You are joining as a facilitator.' }) : null,
    room.waiting_room && !invite
      ? h('p', { class: 'note', id: 'waiting-room-note', text: 'This group has a waiting room: once you join, a facilitator will let you in.' })
      : null,
    invite && !isMeeting(room)
      ? h('p', { class: 'note', id: 'facilitator-closed-note', text: 'The group is not meeting right now. You can come in to get ready, and open the session from the room.' })
      : null,
    errorEl,
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errorEl.textContent = '';
    if (!accept.checked) {
      refuse('Please read the guidelines and tick the box to accept them.');
      accept.focus();
      return;
    }
    const pseudonym = name.value.trim();
    if (!pseudonym) {
      refuse('Please choose a name to be known by.');
      name.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Joining…';
    const body = { name: pseudonym, accept_guidelines: true, device: deviceId() };
    // A facilitator's seat is bound to this browser, to come back to after a closed tab.
    const key = invite ? newSeatKey() : null;
    if (invite) Object.assign(body, { invite, seat_key: key });
    try {
      const joined = await api(`/api/rooms/${encodeURIComponent(room.id)}/join`, { method: 'POST', body: JSON.stringify(body) });
      if (key) keepSeatKey(room.id, key, await inviteFingerprint(invite));
      const session = {
        room: joined.room || room.id,
        token: joined.token,
        user_id: joined.user_id,
        role: joined.role,
        name: pseudonym,
        expires_at: joined.expires_at,
        ws_path: joined.ws_path || '/ws',
        invite: invite || undefined,
        first_time: !invite && firstTime.checked ? true : undefined,
        last_seq: null,
        epoch: null,
      };
      saveSession(session.room, session);
      // Keep the invite out of the address bar once it has been used.
      if (invite) forgetInviteInAddress(room.id);
      startChat(session, room);
    } catch (e) {
      if (e.code === 'closed' && !invite) {
        // The session ended (or has not begun) since the page was loaded: not a
        // mistake of theirs, so the form says so as it would have from the start.
        showClosedForm({ ...room, open: false, next_session: e.nextSession || room.next_session }, invite);
        document.getElementById('closed-note')?.focus();
        return;
      }
      if (e.code === 'banned') {
        clear(errorEl).append(`${BANNED_TEXT} ${BANNED_HELP} `,
          h('a', { href: '/', text: 'See the other groups' }));
        announcer.say(`${BANNED_TEXT} ${BANNED_HELP}`, { urgent: true });
      } else {
        const kind = {
          locked: 'The group is locked to new members right now. Please try again a little later.',
          room_full: 'The group is full right now. Please try again a little later.',
          closed: CLOSED_TEXT,
          // A facilitator link that was revoked, used up or has expired.
          unauthorized: invite ? 'This facilitator link is no longer valid. Please ask the organiser for a new one.' : null,
          // The link seats the facilitator who opened it first, in their own browser.
          invite_in_use: 'This facilitator link is already in use in another browser. It brings back only the facilitator who opened it there, or on a device they add from the room. If this is your link, open it in the browser you used before; otherwise please ask the organiser for a link of your own.',
        }[e.code];
        refuse(kind || e.message);
      }
      submit.disabled = false;
      submit.textContent = 'Join the group';
    }
  });
  showJoinCard(room, form);
  if (!quiet) accept.focus();
}

/**
 * The room's page while it is not meeting, for a participant: first, in place of the
 * Join button, a sentence saying the group is not meeting now and when it meets next
 * (in sight on a phone without scrolling); then the guidelines, read as a whole.
 */
function showClosedForm(room, invite) {
  showJoinCard(room, h('div', { class: 'join-form', id: 'join-form' },
    closedNote(room, invite),
    h('h2', { text: 'Group guidelines' }),
    h('div', { class: 'guidelines', id: 'guidelines', text: room.guidelines })));
  watchForOpening(room.id, invite);
}

/** How often a room's page that is not meeting asks whether the session has begun. */
const OPENING_CHECK_MS = 15_000;
let openingCheck = null;

/**
 * While the page says the group is not meeting, ask now and then whether it has
 * begun, and when it has, show the form to join in its place and say so; focus
 * stays where the person left it. Asking stops once the page shows anything else.
 */
function watchForOpening(roomId, invite) {
  clearTimeout(openingCheck);
  const check = async () => {
    if (!document.getElementById('closed-note')) return;
    try {
      const room = await api(`/api/rooms/${encodeURIComponent(roomId)}`);
      if (!document.getElementById('closed-note')) return;
      if (isMeeting(room)) {
        showJoinForm(room, invite, { quiet: true });
        announcer.say('The group is meeting now. You can join.');
        return;
      }
    } catch {
      // Offline or the server away: ask again later.
    }
    openingCheck = setTimeout(check, OPENING_CHECK_MS);
  };
  openingCheck = setTimeout(check, OPENING_CHECK_MS);
}

function showJoinCard(room, body) {
  clear(main).append(h('section', { class: 'card join' },
    h('p', { class: 'eyebrow', text: 'Joining' }),
    h('h1', { text: room.title }),
    room.topic ? h('p', { class: 'room-topic', text: room.topic }) : null,
    room.description ? h('p', { class: 'room-description', text: room.description }) : null,
    meetingStatus(room, 'room-status'),
    h('p', { class: 'room-meta', text: `${room.members} of ${room.capacity} here now` }),
    body));
}

function startChat(session, room) {
  main.classList.add('in-room');
  document.body.classList.add('in-room');
  const chat = new Chat(main, session, room);
  window.addEventListener('pagehide', () => chat.conn.stop());
}

route();
