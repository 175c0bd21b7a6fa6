// The room as this member knows it: who they are, who is here, and the room's live
// state, kept current from `welcome`, `members` and the timeline's live events.
// No DOM here: the parts chat.js wires (banners.js, people.js, timeline.js…) draw
// what this holds (PROTOCOL.md §11, §12).

/** Timeline events that change the member list. */
export const MEMBER_EVENTS = new Set(['joined', 'left', 'stepped_out', 'away', 'back', 'stepping_away', 'muted', 'unmuted', 'hand', 'floor']);

export class RoomModel {
  /** `summary`: the RoomSummary the page was opened with. */
  constructor(summary) {
    this.summary = summary;
    this.me = null;
    this.members = new Map();
    this.names = new Map(); // user → the name last seen, kept after they leave
    this.state = {};
  }

  /** Start again from a `welcome`: its `you`, room, members and state. */
  welcome(f) {
    this.me = f.you;
    this.summary = f.room;
    this.members = new Map(f.members.map((m) => [m.user, { ...m }]));
    for (const m of f.members) this.names.set(m.user, m.name);
    this.state = { ...f.state };
    // The room's content-warning topics (the composer's picker, a facilitator's menu).
    this.cwTopics = Array.isArray(f.cw_topics) ? f.cw_topics : [];
  }

  /** The rest of the welcome's member list (`members` frames, PROTOCOL.md §11). */
  addMembers(members) {
    for (const m of members) {
      if (!m || !m.user) continue;
      this.members.set(m.user, { ...m });
      this.names.set(m.user, m.name);
    }
  }

  /** Keep members and room state current with a live event. */
  apply(f) {
    const member = (user) => this.members.get(user);
    switch (f.type) {
      case 'joined':
        this.members.set(f.member.user, { ...f.member });
        break;
      case 'left':
      case 'stepped_out':
        this.members.delete(f.user);
        break;
      case 'away':
      case 'back': {
        // Their connection dropped (their seat is kept), or they are back in it.
        const m = member(f.user);
        if (m) m.away = f.type === 'away';
        break;
      }
      case 'stepping_away': {
        // "I need a minute", or back from it.
        const m = member(f.user);
        if (m) m.stepping_away = !!f.on;
        break;
      }
      case 'muted': {
        const m = member(f.user);
        if (m) { m.muted = true; m.muted_until = f.until; }
        break;
      }
      case 'unmuted': {
        const m = member(f.user);
        if (m) { m.muted = false; delete m.muted_until; }
        break;
      }
      case 'paused': this.state.paused = true; break;
      case 'resumed': this.state.paused = false; break;
      case 'opened': this.state.open = true; break;
      case 'held': this.state.held = true; break;
      case 'unheld': this.state.held = false; break;
      case 'closed': this.state.open = false; break;
      case 'slow_mode': this.state.slow_mode_seconds = f.seconds; break;
      case 'locked': this.state.locked = f.locked; break;
      case 'waiting_room': this.state.waiting_room = !!f.on; break;
      case 'shield':
        // One event for all the shield changed: what is in force now.
        this.state.shield = !!f.on;
        this.state.waiting_room = !!f.waiting_room;
        this.state.slow_mode_seconds = f.slow_mode_seconds;
        break;
      case 'floor':
        this.state.floor = f.user;
        this.state.floor_until = f.until;
        break;
      case 'hand': {
        const m = member(f.user);
        if (m) m.hand_raised = f.raised;
        break;
      }
      case 'announcement': this.state.announcement = f.text; break;
      default: break;
    }
  }

  /** Remember a name seen on a message or an arrival. */
  saw(user, name) {
    this.names.set(user, name);
  }

  nameOf(user) {
    return this.names.get(user) || 'A member';
  }

  /** This member's own entry in the member list, once welcomed. */
  myself() {
    return this.me ? this.members.get(this.me.user) : undefined;
  }

  isMe(user) {
    return !!(this.me && user === this.me.user);
  }

  isFacilitator() {
    return !!(this.me && this.me.role === 'facilitator');
  }
}
