//! A room's weekly schedule: checking what an operator wrote, the next session it
//! gives, and the iCalendar feed a calendar app subscribes to.
//!
//! No clock and no sockets: the instant is an argument, as in `room/`. Time zones come
//! from jiff's copy of the IANA database (bundled into the binary, so a machine without
//! `/usr/share/zoneinfo` still knows every zone), never from offsets written here. The
//! schedule itself is room configuration (`RoomConfig::schedule`); this module only
//! reads it, and a schedule never opens a room: a facilitator does.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kindred_protocol::{Millis, NextSession, RoomId, RoomSummary, Schedule, Weekday};

/// The shortest and the longest session a schedule may describe (minutes).
pub const MIN_MINUTES: u32 = 15;
pub const MAX_MINUTES: u32 = 720;

/// What is wrong with a schedule, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("schedule.start must be a 24-hour time HH:MM, such as \"19:00\"")]
    Start,
    #[error("schedule.minutes must be between {MIN_MINUTES} and {MAX_MINUTES}")]
    Minutes,
    #[error("schedule.timezone must be an IANA time zone name, such as \"Europe/London\"")]
    Timezone,
}

/// A schedule checked and resolved: its zone and local start time.
#[derive(Clone, Debug)]
struct Resolved {
    weekday: jiff::civil::Weekday,
    start: Time,
    length: SignedDuration,
    zone: TimeZone,
}

fn resolve(schedule: &Schedule) -> Result<Resolved, ScheduleError> {
    let start = parse_start(&schedule.start).ok_or(ScheduleError::Start)?;
    if !(MIN_MINUTES..=MAX_MINUTES).contains(&schedule.minutes) {
        return Err(ScheduleError::Minutes);
    }
    // Only a name from the database: jiff would also take a POSIX TZ string or a
    // fixed offset, which does not follow a place's daylight-saving changes.
    let zone = TimeZone::get(&schedule.timezone).map_err(|_| ScheduleError::Timezone)?;
    if zone.iana_name().is_none() {
        return Err(ScheduleError::Timezone);
    }
    Ok(Resolved {
        weekday: civil_weekday(schedule.weekday),
        start,
        length: SignedDuration::from_mins(i64::from(schedule.minutes)),
        zone,
    })
}

/// The schedule as a room keeps it: checked, and its zone spelled as the database
/// spells it (`europe/london` becomes `Europe/London`), so the calendar feed names a
/// zone every calendar app knows.
pub fn checked(mut schedule: Schedule) -> Result<Schedule, ScheduleError> {
    let resolved = resolve(&schedule)?;
    if let Some(name) = resolved.zone.iana_name() {
        schedule.timezone = name.to_owned();
    }
    Ok(schedule)
}

/// `HH:MM`, exactly five characters, hours 00–23, minutes 00–59.
fn parse_start(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    Time::new(h, m, 0, 0).ok()
}

fn civil_weekday(day: Weekday) -> jiff::civil::Weekday {
    use jiff::civil::Weekday as W;
    match day {
        Weekday::Monday => W::Monday,
        Weekday::Tuesday => W::Tuesday,
        Weekday::Wednesday => W::Wednesday,
        Weekday::Thursday => W::Thursday,
        Weekday::Friday => W::Friday,
        Weekday::Saturday => W::Saturday,
        Weekday::Sunday => W::Sunday,
    }
}

impl Resolved {
    /// The instant a session on `date` starts. A local time that a daylight-saving
    /// change skips (01:30 in Europe/London on the last Sunday of March) is read with
    /// the offset before the gap, so it lands as far past the gap as it was into it
    /// (02:30 BST, 01:30 UTC); a local time that is repeated (01:30 on the last Sunday
    /// of October) is the first of the two (01:30 BST, 00:30 UTC). That is jiff's
    /// "compatible" disambiguation, and what RFC 5545 §3.3.5 asks of a calendar app
    /// for DTSTART;TZID, so the feed and the directory name the same instant.
    fn start_on(&self, date: Date) -> Option<Timestamp> {
        let local = DateTime::from_parts(date, self.start);
        self.zone.to_ambiguous_timestamp(local).compatible().ok()
    }

    /// The session whose end is after `now`: the one on now's local date or the
    /// week's latest before it, else the next week's. Returns its local date too.
    fn next(&self, now: Timestamp) -> Option<(Date, Timestamp, Timestamp)> {
        let today = self.zone.to_datetime(now).date();
        let back = today.weekday().since(self.weekday);
        let mut date = today.checked_sub(jiff::Span::new().days(back)).ok()?;
        // A session is at most 12 hours long, so the latest one on or before today has
        // ended or not; either it or the following week's is the answer.
        for _ in 0..3 {
            let starts = self.start_on(date)?;
            let ends = starts.checked_add(self.length).ok()?;
            if ends > now {
                return Some((date, starts, ends));
            }
            date = date.checked_add(jiff::Span::new().weeks(1)).ok()?;
        }
        None
    }
}

