// The room's page: the connection's frames sent where they belong, and its parts
// wired together. The parts live beside it: layout.js (where everything goes, the
// sheets on a phone, scrolling), banners.js (the connection's state, paused, held,
// the announcement, the notes, the end), people.js (who is here), typing.js (who is
// typing), room.js (what the room is), timeline.js (the conversation), composer.js
// (writing, and why one cannot now), outbox.js (messages on their way), whispers.js
// (private messages), crisis.js (the help card), cards.js (a facilitator's note),
// mute.js (a mute, from both sides), waiting.js (the waiting room), ending.js (how a
// stay ends), facilitator.js (the facilitator's tools), myview.js (what this member
// folds for themselves), checkin.js (check-in and check-out, and the debrief),
// announcer.js (what a screen reader hears). Frames and fields follow protocol/PROTOCOL.md exactly.

import { ask, notify } from './dom.js';
import { Connection } from './connection.js';
import { FacilitatorTools } from './facilitator.js';
import { RoomModel, MEMBER_EVENTS } from './room.js';
import { RoomLayout } from './layout.js';
import { Banners } from './banners.js';
import { PeopleList } from './people.js';
import { TypingLine } from './typing.js';
import { Timeline } from './timeline.js';
import { Outbox } from './outbox.js';
import { Whispers } from './whispers.js';
import { WarningNote } from './cards.js';
import { WaitingScreen } from './waiting.js';
import { Composer } from './composer.js';
import { MuteNotice } from './mute.js';
import { help } from './crisis.js';
import { announcer } from './announcer.js';
import { endRoom, endWaiting } from './ending.js';
import { SessionScript } from './structure.js';
import { MyView } from './myview.js';
import { Moods } from './checkin.js';

/** What a participant in the waiting room is told if something they tried has to wait. */
const WAITING_TEXT = "You're in the waiting room for now. A facilitator will let you in shortly, and then you can take part.";

/** Why the room could not take a message, for the crisis card ("not shared … (the room is paused)"). */
const REFUSED_BECAUSE = {
  paused: 'the room is paused',
  muted: 'you are muted',
  held: 'no facilitator is here right now',
  not_your_turn: 'someone else has the floor',
  slow_mode: 'slow mode is on',
  warned: "a facilitator's note is waiting for you",
};

export class Chat {
  /** `session`: {room, token, user_id, role, ws_path, …}; `room`: the RoomSummary. */
  constructor(root, session, room) {
    this.root = root;
    this.session = session;
    this.model = new RoomModel(room);
    this.facilitator = null;
    this.ended = false;
    this.welcomes = 0;
    // This tab has been in the room before (a reload): what it had seen of the
    // timeline then is not news now (`heard`, the highest seq whose news was told).
    this.returning = Number.isSafeInteger(session.last_seq);
    this.before = { seq: session.last_seq, epoch: session.epoch };
    this.heard = null;
    this.heardEpoch = null;
    // What became of this member's last message, for the words of a crisis card
    // that follows it: `shared`, `refused` (with the code) or `whisper`.
    this.lastSent = { sent: 'shared' };
    this.myView = new MyView(this);
    this.timeline = new Timeline(this);
    this.outbox = new Outbox(this);
    this.whispers = new Whispers(this);
    this.note = new WarningNote(this);
    this.mute = new MuteNotice(this);
    this.composer = new Composer(this);
    this.waitingScreen = new WaitingScreen(this);
    this.waiting = false; // in the waiting room: the screen shows instead of the room
    this.banners = new Banners(this);
    this.people = new PeopleList(this);
    this.typing = new TypingLine(this);
    this.script = new SessionScript(this);
    this.moods = new Moods(this);
    // Last: it places the parts above on the page.
    this.layout = new RoomLayout(this);
    this.conn = new Connection(session, {
      onWelcome: (f, o) => this.onWelcome(f, o),
      onMembers: (m) => this.onMembers(m),
      onBlocked: () => this.banners.tooManyTabs(),
      onEvent: (f, o) => this.onEvent(f, o),
      onPrivate: (f) => this.onPrivate(f),
      onOpen: () => this.onOpen(),
      onStatus: (s) => this.banners.status(s),
      onEnd: (e) => this.onEnd(e),
    });
    this.conn.start();
  }

  // The room as facilitator.js reads it.
  get me() { return this.model.me; }
  get room() { return this.model.summary; }
  get state() { return this.model.state; }
  get members() { return this.model.members; }
  get input() { return this.composer.input; }
  nameOf(user) { return this.model.nameOf(user); }
  isFacilitator() { return this.model.isFacilitator(); }

  // ---- connection -----------------------------------------------------------

