//! Bodies of the HTTP API. Errors come as [`HttpError`] with a stable [`ErrorCode`].

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::ids::{InviteId, Millis, RoomId, UserId};
use crate::policy::ContentPolicy;
use crate::schedule::{NextSession, Schedule};
use crate::script::Phase;
use crate::server_frame::{Role, RoomSummary, Visibility};

/// `POST /api/rooms` (admin). Absent fields take the server's defaults; an unknown
/// field is refused (`bad_request` naming it), inside `policy` and `schedule` too
/// (`policy.mdoe`), so an operator's typo is not silently a default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    pub title: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub description: String,
    /// The group's guidelines; every member accepts them before joining. Absent: the
    /// server's default guidelines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidelines: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub visibility: Visibility,
    /// The content policy; absent: flag slurs and harassment to facilitators.
    #[serde(
        default,
        deserialize_with = "strict::policy",
        skip_serializing_if = "Option::is_none"
    )]
    pub policy: Option<ContentPolicy>,
    /// Start with a session open (a drop-in room, a load test); absent: closed, until a
    /// facilitator opens it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// `false` makes a drop-in room that is never held for want of a facilitator (and
    /// says plainly that nobody is watching it); absent: `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitated: Option<bool>,
    /// Participants wait until a facilitator admits them; absent: `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<bool>,
    /// When the group meets each week; absent: no schedule.
    #[serde(
        default,
        deserialize_with = "strict::schedule",
        skip_serializing_if = "Option::is_none"
    )]
    pub schedule: Option<Schedule>,
    /// The session script; absent: the one Kindred ships (see PROTOCOL.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<Vec<Phase>>,
    /// The content-warning topics members are offered (`welcome.cw_topics`); absent:
    /// the list Kindred ships (see PROTOCOL.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cw_topics: Option<Vec<String>>,
}

/// `PATCH /api/rooms/{id}` (admin): only the fields present change; an empty body
/// changes nothing; an unknown field is refused, inside `policy` and `schedule` too.
/// The Redis broker's log carries it as written by [`Serialize`], which gives only the
/// fields these types know.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoom {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidelines: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    #[serde(
        default,
        deserialize_with = "strict::policy",
        skip_serializing_if = "Option::is_none"
    )]
    pub policy: Option<ContentPolicy>,
    /// Open a session (`true`), or close the one that is on (`false`: its members are
    /// told and disconnected, as by a facilitator's `close`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitated: Option<bool>,
    /// Turning it off admits everyone waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<bool>,
    /// Absent: the schedule stays as it is; `null`: the room no longer has one; a
    /// schedule: the new one. (`Option<Option<_>>` through [`crate::schedule::present`], so `null` is
    /// not taken for absent.)
    #[serde(
        default,
        deserialize_with = "strict::present_schedule",
        skip_serializing_if = "Option::is_none"
    )]
    pub schedule: Option<Option<Schedule>>,
    /// A new session script: members hear of it, and no phase is current after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<Vec<Phase>>,
    /// The content-warning topics members are offered from now on (those who arrive
    /// after it find them in their `welcome`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cw_topics: Option<Vec<String>>,
}

/// `GET /api/rooms`: the public directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomList {
    pub rooms: Vec<RoomSummary>,
}

/// A room as the operator sees it: what the admin API answers (create, `PATCH`, and
/// `GET` with the admin token). The public summary's fields, and the content policy
/// the summary does not show, so a change can be checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminRoom {
    #[serde(flatten)]
    pub room: RoomSummary,
    pub policy: ContentPolicy,
    /// The content-warning topics members are offered.
    #[serde(default)]
    pub cw_topics: Vec<String>,
}

/// `GET /api/rooms` with the admin token: every room, unlisted ones included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminRoomList {
    pub rooms: Vec<AdminRoom>,
}

/// `POST /api/rooms/{id}/invites` (admin): mint a facilitator invite. Every field
/// is optional; an empty body (or none) takes the defaults; an unknown field is
/// refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInvite {
    /// How long the invite may be used; absent: the server's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
    /// How many facilitators may join with it (1–50); absent: once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<u32>,
}

/// A facilitator invite as the room keeps it. `token` and `url` come only in the
/// answer to the `POST` that minted it: the server does not hand them out again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    pub id: InviteId,
    /// Pass as `invite` when joining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A path for the web client, the token in its fragment (`/?room={id}#invite=…`),
    /// so it never reaches a server's or a proxy's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub role: Role,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// How many joins it allows, and how many it has had.
    pub uses: u32,
    pub used: u32,
    /// The members who joined with it and still hold their seat this session.
    /// Revoking the invite ends those seats.
    pub members: Vec<UserId>,
}

/// `GET /api/rooms/{id}/invites` (admin): the room's invites, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteList {
    pub invites: Vec<Invite>,
}