fn millis(ts: Timestamp) -> Millis {
    u64::try_from(ts.as_millisecond()).unwrap_or(0)
}

fn timestamp(now: Millis) -> Option<Timestamp> {
    Timestamp::from_millisecond(i64::try_from(now).ok()?).ok()
}

/// The next scheduled session whose end is after `now`: during a session's slot, the
/// current one. `None` only for a schedule that does not validate.
pub fn next_session(schedule: &Schedule, now: Millis) -> Option<NextSession> {
    let (_, starts, ends) = resolve(schedule).ok()?.next(timestamp(now)?)?;
    Some(NextSession {
        starts_at: millis(starts),
        ends_at: millis(ends),
    })
}

/// The summary as it leaves the server: with its next session, if it has a schedule.
pub fn dated(mut summary: RoomSummary, now: Millis) -> RoomSummary {
    summary.next_session = summary.schedule.as_ref().and_then(|s| next_session(s, now));
    summary
}

/// What the calendar feed says about a room.
#[derive(Clone, Copy, Debug)]
pub struct CalendarEntry<'a> {
    pub room: RoomId,
    pub title: &'a str,
    pub topic: &'a str,
    /// Where the room is, as an absolute URL, when the server knows its public address
    /// (`--public-url`); without one the feed has no `URL` (RFC 5545 wants a URI, and
    /// a path alone would send a calendar app nowhere).
    pub url: Option<&'a str>,
    pub schedule: &'a Schedule,
}

/// The room's schedule as an iCalendar object (RFC 5545): one weekly VEVENT whose
/// first occurrence is the next session (as [`next_session`] gives it), with CRLF line
/// endings, lines folded at 75 octets and text escaped.
///
/// DTSTART names its zone with `TZID=` and the IANA name, without a VTIMEZONE: jiff
/// gives transitions but not the recurrence rules a VTIMEZONE would need to be right
/// for every year the RRULE reaches, and the calendar apps people use (Google, Apple,
/// Outlook, Thunderbird) resolve an IANA TZID themselves. The UID is the room's, so a
/// subscribed calendar updates the event in place when the schedule changes.
pub fn calendar(entry: &CalendarEntry<'_>, now: Millis) -> Option<String> {
    let resolved = resolve(entry.schedule).ok()?;
    let now = timestamp(now)?;
    let (date, _, _) = resolved.next(now)?;
    let minutes = entry.schedule.minutes;
    let mut out = String::new();
    let mut line = |text: &str| fold(&mut out, text);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Kindred//Room schedule//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape(entry.title)));
    line(&format!("X-WR-TIMEZONE:{}", entry.schedule.timezone));
    line("BEGIN:VEVENT");
    line(&format!("UID:room-{}-weekly@kindred", entry.room));
    line(&format!("DTSTAMP:{}", now.strftime("%Y%m%dT%H%M%SZ")));
    line(&format!(
        "DTSTART;TZID={}:{}",
        entry.schedule.timezone,
        DateTime::from_parts(date, resolved.start).strftime("%Y%m%dT%H%M%S")
    ));
    let duration = match (minutes / 60, minutes % 60) {
        (0, m) => format!("PT{m}M"),
        (h, 0) => format!("PT{h}H"),
        (h, m) => format!("PT{h}H{m}M"),
    };
    line(&format!("DURATION:{duration}"));
    line(&format!(
        "RRULE:FREQ=WEEKLY;BYDAY={}",
        byday(entry.schedule.weekday)
    ));
    line(&format!("SUMMARY:{}", escape(entry.title)));
    if !entry.topic.trim().is_empty() {
        line(&format!("DESCRIPTION:{}", escape(entry.topic)));
    }
    if let Some(url) = entry.url {
        line(&format!("URL:{url}"));
    }
    line("END:VEVENT");
    line("END:VCALENDAR");
    Some(out)
}

fn byday(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "MO",
        Weekday::Tuesday => "TU",
        Weekday::Wednesday => "WE",
        Weekday::Thursday => "TH",
        Weekday::Friday => "FR",
        Weekday::Saturday => "SA",
        Weekday::Sunday => "SU",
    }
}