  onWelcome(f, { reset }) {
    this.model.welcome(f);
    this.composer.setTopics(this.model.cwTopics);
    this.layout.retitle(f.room);
    // A waiting welcome: the room's door, not the room (§10 "The waiting room").
    if (f.you.waiting) {
      this.waiting = true;
      this.layout.hide();
      this.waitingScreen.show(f.room, f.you);
      return;
    }
    this.welcomes += 1;
    announcer.forRoom(this.session.room, f.epoch);
    this.myView.welcome(f);
    if (this.heard === null || this.heardEpoch !== f.epoch) {
      // The first welcome of this page: news begins after what this tab saw before a
      // reload, or after the welcome (what came before is the conversation so far).
      // A new history (epoch) tells nothing of the old apart: nothing in it is news.
      const before = this.heard === null && this.before.epoch === f.epoch && Number.isSafeInteger(this.before.seq);
      this.heard = before ? this.before.seq : f.seq;
      this.heardEpoch = f.epoch;
    }
    const admitted = this.waiting;
    if (admitted) {
      this.waiting = false;
      this.waitingScreen.hide();
      this.layout.show();
    }
    // A note still waiting to be read comes again right after the backlog (§11);
    // one read meanwhile in another tab does not, so it is put away until then.
    this.note.set(null, { quiet: true });
    if (reset) {
      this.timeline.clear();
      this.outbox.reset();
    } else {
      this.timeline.refold(); // the room's topics may have changed meanwhile
    }
    this.timeline.setBusy(true);
    announcer.hold();
    if (f.you.role === 'facilitator' && !this.facilitator) {
      this.facilitator = new FacilitatorTools(this);
      this.layout.addFacilitator(this.facilitator);
      this.whispers.forFacilitator();
    }
    // The session's whispers follow every welcome: they replace the list (§5).
    this.whispers.welcomed();
    this.facilitator?.welcomed();
    this.moods.button.hidden = f.you.role === 'facilitator';
    this.moods.welcome(f.moods);
    this.renderAll();
    this.script.welcome(f.state.script, { reset });
    if (admitted) {
      this.composer.focus();
      notify('You are in. Welcome to the group.');
    }
  }

  /** The rest of the welcome's member list (`members` frames, PROTOCOL.md §11). */
  onMembers(members) {
    this.model.addMembers(members);
    this.people.render();
  }

  onOpen() {
    this.whispers.caughtUp();
    this.timeline.setBusy(false);
    announcer.release();
    this.layout.scrollToEnd(true);
    this.outbox.resend();
  }

  onEnd(end) {
    this.ended = true;
    this.moods.ended();
    if (this.waiting) {
      endWaiting(this, end.reason, end.error);
      return;
    }
    endRoom(this, end);
  }

  async leave() {
    const ok = await ask({
      title: 'Leave the room?',
      body: 'You can come back later by joining again with any name.',
      confirmLabel: 'Leave',
      cancelLabel: 'Stay',
    });
    if (ok) this.conn.leave();
  }

  /** "I need a minute", or back from it: the room sees it beside this member's name. */
  toggleStepAway() {
    const me = this.model.myself();
    if (!this.conn.send({ type: 'step_away', on: !(me && me.stepping_away) })) {
      notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
    }
  }

  toggleHand() {
    const me = this.model.myself();
    const raised = !(me && me.hand_raised);
    if (!this.conn.send({ type: 'hand', raised })) {
      notify('You are offline right now; please try again in a moment.', { tone: 'warn' });
    }
  }

  // ---- timeline -------------------------------------------------------------

  onEvent(f, { backlog }) {
    const stick = this.layout.nearEnd();
    if (!backlog) this.model.apply(f);
    if (f.type === 'left' && this.model.isMe(f.user)) this.leftReason = f.reason;
    if (f.type === 'closed') this.closedReason = f.reason || '';
    this.timeline.show(f);
    // Told once, and only what is news to this person (a backlog's older part is not).
    if (f.seq > this.heard) {
      this.heard = f.seq;
      this.tell(f);
    }
    if (['message', 'left', 'stepped_out', 'away'].includes(f.type)) this.typing.stop(f.user);
    if (!backlog) {
      if (['muted', 'unmuted', 'paused', 'resumed', 'floor', 'held', 'unheld'].includes(f.type)) this.typing.stop(f.user);
      this.renderState();
      if (MEMBER_EVENTS.has(f.type)) this.people.render();
      this.facilitator?.refresh();
      this.script.onEvent(f);
    }
    this.layout.scrollToEnd(stick);
  }

