// A facilitator's alerts panel: what needs their attention (crisis alerts,
// reports with the conversation around them, flagged and held messages, knocks at
// the waiting room; PROTOCOL.md §11 `alert`) and the notes sent to members
// (`warning`), each with what can be done about it. When another facilitator
// handles an alert, the moderation log says so (modlog.js) and it leaves the open ones.
// The panel is pinned above everything else beside the room (a sheet of its own on
// a phone), crisis alerts first, with the count on its button and in the tab's
// title; a new alert can also play a soft sound, if the facilitator turns it on.

import { h, clock, notify } from './dom.js';
import { announcer } from './announcer.js';

const SOUND_KEY = 'kindred.alertSound';

/** A soft two-note chime, made on the spot: no file to fetch. */
function chime() {
  try {
    const Audio = window.AudioContext || window.webkitAudioContext;
    if (!Audio) return;
    chime.context = chime.context || new Audio();
    const ctx = chime.context;
    if (ctx.state === 'suspended') ctx.resume();
    [660, 880].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      const start = ctx.currentTime + i * 0.18;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.35);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.4);
    });
  } catch {
    // No sound, then: the title and the badge still say it.
  }
}

const ALERT_KIND = {
  crisis: 'Crisis',
  check_in: 'Check in',
  report: 'Report',
  flagged: 'Flagged',
  held: 'Held for review',
  knock: 'Waiting',
  concern: 'Concern',
};

/** How the moderation log's entry handled an item, for "… was released by Sam". */
const HANDLED = {
  release: 'released to the room',
  decline: 'declined',
};

/** 2 → "2nd", 11 → "11th": how many times a member's crisis words came. */
function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th');
  return `${n}${suffix}`;
}

const CATEGORY = {
  suicidal_ideation: 'thoughts of suicide',
  self_harm: 'self-harm',
  overdose: 'overdose',
  immediate_danger: 'immediate danger',
  abuse_disclosure: 'disclosure of abuse',
};

export class AlertsPanel {
  /** `tools`: the facilitator's tools (their `mod`, the room, the notes we sent). */
  constructor(tools) {
    this.tools = tools;
    this.chat = tools.chat;
    // Alert ids already shown, for the life of the page: the server gives every open
    // alert again on each arrival (PROTOCOL.md §11), and an id is shown once. A
    // member's open crisis alert comes again with a higher `count` when they write
    // crisis words again: it is updated in place, and heralded as new.
    this.seen = new Set();
    this.counts = new Map();
    this.heading = h('h2', { id: 'alerts-heading', tabindex: '-1', text: 'Alerts' });
    this.list = h('ol', { class: 'alerts', id: 'alerts', tabindex: '0', 'aria-labelledby': 'alerts-heading' },
      h('li', { class: 'empty', text: 'Nothing needs your attention right now.' }));
    let soundOn = false;
    try { soundOn = localStorage.getItem(SOUND_KEY) === 'on'; } catch { /* no storage: off */ }
    this.sound = h('input', { type: 'checkbox', id: 'alert-sound', checked: soundOn,
      onchange: () => {
        try { localStorage.setItem(SOUND_KEY, this.sound.checked ? 'on' : 'off'); } catch { /* for this page only */ }
        if (this.sound.checked) chime(); // a sample, and the browser's leave to play
      } });
    this.panel = h('section', { class: 'panel alerts-panel', id: 'alerts-panel', 'aria-labelledby': 'alerts-heading', dataset: { pane: 'alerts' } },
      h('div', { class: 'alerts-head' }, this.heading,
        h('label', { class: 'sound-toggle', for: 'alert-sound' }, this.sound, h('span', { text: 'Sound' }))),
      this.list);
  }

  /** Open crisis and check-in alerts, crisis first: what a close would leave unanswered. */
  concerns() {
    return [...this.list.querySelectorAll('li.alert[data-kind="crisis"], li.alert[data-kind="check_in"]')]
      .map((li) => ({ kind: li.dataset.kind, name: li.dataset.name || 'Someone' }));
  }

