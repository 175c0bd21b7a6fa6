//! A room's weekly schedule: the directory says when the group next meets, a
//! participant who comes between sessions is told, and a calendar app can subscribe to
//! the schedule. A schedule never opens the room: the facilitator still does.

use icalendar::parser::{Component, read_calendar, unfold};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kindred_protocol::client::ClientError;
use kindred_protocol::http::{CreateRoom, UpdateRoom};
use kindred_protocol::{ErrorCode, NextSession, RoomId, RoomSummary, Schedule, Weekday};
use kindred_tests::{ADMIN, TestServer, WAIT};

fn tuesday_evening() -> Schedule {
    Schedule {
        weekday: Weekday::Tuesday,
        start: "19:00".into(),
        minutes: 90,
        timezone: "Europe/London".into(),
    }
}

fn now() -> Timestamp {
    Timestamp::now()
}

async fn scheduled_room(server: &TestServer) -> RoomSummary {
    server
        .http
        .create_room(
            ADMIN,
            &CreateRoom {
                title: "Tuesday Evening Circle, for carers; all welcome".into(),
                topic: "Anxiety & low mood".into(),
                schedule: Some(tuesday_evening()),
                ..CreateRoom::default()
            },
        )
        .await
        .expect("room created")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(WAIT).build().unwrap()
}