  /**
   * What a screen reader hears of a timeline event that is news: a message from
   * someone else, and the changes to whether and how this member can take part, in
   * the words the timeline shows. Arrivals, departures and others' mutes are only
   * seen; the session's end is said by ending.js, with what comes next.
   */
  tell(f) {
    const me = (user) => this.model.isMe(user);
    const line = this.timeline.lastLine;
    switch (f.type) {
      case 'message': {
        // A message this member folded is not read out: its fold is, unless they hid its writer.
        if (me(f.user) || f.redacted) break;
        const fold = this.myView.fold(f);
        if (!fold) announcer.message(`${f.name}: ${f.text}`);
        else if (fold.why !== 'hidden') announcer.message(`${f.name}: ${fold.label}`);
        break;
      }
      // A hold is for participants: a facilitator's arrival is what ends it.
      case 'held':
      case 'unheld':
        if (!this.isFacilitator()) announcer.say(line);
        break;
      case 'paused':
      case 'resumed':
      case 'opened':
      case 'slow_mode':
        announcer.say(line);
        break;
      case 'announcement':
        if (f.text) announcer.say(`Pinned announcement: ${f.text}`);
        break;
      case 'floor':
        if (me(f.user)) announcer.say('You have the floor. Take your time.');
        break;
      case 'unmuted':
        if (me(f.user)) announcer.say('Your mute has ended. You can post again.');
        break;
      default:
        break;
    }
  }

  // ---- state, members -------------------------------------------------------

  renderAll() {
    this.renderState();
    this.people.render();
    this.facilitator?.refresh();
  }

  /** Everything the room's state decides: banners, a mute, the hand, the composer. */
  renderState() {
    this.banners.render();
    this.mute.render();
    const me = this.model.myself();
    this.layout.showHand(!!(me && me.hand_raised));
    this.layout.showSteppingAway(!!(me && me.stepping_away));
    this.renderComposer();
  }

  /** The composer's state: whether it takes a message, and why not (composer.js). */
  renderComposer() {
    this.composer.render();
  }

  // ---- private frames -------------------------------------------------------

  onPrivate(f) {
    switch (f.type) {
      case 'ack':
        if (this.facilitator?.onAck(f)) break;
        if (this.outbox.onAck(f)) this.lastSent = { sent: f.seq !== undefined && f.seq !== null ? 'shared' : 'refused' };
        break;
      case 'error': {
        if (f.client_id) {
          if (this.facilitator?.onError(f)) break;
          this.lastSent = { sent: 'refused', why: REFUSED_BECAUSE[f.code], waits: f.code === 'consider' };
          if (this.outbox.onError(f)) break;
        }
        if (['unauthorized', 'banned', 'closed', 'not_found', 'room_full', 'locked', 'timeout', 'slow_consumer', 'internal', 'rate_limited'].includes(f.code) && !this.conn.live) {
          break; // About the connection itself: the close that follows tells the story.
        }
        // Turned away from the waiting room: the close that follows ends the page kindly.
        if (f.code === 'denied') break;
        if (f.code === 'waiting') {
          if (this.waiting) this.waitingScreen.say(WAITING_TEXT);
          else notify(WAITING_TEXT);
          break;
        }
        // The whisper was not delivered (no facilitator here, or no such member).
        if (this.whispers.onError(f)) break;
        notify(f.message || 'Something went wrong.', { tone: 'warn' });
        break;
      }
      case 'typing':
        this.typing.show(f);
        break;
      case 'whisper':
        // Someone waiting reads their word with the facilitators on the waiting screen.
        if (this.waiting) this.waitingScreen.whisper(f);
        else this.whispers.add(f);
        break;
      case 'concern_noted':
        notify(`Thank you for looking out for ${f.name}. ${f.told ? 'The facilitators have been told' : 'The facilitators will see it as soon as one is here'}, and ${f.name} will not be told it was you.`);
        break;
      case 'crisis_resources': {
        // What is true of the message that brought it: shared (a `seq`), or not.
        const context = Number.isSafeInteger(f.seq) ? { sent: 'shared' } : { ...this.lastSent };
        if (context.sent === 'shared' && !Number.isSafeInteger(f.seq)) context.sent = 'refused';
        context.facilitated = this.model.summary.facilitated !== false;
        help.show(f, context);
        break;
      }
      case 'mute_notice':
        this.mute.on(f);
        break;
      case 'alert':
        this.facilitator?.addAlert(f);
        break;
      case 'waiting':
        this.facilitator?.onWaiting(f.members);
        break;
      case 'mod_log':
        this.facilitator?.onModLog(f.entries);
        break;
      case 'share_the_air':
        // Only ever given to a facilitator; the people list shows it quietly.
        if (this.facilitator) {
          this.air = f.members;
          this.people.render();
        }
        break;
      case 'mood':
        if (this.facilitator) this.moods.onMood(f);
        break;
      case 'debrief':
        if (this.facilitator) this.moods.onDebrief(f);
        break;
      case 'warning':
        if (this.facilitator) this.facilitator.addWarning(f);
        else this.note.on(f);
        break;
      default:
        console.info('kindred: ignoring a frame of unknown type', f.type);
    }
  }

  /** Open the private message box addressed to one member (facilitators). */
  whisperToMember(user) {
    this.whispers.writeTo(user);
  }
}