/// TEXT as RFC 5545 §3.3.11 writes it: backslash, semicolon, comma and newline
/// escaped; other control characters dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Write one content line, folded so no line is longer than 75 octets (the leading
/// space of a continuation counts), never inside a UTF-8 character, ended by CRLF.
fn fold(out: &mut String, line: &str) {
    const LIMIT: usize = 75;
    let mut room = LIMIT;
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > room {
            out.push_str("\r\n ");
            room = LIMIT - 1;
            used = 0;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(weekday: Weekday, start: &str, minutes: u32, timezone: &str) -> Schedule {
        Schedule {
            weekday,
            start: start.into(),
            minutes,
            timezone: timezone.into(),
        }
    }

    /// An instant from its RFC 3339 form.
    fn at(text: &str) -> Millis {
        millis(text.parse::<Timestamp>().expect("an instant"))
    }

    fn next(s: &Schedule, now: &str) -> (Millis, Millis) {
        let n = next_session(s, at(now)).expect("a next session");
        (n.starts_at, n.ends_at)
    }

    fn london_tuesday() -> Schedule {
        schedule(Weekday::Tuesday, "19:00", 90, "Europe/London")
    }

    #[test]
    fn a_london_group_meets_at_seven_in_the_evening_in_winter_and_in_summer() {
        // Winter: GMT, so 19:00 local is 19:00 UTC.
        assert_eq!(
            next(&london_tuesday(), "2026-12-01T10:00:00Z"),
            (at("2026-12-01T19:00:00Z"), at("2026-12-01T20:30:00Z"))
        );
        // Summer: BST, so 19:00 local is 18:00 UTC.
        assert_eq!(
            next(&london_tuesday(), "2026-07-01T10:00:00Z").0,
            at("2026-07-07T18:00:00Z")
        );
    }

    #[test]
    fn the_tuesday_after_the_clocks_go_forward_keeps_the_local_time() {
        // Clocks go forward on Sunday 29 March 2026. From the Tuesday before, the next
        // session is that Tuesday (GMT); after it, the Tuesday after the change (BST).
        assert_eq!(
            next(&london_tuesday(), "2026-03-24T12:00:00Z").0,
            at("2026-03-24T19:00:00Z")
        );
        assert_eq!(
            next(&london_tuesday(), "2026-03-25T12:00:00Z").0,
            at("2026-03-31T18:00:00Z")
        );
    }

    #[test]
    fn the_tuesday_after_the_clocks_go_back_keeps_the_local_time() {
        // Clocks go back on Sunday 25 October 2026.
        assert_eq!(
            next(&london_tuesday(), "2026-10-21T12:00:00Z").0,
            at("2026-10-27T19:00:00Z")
        );
        assert_eq!(
            next(&london_tuesday(), "2026-10-20T12:00:00Z").0,
            at("2026-10-20T18:00:00Z")
        );
    }

    #[test]
    fn new_york_follows_its_own_daylight_saving_dates() {
        let s = schedule(Weekday::Monday, "18:30", 60, "America/New_York");
        // 9 March 2026 is the Monday after the US change (8 March), while London is
        // still on GMT: EDT is UTC-4.
        assert_eq!(
            next(&s, "2026-03-05T00:00:00Z"),
            (at("2026-03-09T22:30:00Z"), at("2026-03-09T23:30:00Z"))
        );
        // In winter, EST is UTC-5.
        assert_eq!(
            next(&s, "2026-11-12T00:00:00Z").0,
            at("2026-11-16T23:30:00Z")
        );
    }

    #[test]
    fn a_zone_without_daylight_saving_keeps_one_offset_all_year() {
        let s = schedule(Weekday::Friday, "20:00", 120, "Asia/Kolkata");
        assert_eq!(
            next(&s, "2026-01-01T00:00:00Z").0,
            at("2026-01-02T14:30:00Z")
        );
        assert_eq!(
            next(&s, "2026-07-01T00:00:00Z").0,
            at("2026-07-03T14:30:00Z")
        );
    }

    #[test]
    fn during_a_session_the_next_session_is_the_current_one() {
        let s = london_tuesday();
        assert_eq!(
            next(&s, "2026-12-01T19:45:00Z"),
            (at("2026-12-01T19:00:00Z"), at("2026-12-01T20:30:00Z"))
        );
        // The last millisecond of the slot still belongs to it.
        assert_eq!(
            next(&s, "2026-12-01T20:29:59.999Z").0,
            at("2026-12-01T19:00:00Z")
        );
    }

    #[test]
    fn once_a_session_has_ended_the_next_is_a_week_later() {
        let s = london_tuesday();
        assert_eq!(
            next(&s, "2026-12-01T20:30:00Z").0,
            at("2026-12-08T19:00:00Z")
        );
    }

    #[test]
    fn a_late_session_that_runs_past_midnight_is_current_the_next_morning() {
        let s = schedule(Weekday::Saturday, "22:00", 240, "Europe/London");
        // Saturday 5 December 22:00 to Sunday 02:00; at Sunday 01:00 it is still on.
        assert_eq!(
            next(&s, "2026-12-06T01:00:00Z").0,
            at("2026-12-05T22:00:00Z")
        );
    }

    #[test]
    fn a_skipped_local_time_lands_past_the_gap_and_a_repeated_one_is_the_first() {
        let s = schedule(Weekday::Sunday, "01:30", 60, "Europe/London");
        // 29 March 2026: 01:00 GMT jumps to 02:00 BST, so 01:30 never shows on a
        // clock. It is read with the offset before the gap: 01:30 UTC (02:30 BST).
        assert_eq!(
            next(&s, "2026-03-28T12:00:00Z").0,
            at("2026-03-29T01:30:00Z")
        );
        // 25 October 2026: 02:00 BST goes back to 01:00 GMT, so 01:30 comes twice;
        // the session is the first, 01:30 BST (00:30 UTC).
        assert_eq!(
            next(&s, "2026-10-24T12:00:00Z").0,
            at("2026-10-25T00:30:00Z")
        );
        // The Sundays either side are ordinary.
        assert_eq!(
            next(&s, "2026-10-31T12:00:00Z").0,
            at("2026-11-01T01:30:00Z")
        );
    }

    /// Whether the admin API would take this schedule.
    fn validate(schedule: &Schedule) -> Result<(), ScheduleError> {
        checked(schedule.clone()).map(|_| ())
    }

    #[test]
    fn bad_schedules_name_the_field() {
        for start in [
            "7:00", "24:00", "19:60", "19.00", "19:00:00", "", "+1:00", "1９:00",
        ] {
            assert_eq!(
                validate(&schedule(Weekday::Monday, start, 60, "Europe/London")),
                Err(ScheduleError::Start),
                "{start:?}"
            );
        }
        for minutes in [0, 14, 721] {
            assert_eq!(
                validate(&schedule(
                    Weekday::Monday,
                    "19:00",
                    minutes,
                    "Europe/London"
                )),
                Err(ScheduleError::Minutes)
            );
        }
        for zone in [
            "Europe/Londres",
            "",
            "+01:00",
            "EST5EDT,M3.2.0,M11.1.0",
            "../etc",
        ] {
            assert_eq!(
                validate(&schedule(Weekday::Monday, "19:00", 60, zone)),
                Err(ScheduleError::Timezone),
                "{zone:?}"
            );
        }
        for (start, minutes) in [("00:00", 15), ("23:59", 720)] {
            assert_eq!(
                validate(&schedule(Weekday::Monday, start, minutes, "UTC")),
                Ok(())
            );
        }
        assert!(
            ScheduleError::Timezone
                .to_string()
                .contains("schedule.timezone")
        );
        let spelled = checked(schedule(Weekday::Monday, "19:00", 60, "europe/london"));
        assert_eq!(spelled.unwrap().timezone, "Europe/London");
    }

    #[test]
    fn the_calendar_feed_is_folded_escaped_and_crlf() {
        let s = london_tuesday();
        let title = "Tuesday Evening Circle; anxiety, low mood \\ and more — a long title \
                     that needs folding past seventy-five octets";
        let room = RoomId::new();
        let entry = CalendarEntry {
            room,
            title,
            topic: "",
            url: Some("https://kindred.example/?room=x"),
            schedule: &s,
        };
        let ics = calendar(&entry, at("2026-12-01T10:00:00Z")).expect("a calendar");
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "only CRLF");
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(
            "SUMMARY:Tuesday Evening Circle\\; anxiety\\, low mood \\\\ and more — a long"
        ));
        assert!(unfolded.contains("DTSTART;TZID=Europe/London:20261201T190000\r\n"));
        assert!(unfolded.contains("DURATION:PT1H30M\r\n"));
        assert!(unfolded.contains("RRULE:FREQ=WEEKLY;BYDAY=TU\r\n"));
        assert!(unfolded.contains(&format!("UID:room-{room}-weekly@kindred\r\n")));
        assert!(unfolded.contains("DTSTAMP:20261201T100000Z\r\n"));
        assert!(unfolded.contains("URL:https://kindred.example/?room=x\r\n"));
        let nowhere = CalendarEntry { url: None, ..entry };
        let ics = calendar(&nowhere, at("2026-12-01T10:00:00Z")).expect("a calendar");
        assert!(!ics.contains("URL:"), "no public address, no URL");
        assert!(
            !unfolded.contains("DESCRIPTION"),
            "no topic, no description"
        );
    }

    #[test]
    fn folding_never_splits_a_character() {
        let mut out = String::new();
        fold(&mut out, &format!("SUMMARY:{}", "é".repeat(100)));
        for line in out.split("\r\n") {
            assert!(line.len() <= 75);
        }
        assert_eq!(
            out.replace("\r\n ", "").trim_end(),
            format!("SUMMARY:{}", "é".repeat(100))
        );
    }
}