/// `POST /api/rooms/{id}/join`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The pseudonym to show (1–32 characters).
    pub name: String,
    /// Must be `true`: the member has read and accepts the group's guidelines.
    pub accept_guidelines: bool,
    /// A facilitator invite token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
    /// A random id this browser keeps for Kindred: 16–64 characters of letters,
    /// digits, `-` and `_`. A ban covers it, so a banned person cannot come back at
    /// once under a new pseudonym. Never a fingerprint: a client that cannot store
    /// one sends an id for the page's life, or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// With an `invite`: a random key this browser keeps for the seat the invite
    /// gives (16–64 characters of letters, digits, `-` and `_`), so that the
    /// facilitator can take the seat back from this browser (`POST
    /// /api/rooms/{id}/seat`) after closing the tab. The server keeps only a keyed
    /// hash of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat_key: Option<String>,
}

/// `POST /api/rooms/{id}/seat`: a facilitator takes their seat back in a browser
/// bound to it, or binds this browser with a one-time `code` from inside the room.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeatRequest {
    /// The key this browser keeps for the seat (16–64 characters of letters, digits,
    /// `-` and `_`).
    pub seat_key: String,
    /// A one-time code for this seat (`SeatCode`), given on the facilitator's other
    /// device: the seat is bound to `seat_key` too, and the code is spent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The browser's device id, as in a join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// `POST /api/rooms/{id}/seat/code`'s answer: a one-time code that puts this
/// facilitator's seat on another device, until `expires_at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeatCode {
    pub code: String,
    /// A path for the web client that carries the code in its fragment (`#seat=`).
    pub url: String,
    pub expires_at: Millis,
}

/// The answer to a join: a session token for `hello`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinResponse {
    pub token: String,
    pub user_id: UserId,
    pub role: Role,
    pub room: RoomId,
    pub expires_at: Millis,
    /// The WebSocket path to connect to, relative to the server.
    pub ws_path: String,
    /// The pseudonym the token carries (a seat taken back keeps the one it was
    /// taken under).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Every HTTP error body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// With `closed` for a room that has a weekly schedule: when its next session
    /// is due, so a participant knows when to come back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_session: Option<NextSession>,
}

/// The admin bodies' reading of the values nested in them: the shapes of
/// [`ContentPolicy`] (with its [`Kinds`](crate::policy::Kinds)) and [`Schedule`], with
/// the same defaults, refusing unknown fields. The types themselves stay lenient: they
/// are also read back from storage (the catalog file, Redis snapshots) and from
/// clients' `set_policy`, where a field written by a later Kindred must not make an
/// earlier one fail. Each conversion names every field on both sides, so a field added
/// to a type and not here does not compile.
mod strict {
    use serde::{Deserialize, Deserializer};

    use crate::policy::{ContentPolicy, GuardMode, Kinds, PolicyMode};
    use crate::schedule::{Schedule, Weekday};

    #[derive(Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct StrictPolicy {
        mode: PolicyMode,
        kinds: StrictKinds,
        guard: GuardMode,
    }

    #[derive(Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct StrictKinds {
        profanity: bool,
        sexual: bool,
        offensive: bool,
        mean: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct StrictSchedule {
        weekday: Weekday,
        start: String,
        minutes: u32,
        timezone: String,
    }

    impl Default for StrictPolicy {
        fn default() -> Self {
            let ContentPolicy { mode, kinds, guard } = ContentPolicy::default();
            Self {
                mode,
                kinds: StrictKinds::from(kinds),
                guard,
            }
        }
    }

    impl Default for StrictKinds {
        fn default() -> Self {
            Self::from(Kinds::default())
        }
    }

    impl From<Kinds> for StrictKinds {
        fn from(kinds: Kinds) -> Self {
            let Kinds {
                profanity,
                sexual,
                offensive,
                mean,
            } = kinds;
            Self {
                profanity,
                sexual,
                offensive,
                mean,
            }
        }
    }

    impl From<StrictPolicy> for ContentPolicy {
        fn from(policy: StrictPolicy) -> Self {
            let StrictPolicy { mode, kinds, guard } = policy;
            let StrictKinds {
                profanity,
                sexual,
                offensive,
                mean,
            } = kinds;
            ContentPolicy {
                mode,
                kinds: Kinds {
                    profanity,
                    sexual,
                    offensive,
                    mean,
                },
                guard,
            }
        }
    }

    impl From<StrictSchedule> for Schedule {
        fn from(schedule: StrictSchedule) -> Self {
            let StrictSchedule {
                weekday,
                start,
                minutes,
                timezone,
            } = schedule;
            Schedule {
                weekday,
                start,
                minutes,
                timezone,
            }
        }
    }

    /// `policy`: absent or `null` is `None`.
    pub fn policy<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ContentPolicy>, D::Error> {
        Option::<StrictPolicy>::deserialize(d).map(|p| p.map(ContentPolicy::from))
    }

    /// `schedule` on create: absent or `null` is `None`.
    pub fn schedule<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Schedule>, D::Error> {
        Option::<StrictSchedule>::deserialize(d).map(|s| s.map(Schedule::from))
    }

    /// `schedule` on `PATCH`, as [`crate::schedule::present`] reads it: called only
    /// when the field is present, so `null` is `Some(None)` (remove it).
    pub fn present_schedule<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<Schedule>>, D::Error> {
        schedule(d).map(Some)
    }
}

