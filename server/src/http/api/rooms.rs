//! The admin API's rooms, and the public directory.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kindred_protocol::http::{AdminRoom, AdminRoomList, CreateRoom, RoomList, UpdateRoom};
use kindred_protocol::{ErrorCode, Phase, RoomId, RoomSummary, Schedule, Visibility};

use super::{Admin, MAX_TEXT_CHARS, MAX_TITLE_CHARS, MaybeAdmin, admin_body, bounded, room_id};
use crate::clock::now_ms;
use crate::http::forwarded::limit_key;
use crate::http::{AppError, rate_limited};
use crate::room::DEFAULT_GUIDELINES;
use crate::room::{self, RoomConfig};
use crate::schedule::{self, CalendarEntry, dated};
use crate::state::AppState;

fn check_capacity(app: &AppState, capacity: u32) -> Result<(), AppError> {
    if capacity == 0 || capacity > app.config.rooms.max_room_capacity {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            format!(
                "capacity must be between 1 and {}",
                app.config.rooms.max_room_capacity
            ),
        ));
    }
    Ok(())
}

/// A session script the operator gave, checked as a facilitator's is.
fn check_script(script: Option<Vec<Phase>>) -> Result<Option<Vec<Phase>>, AppError> {
    if let Some(phases) = &script {
        room::script::check_script(phases).map_err(|problem| {
            AppError::new(ErrorCode::BadRequest, format!("script: {problem}"))
        })?;
    }
    Ok(script)
}

fn check_schedule(schedule: Option<Schedule>) -> Result<Option<Schedule>, AppError> {
    schedule
        .map(schedule::checked)
        .transpose()
        .map_err(|e| AppError::new(ErrorCode::BadRequest, e.to_string()))
}

/// The content-warning topics the operator gave, checked (trimmed, bounded, none
/// twice).
fn check_cw_topics(topics: Option<Vec<String>>) -> Result<Option<Vec<String>>, AppError> {
    topics
        .map(room::check_cw_topics)
        .transpose()
        .map_err(|problem| AppError::new(ErrorCode::BadRequest, format!("cw_topics: {problem}")))
}

/// The operator's view of a room: its summary, dated, its content policy and its
/// content-warning topics.
async fn admin_view(app: &AppState, summary: RoomSummary) -> Result<AdminRoom, AppError> {
    let config = app.broker.settings(summary.id).await?;
    Ok(AdminRoom {
        room: dated(summary, now_ms()),
        policy: config.policy,
        cw_topics: config.cw_topics,
    })
}

pub async fn create_room(
    State(app): State<Arc<AppState>>,
    _: Admin,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<AdminRoom>), AppError> {
    let req: CreateRoom = admin_body(&body?, None)?;
    let title = req.title.trim().to_owned();
    if title.is_empty() {
        return Err(AppError::new(ErrorCode::BadRequest, "a room needs a title"));
    }
    bounded("title", &title, MAX_TITLE_CHARS)?;
    bounded("topic", &req.topic, MAX_TITLE_CHARS)?;
    bounded("description", &req.description, MAX_TEXT_CHARS)?;
    let guidelines = req
        .guidelines
        .filter(|g| !g.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_GUIDELINES.to_owned());
    bounded("guidelines", &guidelines, MAX_TEXT_CHARS)?;
    let capacity = req.capacity.unwrap_or(app.config.rooms.room_capacity);
    check_capacity(&app, capacity)?;
    let schedule = check_schedule(req.schedule)?;
    let script = check_script(req.script)?;
    let cw_topics = check_cw_topics(req.cw_topics)?.unwrap_or_else(room::default_cw_topics);
    let id = RoomId::new();
    let now = now_ms();
    let summary = app
        .broker
        .create_room(
            id,
            RoomConfig {
                title,
                topic: req.topic,
                description: req.description,
                guidelines,
                capacity,
                visibility: req.visibility,
                policy: req.policy.unwrap_or_default(),
                facilitated: req.facilitated.unwrap_or(true),
                schedule,
                waiting_room: req.waiting_room.unwrap_or(false),
                cw_topics,
            },
            now,
        )
        .await?;
    tracing::info!(
        room = %id,
        open = req.open == Some(true),
        capacity,
        unlisted = req.visibility == Visibility::Unlisted,
        "room created by the operator"
    );
    // A session opened at once and a script of the operator's own are the room's
    // first changes, through its log like any other.
    let first = room::UpdateRoom {
        open: (req.open == Some(true)).then_some(true),
        script,
        ..room::UpdateRoom::default()
    };
    let summary = if first == room::UpdateRoom::default() {
        summary
    } else {
        configure(&app, id, first).await?
    };
    Ok((StatusCode::CREATED, Json(admin_view(&app, summary).await?)))
}