async fn room(server: &TestServer, id: RoomId) -> RoomSummary {
    let res = http()
        .get(format!("{}/api/rooms/{id}", server.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn instant(ms: u64) -> Timestamp {
    Timestamp::from_millisecond(i64::try_from(ms).unwrap()).unwrap()
}

#[tokio::test]
async fn the_directory_shows_when_a_scheduled_group_next_meets() {
    let server = TestServer::start().await;
    let before = now();
    let created = scheduled_room(&server).await;
    assert_eq!(created.schedule, Some(tuesday_evening()));
    let listed = server.http.rooms().await.unwrap().rooms;
    let summary = listed.iter().find(|r| r.id == created.id).expect("listed");
    assert_eq!(summary.schedule, Some(tuesday_evening()));
    assert!(!summary.open, "a schedule does not open the room");
    let next = summary.next_session.expect("a next session");
    // Tuesday, 19:00 on London's clocks, whatever the season.
    let starts = instant(next.starts_at).to_zoned(TimeZone::get("Europe/London").unwrap());
    assert_eq!(starts.weekday(), jiff::civil::Weekday::Tuesday);
    assert_eq!(
        (starts.hour(), starts.minute(), starts.second()),
        (19, 0, 0)
    );
    assert_eq!(next.ends_at - next.starts_at, 90 * 60_000);
    // Not over yet, and no more than a week away.
    assert!(instant(next.ends_at) > before);
    assert!(instant(next.starts_at) <= before + SignedDuration::from_hours(7 * 24));
    assert_eq!(room(&server, created.id).await.next_session, Some(next));
    server.stop().await;
}

#[tokio::test]
async fn a_participant_who_comes_between_sessions_is_told_when_the_group_next_meets() {
    let server = TestServer::start().await;
    let created = scheduled_room(&server).await;
    let next = room(&server, created.id).await.next_session;
    assert!(next.is_some());
    match server.join(created.id, "Alice").await {
        Err(ClientError::Http { status, body }) => {
            let body = body.expect("an error body");
            assert_eq!((status, body.code), (403, ErrorCode::Closed));
            assert_eq!(body.next_session, next);
        }
        other => panic!("expected closed, got {other:?}"),
    }
    // A room without a schedule is closed just the same, with nothing more to say.
    let plain = server
        .http
        .create_room(
            ADMIN,
            &CreateRoom {
                title: "Drop-in".into(),
                ..CreateRoom::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((plain.schedule, plain.next_session), (None, None));
    match server.join(plain.id, "Alice").await {
        Err(ClientError::Http { status, body }) => {
            let body = body.expect("an error body");
            assert_eq!((status, body.code), (403, ErrorCode::Closed));
            assert_eq!(body.next_session, None);
        }
        other => panic!("expected closed, got {other:?}"),
    }
    server.stop().await;
}

fn property<'a>(event: &'a Component<'a>, name: &str) -> &'a str {
    event
        .find_prop(name)
        .unwrap_or_else(|| panic!("the event has no {name}"))
        .val
        .as_str()
}

/// The first start of a weekly event at or after which its end is still ahead: what a
/// calendar app shows as the next occurrence.
fn next_occurrence(first: DateTime, zone: &TimeZone, length: SignedDuration) -> Timestamp {
    let mut local = first;
    loop {
        let starts = zone.to_ambiguous_timestamp(local).compatible().unwrap();
        if starts + length > now() {
            return starts;
        }
        local = local.checked_add(jiff::Span::new().weeks(1)).unwrap();
    }
}

#[tokio::test]
async fn a_calendar_app_reads_the_schedule_as_the_directory_shows_it() {
    let server = TestServer::start().await;
    let created = scheduled_room(&server).await;
    let next: NextSession = room(&server, created.id).await.next_session.unwrap();
    let res = http()
        .get(format!(
            "{}/api/rooms/{}/calendar.ics",
            server.base(),
            created.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/calendar; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
    assert!(text.split("\r\n").all(|line| line.len() <= 75));
    let unfolded = unfold(&text);
    let calendar = read_calendar(&unfolded).expect("a calendar");
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1);
    let event = events[0];
    // Escaped on the wire, the title again once parsed.
    assert!(unfolded.contains("SUMMARY:Tuesday Evening Circle\\, for carers\\; all welcome\r\n"));
    assert_eq!(property(event, "SUMMARY"), created.title);
    assert!(
        event.find_prop("URL").is_none(),
        "no public URL configured: no URL, rather than a path a calendar app cannot open"
    );
    assert!(property(event, "UID").contains(&created.id.to_string()));
    assert!(property(event, "DTSTAMP").ends_with('Z'));
    assert_eq!(property(event, "RRULE"), "FREQ=WEEKLY;BYDAY=TU");
    assert_eq!(property(event, "DURATION"), "PT1H30M");
    let dtstart = event.find_prop("DTSTART").expect("DTSTART");
    let tzid = dtstart
        .params
        .iter()
        .find(|p| p.key.as_str() == "TZID")
        .and_then(|p| p.val.as_ref())
        .expect("DTSTART has a TZID");
    assert_eq!(tzid.as_str(), "Europe/London");
    let local = DateTime::strptime("%Y%m%dT%H%M%S", dtstart.val.as_str()).expect("local time");
    assert_eq!((local.hour(), local.minute()), (19, 0));
    assert_eq!(local.weekday(), jiff::civil::Weekday::Tuesday, "BYDAY=TU");
    let zone = TimeZone::get(tzid.as_str()).unwrap();
    let starts = next_occurrence(local, &zone, SignedDuration::from_mins(90));
    assert_eq!(
        u64::try_from(starts.as_millisecond()).unwrap(),
        next.starts_at
    );
    server.stop().await;
}

#[tokio::test]
async fn the_operator_changes_and_removes_a_schedule() {
    let server = TestServer::start().await;
    let created = scheduled_room(&server).await;
    let url = format!("{}/api/rooms/{}", server.base(), created.id);
    let patch = |body: serde_json::Value| http().patch(&url).bearer_auth(ADMIN).json(&body).send();

    // A bad value is refused, naming the field, and changes nothing.
    for (bad, field) in [
        (serde_json::json!({"start": "7pm"}), "schedule.start"),
        (serde_json::json!({"minutes": 5}), "schedule.minutes"),
        (
            serde_json::json!({"timezone": "Mars/Olympus"}),
            "schedule.timezone",
        ),
        (
            serde_json::json!({"weekday": "someday"}),
            "schedule.weekday",
        ),
    ] {
        let mut schedule = serde_json::to_value(tuesday_evening()).unwrap();
        for (k, v) in bad.as_object().unwrap() {
            schedule[k] = v.clone();
        }
        let res = patch(serde_json::json!({ "schedule": schedule }))
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{field}");
        let body: kindred_protocol::http::HttpError = res.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::BadRequest);
        assert!(body.message.contains(field), "{field}: {}", body.message);
    }
    assert_eq!(
        room(&server, created.id).await.schedule,
        Some(tuesday_evening())
    );

    // Another evening: the next session moves with it.
    let thursday = Schedule {
        weekday: Weekday::Thursday,
        start: "18:30".into(),
        ..tuesday_evening()
    };
    let res = patch(
        serde_json::to_value(UpdateRoom {
            schedule: Some(Some(thursday.clone())),
            ..UpdateRoom::default()
        })
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let changed: RoomSummary = res.json().await.unwrap();
    assert_eq!(changed.schedule, Some(thursday));
    let starts = instant(changed.next_session.unwrap().starts_at)
        .to_zoned(TimeZone::get("Europe/London").unwrap());
    assert_eq!(starts.weekday(), jiff::civil::Weekday::Thursday);
    assert_eq!((starts.hour(), starts.minute()), (18, 30));

    // A change of title leaves the schedule alone.
    let res = patch(serde_json::json!({"title": "Thursday Circle"}))
        .await
        .unwrap();
    let retitled: RoomSummary = res.json().await.unwrap();
    assert!(retitled.schedule.is_some() && retitled.next_session.is_some());

    // `null` removes it: no schedule, no next session, no calendar.
    let res = patch(serde_json::json!({"schedule": null})).await.unwrap();
    assert_eq!(res.status(), 200);
    let removed: RoomSummary = res.json().await.unwrap();
    assert_eq!(
        (removed.schedule.clone(), removed.next_session),
        (None, None)
    );
    let raw: serde_json::Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert!(raw.get("schedule").is_none() && raw.get("next_session").is_none());
    let listed = server.http.rooms().await.unwrap().rooms;
    assert!(listed.iter().all(|r| r.schedule.is_none()));
    let res = http()
        .get(format!("{url}/calendar.ics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: kindred_protocol::http::HttpError = res.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn a_room_cannot_be_created_with_a_bad_schedule() {
    let server = TestServer::start().await;
    let res = http()
        .post(format!("{}/api/rooms", server.base()))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({
            "title": "Late group",
            "schedule": {"weekday": "friday", "start": "25:00", "minutes": 60,
                         "timezone": "Europe/London"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: kindred_protocol::http::HttpError = res.json().await.unwrap();
    assert!(body.message.contains("schedule.start"), "{}", body.message);
    assert!(server.http.rooms().await.unwrap().rooms.is_empty());
    server.stop().await;
}
