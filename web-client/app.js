// Entry point: the public directory at `/`, and for `/?room=<id>` (or
// `/join/<id>`, optionally with `invite=<token>`) the guidelines, the pseudonym
// and the room itself. Admission is HTTP (PROTOCOL.md §3, §15).

import { h, clear } from './dom.js';
import { Chat } from './chat.js';
import { loadSession, saveSession } from './connection.js';

const main = document.getElementById('main');

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
    throw Object.assign(new Error(message), { code: body && body.code, status: response.status, retryAfterMs: body && body.retry_after_ms });
  }
  return body;
}

function route() {
  const params = new URLSearchParams(location.search);
  const joinPath = location.pathname.match(/^\/join\/([^/]+)\/?$/);
  const room = params.get('room') || (joinPath && decodeURIComponent(joinPath[1]));
  const invite = params.get('invite');
  if (room) showRoom(room, invite);
  else showDirectory();
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
    return h('li', { class: 'room-card' },
      h('h2', {}, h('a', { href: `/?room=${encodeURIComponent(r.id)}`, text: r.title })),
      r.topic ? h('p', { class: 'room-topic', text: r.topic }) : null,
      r.description ? h('p', { class: 'room-description', text: r.description }) : null,
      h('p', { class: 'room-meta' },
        h('span', { text: `${r.members} of ${r.capacity} here` }),
        full
          ? h('span', { class: 'full', text: 'Full right now' })
          : h('a', { class: 'button primary', href: `/?room=${encodeURIComponent(r.id)}`, 'aria-label': `Join ${r.title}`, text: 'Join' })));
  });
  clear(main).append(h('section', { class: 'directory' },
    h('h1', { text: 'Peer support groups' }),
    h('p', { class: 'lead', text: 'Small groups led by trained peer facilitators. Join under any name you like; no account, no e-mail.' }),
    rooms.length
      ? h('ul', { class: 'room-list', id: 'room-list' }, items)
      : h('p', { class: 'card', text: 'No public groups are open right now. Please check back later.' }),
    h('p', { class: 'small-print', text: 'If you are in danger right now, please contact your local emergency number or a crisis line.' })));
}

// ---- joining --------------------------------------------------------------------

async function showRoom(roomId, invite) {
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
  if (saved && (!invite || saved.invite === invite)) {
    startChat(saved, room);
    return;
  }
  showJoinForm(room, invite);
}

function showJoinForm(room, invite) {
  const errorEl = h('p', { class: 'form-error', id: 'join-error', role: 'alert' });
  const accept = h('input', { type: 'checkbox', id: 'accept', required: true });
  const name = h('input', {
    type: 'text', id: 'pseudonym', class: 'field', maxlength: '32', required: true,
    autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'pseudonym-hint',
  });
  const submit = h('button', { type: 'submit', class: 'button primary', id: 'join-button', text: 'Join the group' });
  const form = h('form', { class: 'join-form', id: 'join-form', novalidate: true },
    h('h2', { text: 'Group guidelines' }),
    h('div', { class: 'guidelines', id: 'guidelines', tabindex: '0', text: room.guidelines }),
    h('div', { class: 'check' }, accept,
      h('label', { for: 'accept', text: 'I have read the guidelines and I accept them' })),
    h('label', { for: 'pseudonym', class: 'label', text: 'The name others will see' }),
    name,
    h('p', { class: 'hint', id: 'pseudonym-hint', text: 'Any name you like, up to 32 characters. It does not have to be your real name.' }),
    invite ? h('p', { class: 'note', text: 'You are joining as a facilitator.' }) : null,
    errorEl,
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errorEl.textContent = '';
    if (!accept.checked) {
      errorEl.textContent = 'Please read the guidelines and tick the box to accept them.';
      accept.focus();
      return;
    }
    const pseudonym = name.value.trim();
    if (!pseudonym) {
      errorEl.textContent = 'Please choose a name to be known by.';
      name.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Joining…';
    const body = { name: pseudonym, accept_guidelines: true };
    if (invite) body.invite = invite;
    try {
      const joined = await api(`/api/rooms/${encodeURIComponent(room.id)}/join`, { method: 'POST', body: JSON.stringify(body) });
      const session = {
        room: joined.room || room.id,
        token: joined.token,
        user_id: joined.user_id,
        role: joined.role,
        name: pseudonym,
        expires_at: joined.expires_at,
        ws_path: joined.ws_path || '/ws',
        invite: invite || undefined,
        last_seq: null,
        epoch: null,
      };
      saveSession(session.room, session);
      // Keep the invite out of the address bar once it has been used.
      if (invite) history.replaceState(null, '', `/?room=${encodeURIComponent(room.id)}`);
      startChat(session, room);
    } catch (e) {
      const kind = {
        locked: 'The group is locked to new members right now. Please try again a little later.',
        room_full: 'The group is full right now. Please try again a little later.',
        banned: 'You cannot join this group.',
        unauthorized: 'This facilitator link is no longer valid. Please ask for a new one.',
      }[e.code];
      errorEl.textContent = kind || e.message;
      submit.disabled = false;
      submit.textContent = 'Join the group';
    }
  });
  clear(main).append(h('section', { class: 'card join' },
    h('p', { class: 'eyebrow', text: 'Joining' }),
    h('h1', { text: room.title }),
    room.topic ? h('p', { class: 'room-topic', text: room.topic }) : null,
    room.description ? h('p', { class: 'room-description', text: room.description }) : null,
    h('p', { class: 'room-meta', text: `${room.members} of ${room.capacity} here now` }),
    form));
  accept.focus();
}

function startChat(session, room) {
  main.classList.add('in-room');
  document.body.classList.add('in-room');
  const chat = new Chat(main, session, room);
  window.addEventListener('pagehide', () => chat.conn.stop());
}

route();