/// `GET /api/rooms`: the public directory, rate-limited per address and served from
/// a short cache ([`crate::state::RoomDirectory`]); with the admin token, every room (unlisted
/// ones too) with its content policy, so a room whose id was lost can be found: read
/// afresh every time, never limited.
pub async fn list_rooms(
    State(app): State<Arc<AppState>>,
    MaybeAdmin(admin): MaybeAdmin,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if admin {
        let mut rooms = Vec::new();
        for summary in app.broker.rooms().await? {
            match admin_view(&app, summary).await {
                Ok(room) => rooms.push(room),
                // Deleted between the two reads.
                Err(e) if e.code == ErrorCode::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        rooms.sort_by(|a, b| {
            a.room
                .title
                .cmp(&b.room.title)
                .then(a.room.id.cmp(&b.room.id))
        });
        return Ok(Json(AdminRoomList { rooms }).into_response());
    }
    let ip = crate::http::client_ip(&app, &peer, &headers);
    app.directory
        .admit(limit_key(ip, app.config.edge.ipv6_prefix))
        .map_err(|wait| {
            rate_limited(
                "too many requests for the list of groups from your address; please wait a moment",
                wait,
            )
        })?;
    let body = app.directory.list(|| public_rooms(&app)).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The public rooms, by title, as the JSON the directory sends.
async fn public_rooms(app: &AppState) -> Result<Bytes, AppError> {
    let now = now_ms();
    let mut rooms: Vec<RoomSummary> = app
        .broker
        .rooms()
        .await?
        .into_iter()
        .filter(|r| r.visibility == Visibility::Public)
        .map(|r| dated(r, now))
        .collect();
    rooms.sort_by(|a, b| a.title.cmp(&b.title));
    serde_json::to_vec(&RoomList { rooms })
        .map(Bytes::from)
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
}

/// `GET /api/rooms/{id}`: the room's summary; with the admin token, its policy too.
pub async fn get_room(
    State(app): State<Arc<AppState>>,
    MaybeAdmin(admin): MaybeAdmin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let summary = app.broker.room(room_id(&id)?).await?;
    if admin {
        return Ok(Json(admin_view(&app, summary).await?).into_response());
    }
    Ok(Json(dated(summary, now_ms())).into_response())
}

/// `GET /api/rooms/{id}/calendar.ics`: the room's weekly schedule as an iCalendar
/// feed a calendar app can subscribe to. `not_found` for a room without a schedule.
pub async fn calendar(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let id = room_id(&id)?;
    let room = app.broker.room(id).await?;
    let no_schedule = || AppError::new(ErrorCode::NotFound, "this room has no schedule");
    let schedule = room.schedule.as_ref().ok_or_else(no_schedule)?;
    let url = match app.config.edge.public_url.as_deref().map(str::trim) {
        Some(base) if !base.is_empty() => {
            Some(format!("{}/?room={id}", base.trim_end_matches('/')))
        }
        _ => None,
    };
    let entry = CalendarEntry {
        room: id,
        title: &room.title,
        topic: &room.topic,
        url: url.as_deref(),
        schedule,
    };
    let body = schedule::calendar(&entry, now_ms()).ok_or_else(no_schedule)?;
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    ))
}

pub async fn update_room(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AdminRoom>, AppError> {
    let id = room_id(&id)?;
    let mut update: UpdateRoom = admin_body(&body?, Some(UpdateRoom::default()))?;
    if let Some(t) = &update.title {
        if t.trim().is_empty() {
            return Err(AppError::new(ErrorCode::BadRequest, "a room needs a title"));
        }
        bounded("title", t, MAX_TITLE_CHARS)?;
    }
    for (field, value, max) in [
        ("topic", &update.topic, MAX_TITLE_CHARS),
        ("description", &update.description, MAX_TEXT_CHARS),
        ("guidelines", &update.guidelines, MAX_TEXT_CHARS),
    ] {
        if let Some(v) = value {
            bounded(field, v, max)?;
        }
    }
    if let Some(c) = update.capacity {
        check_capacity(&app, c)?;
    }
    // `Some(None)` (remove the schedule) and `None` (leave it) need no check.
    update.schedule = match update.schedule.take() {
        Some(Some(s)) => Some(check_schedule(Some(s))?),
        other => other,
    };
    update.script = check_script(update.script.take())?;
    update.cw_topics = check_cw_topics(update.cw_topics.take())?;
    let changed = changed_fields(&update);
    let summary = configure(&app, id, settings(update)).await?;
    tracing::info!(room = %id, changed = %changed, "room changed by the operator");
    Ok(Json(admin_view(&app, summary).await?))
}

/// Change a room's settings: a command through the room's log like any other
/// (members hear of a new policy, a session opened or closed, the waiting room).
async fn configure(
    app: &AppState,
    id: RoomId,
    update: room::UpdateRoom,
) -> Result<RoomSummary, AppError> {
    app.broker
        .apply(id, room::Command::Configure(Box::new(update)), now_ms())
        .await?;
    Ok(app.broker.room(id).await?)
}

/// A `PATCH` body, checked, as the room's change of settings.
fn settings(body: UpdateRoom) -> room::UpdateRoom {
    let UpdateRoom {
        title,
        topic,
        description,
        guidelines,
        capacity,
        visibility,
        policy,
        open,
        facilitated,
        waiting_room,
        schedule,
        script,
        cw_topics,
    } = body;
    room::UpdateRoom {
        title,
        topic,
        description,
        guidelines,
        capacity,
        visibility,
        policy,
        open,
        facilitated,
        waiting_room,
        schedule,
        script,
        cw_topics,
    }
}

/// The names of the fields a `PATCH` sets (never their values), for its log line.
fn changed_fields(update: &UpdateRoom) -> String {
    let fields = [
        ("title", update.title.is_some()),
        ("topic", update.topic.is_some()),
        ("description", update.description.is_some()),
        ("guidelines", update.guidelines.is_some()),
        ("capacity", update.capacity.is_some()),
        ("visibility", update.visibility.is_some()),
        ("policy", update.policy.is_some()),
        ("open", update.open.is_some()),
        ("facilitated", update.facilitated.is_some()),
        ("waiting_room", update.waiting_room.is_some()),
        ("schedule", update.schedule.is_some()),
        ("script", update.script.is_some()),
        ("cw_topics", update.cw_topics.is_some()),
    ];
    let names: Vec<&str> = fields
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect();
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(",")
    }
}

pub async fn delete_room(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let id = room_id(&id)?;
    app.broker
        .apply(id, room::Command::Delete, now_ms())
        .await?;
    tracing::info!(room = %id, "room deleted by the operator");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use kindred_protocol::http::UpdateRoom;
    use kindred_protocol::policy::{ContentPolicy, PolicyMode};
    use kindred_protocol::{Schedule, Visibility, Weekday};

    use super::settings;
    use crate::room;

    /// The Redis broker's log carries the room's change as it serialises; instances of
    /// the release before kept the `PATCH` body there. Both must read what the other
    /// wrote, so the two are written alike, field for field.
    #[test]
    fn a_patch_and_the_rooms_change_of_settings_are_written_alike() {
        let tuesday = Schedule {
            weekday: Weekday::Tuesday,
            start: "19:00".into(),
            minutes: 90,
            timezone: "Europe/London".into(),
        };
        let everything = UpdateRoom {
            title: Some("Tuesday circle".into()),
            topic: Some("grief".into()),
            description: Some("a weekly group".into()),
            guidelines: Some("be kind".into()),
            capacity: Some(12),
            visibility: Some(Visibility::Unlisted),
            policy: Some(ContentPolicy {
                mode: PolicyMode::Hold,
                ..ContentPolicy::default()
            }),
            open: Some(true),
            facilitated: Some(false),
            waiting_room: Some(true),
            schedule: Some(Some(tuesday)),
            script: Some(crate::room::script::default_script()),
            cw_topics: Some(vec!["grief".into(), "loss of a pet".into()]),
        };
        let removal = UpdateRoom {
            schedule: Some(None),
            ..UpdateRoom::default()
        };
        for body in [everything, removal, UpdateRoom::default()] {
            let written = serde_json::to_value(&body).unwrap();
            let change = settings(body.clone());
            assert_eq!(serde_json::to_value(&change).unwrap(), written);
            let read: room::UpdateRoom = serde_json::from_value(written.clone()).unwrap();
            assert_eq!(read, change, "the room reads what a body wrote: {written}");
            let back: UpdateRoom =
                serde_json::from_value(serde_json::to_value(&change).unwrap()).unwrap();
            assert_eq!(back, body, "a body reads what the room wrote: {written}");
        }
    }
}