  /**
   * The session has closed: nothing on screen asks to be acted on any more, and what
   * was still open is said once, with what a facilitator can still do.
   */
  sessionClosed() {
    const open = this.concerns();
    for (const li of this.list.querySelectorAll('li.alert')) li.remove();
    if (open.length) {
      const names = open.map((a) => `${a.name} (${a.kind === 'crisis' ? 'crisis' : 'check-in'})`).join(', ');
      this.list.prepend(h('li', { class: 'alert-closed', id: 'alerts-at-close' },
        h('p', { text: `When the session closed, ${open.length === 1 ? 'this alert was' : `${open.length} alerts were`} still open: ${names}. They closed with the session, and the conversation is gone.` }),
        h('p', { text: "If you are worried about someone's safety, follow your organisation's safeguarding steps, or contact your local emergency services." })));
      announcer.say(`When the session closed, ${open.length === 1 ? 'an alert was' : `${open.length} alerts were`} still open: ${names}. They closed with the session.`);
    }
    this.updateCount();
  }

  /** Open alerts: what asks something of a facilitator. */
  openCount() {
    return this.list.querySelectorAll('li.alert').length;
  }

  updateCount() {
    const open = this.openCount();
    const crisis = this.list.querySelectorAll('li.alert[data-kind="crisis"]').length;
    this.heading.textContent = open ? `Alerts (${open})` : 'Alerts';
    this.heading.classList.toggle('urgent', crisis > 0);
    if (!open && !this.list.querySelector('.empty')) {
      this.list.append(h('li', { class: 'empty', text: 'Nothing needs your attention right now.' }));
    }
    // Kept private messages not read yet count on the button too: they come first.
    const away = this.chat.whispers.awayUnread.size;
    this.chat.layout.setBadge('alerts', open + away, { urgent: crisis > 0 || away > 0 });
    this.chat.layout.updateTitle();
  }

  /**
   * Crisis alerts first, then check-ins, then everything else; newest first within
   * each.
   */
  place(li) {
    const rank = (kind) => (kind === 'crisis' ? 0 : kind === 'check_in' ? 1 : 2);
    const mine = rank(li.dataset.kind);
    const above = [...this.list.querySelectorAll(':scope > li[data-kind]')]
      .filter((other) => rank(other.dataset.kind) < mine);
    const last = above[above.length - 1];
    if (last) last.after(li);
    else this.list.prepend(li);
  }

  /** A new alert, not one given again: said, shown on the phone's button, and a chime if wanted. */
  herald(f) {
    const urgent = f.kind === 'crisis';
    const words = {
      crisis: `Crisis alert: ${f.name} may need support.`,
      check_in: `${f.name} may need a check-in.`,
      report: `${f.name} reported a message.`,
      flagged: `A message from ${f.name} was flagged.`,
      held: `A message from ${f.name} is held for review.`,
      knock: `${f.name} is in the waiting room.`,
      concern: `${f.by_name || 'A member'} is worried about ${f.name}.`,
    }[f.kind] || `New alert about ${f.name}.`;
    // Said once in this tab: an open alert given again after a reload is not news.
    const once = Number.isSafeInteger(f.id) ? `alert:${f.id}:${f.count || 1}` : null;
    if (once !== null && !announcer.fresh(once)) return;
    notify(words, { tone: urgent ? 'warn' : 'info', ms: urgent ? 12000 : 7000, once });
    this.chat.layout.drawAttention('alerts');
    if (this.sound.checked) chime();
  }

