// A facilitator's seat, kept for this browser: the join with an invite sends a random
// seat key, kept here in local storage for that room, and the same link opened again
// after the tab was closed takes the same seat back with it (PROTOCOL.md §21,
// `POST /api/rooms/{id}/seat`). "Use on another device" gives a one-time link
// (`#seat=<code>`) that binds one more device the facilitator chooses. The key is the
// only thing kept, never a message; it is forgotten at quick exit, when the session
// ends, and when the facilitator's seat is withdrawn.

import { h } from './dom.js';

const PREFIX = 'kindred.seat.';
const storageKey = (room) => `${PREFIX}${room}`;

/** 16 random bytes, base64url without padding: 22 characters. */
export function newSeatKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * What this browser keeps for its seat in `room`: `{key, invite}`, where `invite` is
 * a fingerprint of the invite link that gave the seat, or null for a device bound
 * with a one-time code. Null when nothing is kept.
 */
export function keptSeat(room) {
  try {
    const kept = JSON.parse(localStorage.getItem(storageKey(room)) || 'null');
    return kept && typeof kept.key === 'string' ? kept : null;
  } catch {
    return null;
  }
}

export function keepSeatKey(room, key, invite = null) {
  try {
    localStorage.setItem(storageKey(room), JSON.stringify({ key, invite }));
  } catch {
    // No storage (a private window): the seat lasts as long as this tab.
  }
}

export function forgetSeat(room) {
  try {
    localStorage.removeItem(storageKey(room));
  } catch {
    // Nothing was kept.
  }
}

/**
 * A fingerprint of an invite link, to know it again without keeping the token: its
 * SHA-256 where the page may hash (a secure context), else the token's last
 * characters, part of its signature.
 */
export async function inviteFingerprint(invite) {
  try {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(invite));
    return [...new Uint8Array(digest)].slice(0, 16).map((b) => b.toString(16).padStart(2, '0')).join('');
  } catch {
    return invite.slice(-24);
  }
}

/**
 * Whether this browser's kept seat should be tried for a page that carries `invite`
 * (or none): the same link that gave it, the room's own address, or any link on a
 * device the facilitator bound with a code. A different invite goes to the form.
 */
export async function seatFor(room, invite) {
  const kept = keptSeat(room);
  if (!kept) return null;
  if (!invite || kept.invite === null || kept.invite === await inviteFingerprint(invite)) return kept;
  return null;
}

/** Every seat key this browser keeps: quick exit leaves none behind. */
function forgetAllSeats() {
  try {
    for (const name of Object.keys(localStorage)) {
      if (name.startsWith(PREFIX)) localStorage.removeItem(name);
    }
  } catch {
    // Nothing was kept.
  }
}
window.addEventListener('kindred:exit', forgetAllSeats);

async function post(path, { body, token } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method: 'POST', headers, body: body ? JSON.stringify(body) : undefined });
  } catch {
    throw Object.assign(new Error('We could not reach the server. Please check your connection and try again.'), { code: 'network' });
  }
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    throw Object.assign(new Error((answer && answer.message) || `The server answered ${response.status}.`),
      { code: answer && answer.code, status: response.status });
  }
  return answer;
}

/**
 * Take the seat `key` is bound to in `room` (with `code`: bind this browser first,
 * with the code another device gave) and keep the key, with the fingerprint of the
 * invite it came with (`invite`). A seat the server no longer knows for this key is
 * forgotten here too.
 */
export async function takeSeat(room, { key, invite = null, code, device }) {
  try {
    const joined = await post(`/api/rooms/${encodeURIComponent(room)}/seat`, { body: { seat_key: key, code, device } });
    keepSeatKey(room, key, invite);
    return joined;
  } catch (e) {
    if (!code && e.code === 'unauthorized') forgetSeat(room);
    throw e;
  }
}

/**
 * "Use on another device": a one-time link for this seat, shown with what it does
 * and for how long, to copy and open on a device the facilitator uses themself.
 */
export async function offerAnotherDevice(session) {
  let given;
  try {
    given = await post(`/api/rooms/${encodeURIComponent(session.room)}/seat/code`, { token: session.token });
  } catch (e) {
    return showDialog([h('p', { class: 'dialog-body', text: e.message })]);
  }
  const link = new URL(given.url, location.origin).href;
  const minutes = Math.max(1, Math.round((given.expires_at - Date.now()) / 60_000));
  const field = h('input', { id: 'device-link', class: 'field', readonly: true, value: link, 'aria-describedby': 'device-link-hint' });
  const copied = h('p', { class: 'dialog-body', id: 'device-link-copied', role: 'status' });
  const copy = h('button', { type: 'button', class: 'button', id: 'copy-device-link', text: 'Copy link', onclick: async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(link);
      copied.textContent = 'Copied.';
    } catch {
      copied.textContent = 'Select the link and copy it.';
    }
  } });
  return showDialog([
    h('p', { class: 'dialog-body', id: 'device-link-hint',
      text: `Open this link on your other device to be in this room there too, as yourself. It works once, for the next ${minutes} minutes. Only open it on a device you use yourself.` }),
    h('label', { for: 'device-link', class: 'label', text: 'Link for your other device' }),
    field, copy, copied,
  ], field);
}

function showDialog(body, focus) {
  const dialog = h('dialog', { class: 'dialog', id: 'device-dialog', 'aria-labelledby': 'device-dialog-title' },
    h('form', { method: 'dialog', class: 'dialog-form' },
      h('h2', { id: 'device-dialog-title', text: 'Use on another device' }),
      ...body,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'submit', class: 'button primary', value: 'ok', text: 'Done' }))));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  (focus || dialog.querySelector('button[type=submit]')).focus();
}
