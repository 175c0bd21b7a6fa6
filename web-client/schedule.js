// When a group meets next, in the reader's own time, wherever a group shows while
// it is not meeting (the directory, its page, the room after a session): the
// server gives `next_session` {starts_at, ends_at} in UTC milliseconds and the room
// its weekly `schedule` (PROTOCOL.md §21); the calendar feed is
// `/api/rooms/{id}/calendar.ics`.

import { h } from './dom.js';

const WEEK_MS = 7 * 24 * 3600 * 1000;

const DAY = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const TIME = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });

/** The room's iCalendar feed, which a calendar app can add or subscribe to. */
export function calendarUrl(roomId) {
  return `/api/rooms/${encodeURIComponent(roomId)}/calendar.ics`;
}

/** Minutes east of UTC in an IANA zone at an instant ("GMT+01:00" → 60). */
function offsetMinutes(timeZone, ms) {
  const part = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(ms).find((p) => p.type === 'timeZoneName');
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(part ? part.value : '');
  if (!m) return 0; // "GMT" itself
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] || 0));
}

/**
 * The same local time a week later in the group's own zone: across a
 * daylight-saving change the instant moves by the change, as the group's clock does.
 */
function weekLater(ms, timeZone) {
  try {
    const guess = ms + WEEK_MS;
    return guess + (offsetMinutes(timeZone, ms) - offsetMinutes(timeZone, guess)) * 60_000;
  } catch {
    return ms + WEEK_MS; // An unknown zone: a week is close enough.
  }
}

/**
 * The sessions to speak of: `current`, the slot the group is in right now (the
 * server's `next_session` during its slot), and `next`, the first one that has not
 * begun. Null when the room has no schedule.
 */
export function sessions(room, now = Date.now()) {
  const slot = room && room.next_session;
  if (!slot || !Number.isSafeInteger(slot.starts_at) || !Number.isSafeInteger(slot.ends_at)) return null;
  if (slot.starts_at > now) return { current: null, next: slot };
  const zone = room.schedule && room.schedule.timezone;
  const next = { starts_at: weekLater(slot.starts_at, zone), ends_at: weekLater(slot.ends_at, zone) };
  return { current: slot, next };
}

/** "Tuesday 26 November, 19:00 to 20:30", in the reader's locale and time zone. */
export function whenText(slot) {
  return `${DAY.format(slot.starts_at)}, ${TIME.format(slot.starts_at)} to ${TIME.format(slot.ends_at)}`;
}

/** "Tuesday 26 November, 19:00": short, for the directory. */
export function startText(slot) {
  return `${DAY.format(slot.starts_at)}, ${TIME.format(slot.starts_at)}`;
}

/**
 * "Add to calendar", named with the group too (a directory lists several); the name
 * starts with the words shown, which is what speech control listens for.
 */
function calendarLink(room) {
  const slug = (room.title || 'group').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'group';
  return h('a', {
    href: calendarUrl(room.id), class: 'button quiet small calendar-link', download: `${slug}.ics`,
    'aria-label': `Add to calendar: ${room.title || 'this group'}`,
  }, 'Add to calendar');
}

/**
 * A calm word on when the group meets next, with a link to add it to a calendar;
 * null when the room has no schedule. `justEnded`: a session has just closed, so a
 * slot that is still running is over for tonight.
 */
export function nextSessionNote(room, { justEnded = false, id = 'next-session' } = {}) {
  const when = sessions(room);
  if (!when) return null;
  const lines = [];
  if (when.current && !justEnded) {
    lines.push(h('p', { text: `This is the group's usual time, until ${TIME.format(when.current.ends_at)}, but no session is open just now. It opens once a facilitator is here.` }));
    lines.push(h('p', {}, 'After that, the group meets on ', h('strong', { class: 'next-when', text: whenText(when.next) }), '.'));
  } else {
    lines.push(h('p', {}, 'The group meets next on ', h('strong', { class: 'next-when', text: whenText(when.next) }), '.'));
  }
  return h('div', { class: 'next-session', id, dataset: { startsAt: String(when.next.starts_at) } },
    ...lines,
    h('p', { class: 'next-actions' },
      calendarLink(room),
      h('span', { class: 'hint', text: 'Times are shown in your own time zone.' })));
}

/**
 * One line for a directory card of a group that is not meeting: "Meets next:
 * Tuesday 26 November, 19:00", or, in its usual slot, that it opens once a
 * facilitator is here.
 */
export function nextSessionLine(room) {
  const when = sessions(room);
  if (!when) return null;
  const text = when.current
    ? h('span', {}, 'Usual time: ', h('strong', { text: `now, until ${TIME.format(when.current.ends_at)}` }),
      '. It opens once a facilitator is here.')
    : h('span', {}, 'Meets next: ', h('strong', { text: startText(when.next) }));
  return h('p', { class: 'next-session-line' }, text, ' ', calendarLink(room));
}