  add(f) {
    let again = null;
    if (f.id !== undefined && f.id !== null) {
      const count = f.count || 1;
      if (this.seen.has(f.id)) {
        const concern = f.kind === 'crisis' || f.kind === 'check_in';
        if (!concern || count <= (this.counts.get(f.id) || 1)) return;
        again = this.find({ held: null, alert: f.id });
        if (!again) { this.counts.set(f.id, count); return; }
      }
      this.seen.add(f.id);
      this.counts.set(f.id, count);
    }
    if (f.kind === 'knock') this.dropKnock(f.user);
    this.list.querySelector('.empty')?.remove();
    const detail = [];
    if (f.kind === 'crisis') {
      detail.push(`${f.name}'s message may show ${CATEGORY[f.category] || 'a crisis'}. They were shown the help lines.`);
      detail.push(Number.isSafeInteger(f.likelihood)
        ? "Why: Kindred's classifier is confident these words are a crisis; no phrase matched them."
        : 'Why: the words matched a crisis phrase.');
      // No `seq`: the room did not take it (or it was written privately), so the
      // words are here, and only here (§15).
      if (f.count > 1) {
        const since = Number.isSafeInteger(f.since) ? ` since ${clock(f.since)}` : '';
        detail.push(`This is the ${ordinal(f.count)} time${since}; the latest words are below.`);
      }
      if (f.text && f.seq === undefined) detail.push(f.count > 1 ? 'The group did not see the latest:' : 'The group did not see these words:');
    } else if (f.kind === 'check_in') {
      detail.push(`${f.name} may need a check-in: their message may show ${CATEGORY[f.category] || 'that they are struggling'}.`);
      detail.push("Why: Kindred's classifier leans that way but is not sure. They were not shown the help lines; a private word from you may help.");
      if (f.count > 1) {
        const since = Number.isSafeInteger(f.since) ? ` since ${clock(f.since)}` : '';
        detail.push(`This is the ${ordinal(f.count)} time${since}.`);
      }
      if (f.text && f.seq === undefined) detail.push('The group did not see these words:');
    } else if (f.kind === 'report') {
      detail.push(`${f.name} reported a message${f.reason ? `: “${f.reason}”` : '.'}`);
    } else if (f.kind === 'held') {
      detail.push(`A message from ${f.name} is held and not shown to the group${f.reason ? ` (${f.reason})` : ''}.`);
    } else if (f.kind === 'flagged') {
      detail.push(`A message from ${f.name} was flagged${f.reason ? ` (${f.reason})` : ''}.`);
    } else if (f.kind === 'knock') {
      detail.push(`${f.name} is in the waiting room and would like to join.`);
    } else if (f.kind === 'concern') {
      detail.push(`${f.by_name || 'A member'} is worried about ${f.name}${f.seq !== undefined ? ' because of this message' : ''}. ${f.name} is not told who said so; a private word from you may help.`);
    } else {
      detail.push(f.reason || `About ${f.name}`);
    }
    const held = f.kind === 'held' && Number.isSafeInteger(f.held);
    const report = f.kind === 'report' && Number.isSafeInteger(f.id);
    const escalable = ['crisis', 'check_in', 'report', 'concern'].includes(f.kind) && Number.isSafeInteger(f.id);
    const decide = (action) => (e) => {
      e.currentTarget.closest('.alert-actions').querySelectorAll('.decide').forEach((b) => { b.disabled = true; });
      this.tools.mod(action, { held: f.held }, action === 'release' ? 'release the message' : 'decline the message');
    };
    const actions = h('div', { class: 'alert-actions' },
      held ? h('button', { type: 'button', class: 'button small decide', onclick: decide('release') }, 'Release to the room') : null,
      held ? h('button', { type: 'button', class: 'button small quiet decide', onclick: decide('decline') }, 'Decline') : null,
      f.kind === 'knock'
        ? h('button', { type: 'button', class: 'button small', onclick: () => this.tools.waitingList.focus() }, 'See who is waiting')
        : null,
      f.kind !== 'held' && f.seq !== undefined
        ? h('button', { type: 'button', class: 'button small', onclick: () => this.chat.layout.jumpTo(f.seq) }, 'Go to message')
        : null,
      f.user && f.kind !== 'knock'
        ? h('button', { type: 'button', class: 'button small quiet', onclick: () => this.chat.whisperToMember(f.user) }, `Whisper to ${f.name}`)
        : null,
      // A report is handled for every facilitator with `resolve` (§10).
      report ? h('button', { type: 'button', class: 'button small resolve-button',
        'aria-label': `Resolve ${f.name}'s report`,
        onclick: (e) => {
          if (this.tools.resolve(f.id)) e.currentTarget.disabled = true;
        } }, 'Resolve') : null,
      // Care beyond the card: call in the on-call supervisor about this alert (§10).
      escalable ? h('button', { type: 'button', class: 'button small escalate-button',
        'aria-label': `Call on-call about ${f.name}`, dataset: { alert: f.id },
        onclick: (e) => {
          if (this.tools.mod('escalate', { alert: f.id }, 'call on-call')) e.currentTarget.disabled = true;
        } }, 'Call on-call') : null,
      report ? null : h('button', { type: 'button', class: 'button small quiet done-button',
        'aria-label': `Done with the ${f.kind} alert about ${f.name}`,
        onclick: (e) => {
          // Crisis and report alerts are kept by the room until handled: tell the
          // server, so it stops giving them (§11). Held messages are handled by
          // release or decline.
          const kept = ['crisis', 'check_in', 'report'].includes(f.kind) && Number.isSafeInteger(f.id);
          if (kept && !this.chat.conn.send({ type: 'ack_warning', alert: f.id })) {
            notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
            return;
          }
          e.currentTarget.closest('li').remove();
          this.updateCount();
        } }, 'Done'));
    const li = h('li', { class: `alert ${f.kind}`, dataset: {
      kind: f.kind,
      ...(f.seq !== undefined ? { seq: f.seq } : {}),
      ...(f.id !== undefined ? { alertId: f.id } : {}),
      ...(held ? { held: f.held } : {}),
      ...(f.user ? { user: f.user, name: f.name } : {}),
    } },
      h('div', { class: 'msg-meta' },
        h('span', { class: `alert-kind ${f.kind}`, text: ALERT_KIND[f.kind] || f.kind }),
        h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })),
      h('p', { text: detail.join(' ') }),
      (held || f.kind === 'crisis' || f.kind === 'check_in') && f.text ? h('blockquote', { class: 'held-text', text: f.text }) : null,
      f.kind === 'report' || f.kind === 'concern' ? this.context(f) : null,
      actions);
    if (again) again.remove();
    this.place(li);
    this.updateCount();
    this.herald(f);
  }

  /**
   * The conversation a report was about, as it read when it was reported: up to
   * three messages before it and the reported one, marked, last.
   */
  context(f) {
    const quotes = Array.isArray(f.context) ? f.context : [];
    if (!quotes.length) return null;
    return h('ol', { class: 'report-context', 'aria-label': 'The conversation around the reported message' },
      quotes.map((q) => {
        const reported = q.seq === f.seq;
        return h('li', { class: `quote${reported ? ' reported' : ''}`, dataset: { seq: q.seq } },
          h('div', { class: 'msg-meta' },
            h('span', { class: 'msg-name', text: q.name }),
            reported ? h('span', { class: 'badge reported-badge', text: 'reported' }) : null,
            h('time', { datetime: new Date(q.ts).toISOString(), text: clock(q.ts) })),
          q.cw ? h('p', { class: 'cw-label', text: `Content warning: ${q.cw}` }) : null,
          h('p', { class: 'msg-text', text: q.text }));
      }));
  }

  /** The open alert an id names: a held message's (`held`) or another's (`alert`). */
  find({ held, alert }) {
    return [...this.list.querySelectorAll('li.alert')].find((li) => (Number.isSafeInteger(held)
      ? li.dataset.held === String(held)
      : li.dataset.kind !== 'held' && li.dataset.alertId === String(alert)));
  }

  /** On-call was told about `alert` (by any facilitator): its button says so, seen, not spoken. */
  escalated(alert) {
    const li = this.find({ held: null, alert });
    const button = li && li.querySelector('.escalate-button');
    if (!button) return;
    button.disabled = true;
    button.textContent = 'On-call told';
    button.setAttribute('aria-label', 'On-call told');
  }

  /**
   * A moderation log entry: if it handled a held message or an alert, that item is
   * no longer open here. Our own leaves quietly; another facilitator's says who.
   */
  handledBy(e) {
    // An escalation names its alert but leaves it open.
    if (e.action === 'escalate') return;
    const held = Number.isSafeInteger(e.held) ? e.held : null;
    const alert = Number.isSafeInteger(e.alert) ? e.alert : null;
    if (held === null && alert === null) return;
    this.seen.add(held ?? alert);
    const li = this.find({ held, alert });
    if (!li) return;
    const hadFocus = li.contains(document.activeElement);
    if (this.chat.model.isMe(e.by)) {
      li.remove();
    } else {
      const kind = li.dataset.kind;
      const name = li.dataset.name || '';
      const what = {
        crisis: `The crisis alert about ${name}`,
        check_in: `The check-in about ${name}`,
        report: `${name}'s report`,
        held: `The held message from ${name}`,
      }[kind] || 'An alert';
      const by = e.by_name || 'another facilitator';
      const how = HANDLED[e.action] || 'handled';
      const note = h('li', { class: 'alert-handled', dataset: { kind, ...(held !== null ? { held } : { alertId: alert }) } },
        h('p', { text: `${what} was ${how} by ${by}.` }),
        h('div', { class: 'alert-actions' },
          h('button', { type: 'button', class: 'button small quiet', 'aria-label': `Dismiss: ${what} was ${how} by ${by}`,
            onclick: (ev) => { ev.currentTarget.closest('li').remove(); this.updateCount(); this.heading.focus(); } }, 'Dismiss')));
      li.replaceWith(note);
      if (hadFocus) note.querySelector('button').focus();
    }
    this.updateCount();
    if (hadFocus && !li.isConnected && document.activeElement === document.body) this.heading.focus();
  }

  /** An alert of ours the server confirmed handled (our `resolve` was acknowledged). */
  resolved(alert) {
    this.seen.add(alert);
    const li = this.find({ held: null, alert });
    if (!li) return;
    const hadFocus = li.contains(document.activeElement);
    li.remove();
    this.updateCount();
    if (hadFocus) this.heading.focus();
  }

  /** Knocks of people no longer waiting (let in, turned away, gone) are done with. */
  dropKnocks(stillWaiting) {
    for (const li of this.list.querySelectorAll('li.alert[data-kind="knock"]')) {
      if (!stillWaiting(li.dataset.user)) li.remove();
    }
    this.updateCount();
  }

  dropKnock(user) {
    for (const li of this.list.querySelectorAll('li.alert[data-kind="knock"]')) {
      if (li.dataset.user === user) li.remove();
    }
  }

  /**
   * A note to a member (`warning`, §11), sent by us or another facilitator; the
   * same note again with `acknowledged` once they have read it. Not an alert: it
   * asks nothing of us, so it is not counted.
   */
  addWarning(f) {
    if (!Number.isSafeInteger(f.id)) return;
    const who = f.name || this.chat.nameOf(f.user);
    let entry = [...this.list.querySelectorAll('li.warning-note')].find((li) => li.dataset.warningId === String(f.id));
    if (!entry) {
      // Ours if we asked to warn this member and this is the note that came of it.
      const warning = this.tools.warning;
      const mine = !f.acknowledged && warning.has(f.user);
      warning.delete(f.user);
      const reason = f.reason ? `: “${f.reason}”` : '.';
      entry = h('li', { class: 'warning-note', dataset: { warningId: f.id, user: f.user } },
        h('div', { class: 'msg-meta' },
          h('span', { class: 'alert-kind', text: 'Note' }),
          h('time', { datetime: new Date(f.ts).toISOString(), text: clock(f.ts) })),
        h('p', { class: 'warning-text', text: mine ? `You warned ${who}${reason}` : `A facilitator warned ${who}${reason}` }),
        h('p', { class: 'warning-status' }),
        h('div', { class: 'alert-actions' },
          h('button', { type: 'button', class: 'button small quiet', onclick: () => this.chat.whisperToMember(f.user) }, `Whisper to ${who}`),
          h('button', { type: 'button', class: 'button small quiet', 'aria-label': `Done with the note to ${who}`,
            onclick: (e) => { e.currentTarget.closest('li').remove(); } }, 'Done')));
      const alerts = this.list.querySelectorAll(':scope > li.alert');
      if (alerts.length) alerts[alerts.length - 1].after(entry);
      else this.list.prepend(entry);
    }
    const status = entry.querySelector('.warning-status');
    if (f.acknowledged) {
      // Said when it happens while this page looks on, not when a reload finds it read.
      if (status.textContent && entry.dataset.acknowledged !== 'true') announcer.say(`${who} has read the note.`);
      entry.dataset.acknowledged = 'true';
      status.textContent = `${who} has read the note.`;
    } else if (entry.dataset.acknowledged !== 'true') {
      status.textContent = `Waiting for ${who} to read it. Until then they can read along but not post.`;
    }
  }
}