/// `GET /readyz`: whether this instance should be given new connections and, when
/// not, why. Answered with `200` when `ready`, `503` otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    /// The broker is reachable and the instance is not draining.
    pub ready: bool,
    pub broker: BrokerState,
    pub catalog: CatalogState,
    /// The instance is shutting down: it takes no new connections.
    pub draining: bool,
}

/// Whether the room store answers (always `ok` in memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokerState {
    Ok,
    /// Redis does not answer: commands are refused with `internal` meanwhile.
    Unreachable,
}

/// Whether every room's catalog record this instance changed is stored (with Redis:
/// in Redis's catalog, which the other instances' directories read). Not a reason to
/// take the instance out of the balancer: it is stored again until it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogState {
    Ok,
    Unstored,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Kinds, PolicyMode};

    #[test]
    fn an_unknown_field_inside_an_admin_bodys_policy_or_schedule_is_refused() {
        for body in [
            r#"{"title":"x","policy":{"mdoe":"hold"}}"#,
            r#"{"title":"x","policy":{"mode":"hold","kinds":{"profanty":true}}}"#,
            r#"{"title":"x","schedule":{"weekday":"monday","start":"19:00","minutes":60,"timezone":"UTC","wekday":"monday"}}"#,
        ] {
            let e = serde_json::from_str::<CreateRoom>(body).unwrap_err();
            assert!(e.to_string().contains("unknown field"), "{body}: {e}");
            let patch = body.replace(r#""title":"x","#, "");
            let e = serde_json::from_str::<UpdateRoom>(&patch).unwrap_err();
            assert!(e.to_string().contains("unknown field"), "{patch}: {e}");
        }
    }

    #[test]
    fn the_strict_reading_keeps_the_defaults_of_the_lenient_one() {
        for policy in [
            r#"{}"#,
            r#"{"mode":"hold"}"#,
            r#"{"kinds":{"profanity":true}}"#,
            r#"{"mode":"censor","kinds":{"offensive":false,"mean":false}}"#,
        ] {
            let lenient: ContentPolicy = serde_json::from_str(policy).unwrap();
            let create: CreateRoom =
                serde_json::from_str(&format!(r#"{{"title":"x","policy":{policy}}}"#)).unwrap();
            assert_eq!(create.policy, Some(lenient), "{policy}");
            let patch: UpdateRoom =
                serde_json::from_str(&format!(r#"{{"policy":{policy}}}"#)).unwrap();
            assert_eq!(patch.policy, Some(lenient), "{policy}");
        }
        let none: CreateRoom = serde_json::from_str(r#"{"title":"x","policy":null}"#).unwrap();
        assert_eq!((none.policy, none.schedule), (None, None));
        let remove: UpdateRoom = serde_json::from_str(r#"{"schedule":null}"#).unwrap();
        assert_eq!(remove.schedule, Some(None));
        let keep: UpdateRoom = serde_json::from_str("{}").unwrap();
        assert_eq!(keep.schedule, None);
    }

    #[test]
    fn an_update_reads_back_as_the_redis_log_writes_it_and_stored_types_stay_lenient() {
        let update = UpdateRoom {
            policy: Some(ContentPolicy {
                mode: PolicyMode::Hold,
                kinds: Kinds::ALL,
                guard: crate::policy::GuardMode::Hold,
            }),
            schedule: Some(Some(Schedule {
                weekday: crate::schedule::Weekday::Tuesday,
                start: "19:00".into(),
                minutes: 90,
                timezone: "Europe/London".into(),
            })),
            ..UpdateRoom::default()
        };
        let logged: UpdateRoom =
            serde_json::from_str(&serde_json::to_string(&update).unwrap()).unwrap();
        assert_eq!(logged, update);
        // What storage and clients' frames read is not the admin API's strict shape.
        let stored: ContentPolicy =
            serde_json::from_str(r#"{"mode":"hold","kinds":{"mean":true,"later":1},"later":2}"#)
                .unwrap();
        assert_eq!(stored.mode, PolicyMode::Hold);
        let stored: Schedule = serde_json::from_str(
            r#"{"weekday":"monday","start":"19:00","minutes":60,"timezone":"UTC","later":1}"#,
        )
        .unwrap();
        assert_eq!(stored.minutes, 60);
    }
}
