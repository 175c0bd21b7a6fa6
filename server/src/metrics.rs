//! Prometheus metrics, one registry per server (so tests that run several
//! servers in one process see their own numbers). Counters are atomics: the
//! fan-out path adds once per frame, not once per recipient.
//!
//! Every counter counts what happens on this instance, and every gauge but two
//! counts what this instance holds, so that a sum over the instances sharing one
//! Redis is the deployment's number: `members` counts the members connected here,
//! `rooms` and `crisis_alerts_unhandled` the rooms whose clock this instance keeps
//! and their open crisis alerts (each room's clock is kept by exactly one instance).
//! Two do not sum: `rooms_served` (a room with members on two instances counts on
//! both) and `catalog_rooms` (every room, the same on every instance).

use std::sync::atomic::AtomicI64;

use kindred_protocol::ErrorCode;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Every number `/metrics` shows.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub connections: Gauge<i64, AtomicI64>,
    pub rooms: Gauge<i64, AtomicI64>,
    /// Rooms with a member connected here.
    pub rooms_served: Gauge<i64, AtomicI64>,
    pub members: Gauge<i64, AtomicI64>,
    pub messages_in: Counter,
    pub deliveries: Counter,
    pub slow_consumers: Counter,
    pub dropped: Counter,
    pub fanout_seconds: Histogram,
    pub errors: Family<Vec<(String, String)>, Counter>,
    /// HTTP error responses by `code` and `route` (the route's pattern, never the path
    /// itself: room ids and invite ids stay out of the labels).
    pub http_errors: Family<Vec<(String, String)>, Counter>,
    pub broker_publish_seconds: Histogram,
    /// Failed writes of the catalog file (`--catalog-file`).
    pub catalog_write_failures: Counter,
    /// Runs of a room's log entries this instance could not fold and stepped over
    /// (Redis broker).
    pub log_unreadable: Counter,
    build_info: Family<Vec<(String, String)>, Gauge<i64, AtomicI64>>,
    resident_memory: Gauge<i64, AtomicI64>,
    pub broker_up: Gauge<i64, AtomicI64>,
    pub crisis_alerts: Counter,
    pub check_in_alerts: Counter,
    /// Every room that exists (the catalog as this instance knows it).
    pub catalog_rooms: Gauge<i64, AtomicI64>,
    /// Crisis alerts raised that no facilitator has handled yet.
    pub crisis_alerts_unhandled: Gauge<i64, AtomicI64>,
    /// Commands this instance could not append to a room's log in Redis.
    pub redis_append_failures: Counter,
    /// Times Redis became reachable again after it was lost.
    pub redis_reconnects: Counter,
    /// Other instances this one found gone (stopped answering) and stopped counting.
    pub instances_gone: Counter,
    /// The unprefixed `process_*` metrics (`process_start_time_seconds`).
    process: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kindred");
        let connections = Gauge::default();
        let rooms = Gauge::default();
        let rooms_served = Gauge::default();
        let members = Gauge::default();
        let messages_in = Counter::default();
        let deliveries = Counter::default();
        let slow_consumers = Counter::default();
        let dropped = Counter::default();
        let fanout_seconds = Histogram::new(exponential_buckets(0.000_000_5, 2.0, 20));
        let errors = Family::default();
        let http_errors = Family::default();
        let catalog_write_failures = Counter::default();
        let log_unreadable = Counter::default();
        let build_info = Family::default();
        let resident_memory = Gauge::default();
        let broker_publish_seconds = Histogram::new(exponential_buckets(0.000_01, 2.0, 18));
        let broker_up = Gauge::default();
        let crisis_alerts = Counter::default();
        let check_in_alerts = Counter::default();
        let catalog_rooms = Gauge::default();
        let crisis_alerts_unhandled = Gauge::default();
        let redis_append_failures = Counter::default();
        let redis_reconnects = Counter::default();
        let instances_gone = Counter::default();
        let start_time = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        start_time.set(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        );
        registry.register(
            "connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        registry.register(
            "rooms",
            "Rooms whose clock this instance keeps: each room counts on one instance (sums across instances to the rooms that exist)",
            rooms.clone(),
        );
        registry.register(
            "rooms_served",
            "Rooms with at least one member connected to this instance (a room served by two instances counts on both)",
            rooms_served.clone(),
        );
        registry.register(
            "members",
            "Members connected to this instance, in the room (sums across instances)",
            members.clone(),
        );
        registry.register(
            "catalog_rooms",
            "Rooms that exist, connected to or not (the same on every instance: does not sum)",
            catalog_rooms.clone(),
        );
        registry.register(
            "crisis_alerts_unhandled",
            "Crisis alerts raised that no facilitator has handled yet, in the rooms whose clock this instance keeps (sums across instances)",
            crisis_alerts_unhandled.clone(),
        );
        registry.register(
            "redis_append_failures",
            "Commands that failed at Redis: not appended to the room's log, or not confirmed as durable as asked",
            redis_append_failures.clone(),
        );
        registry.register(
            "redis_reconnects",
            "Times Redis became reachable again after this instance lost it",
            redis_reconnects.clone(),
        );
        registry.register(
            "instances_gone",
            "Other instances this one found gone (no heartbeat) and stopped counting the connections of",
            instances_gone.clone(),
        );
        // Unprefixed, in a registry of its own: the name every Prometheus client
        // library gives it, so dashboards that compute uptime find it.
        let mut process = Registry::default();
        process.register_with_unit(
            "process_start_time",
            "Start time of the process since the Unix epoch",
            prometheus_client::registry::Unit::Seconds,
            start_time.clone(),
        );
        registry.register(
            "messages_in",
            "Messages accepted from members",
            messages_in.clone(),
        );
        registry.register(
            "deliveries",
            "Frames queued to connections",
            deliveries.clone(),
        );
        registry.register(
            "slow_consumer_disconnects",
            "Connections closed because they fell behind",
            slow_consumers.clone(),
        );
        registry.register(
            "dropped_deliveries",
            "Frames not queued because the connection's queue was full (that connection is then closed with 4008)",
            dropped.clone(),
        );
        registry.register(
            "fanout_seconds",
            "Time to queue one frame to every local connection in its audience",
            fanout_seconds.clone(),
        );
        registry.register(
            "errors",
            "Error frames sent on WebSockets, by code",
            errors.clone(),
        );
        registry.register(
            "http_errors",
            "HTTP error responses, by code and route",
            http_errors.clone(),
        );
        registry.register(
            "catalog_write_failures",
            "Failed writes of the catalog file",
            catalog_write_failures.clone(),
        );
        registry.register(
            "build_info",
            "Always 1; the labels say which Kindred this is and which broker it uses",
            build_info.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the process, read when /metrics is scraped",
            resident_memory.clone(),
        );
        registry.register(
            "broker_apply_seconds",
            "Time for the broker to check, number, store and publish a command",
            broker_publish_seconds.clone(),
        );
        registry.register(
            "log_unreadable_entries",
            "Times a room's log held entries this instance could not read, stepped over from a snapshot in a new epoch",
            log_unreadable.clone(),
        );
        registry.register(
            "broker_up",
            "1 when the broker is reachable",
            broker_up.clone(),
        );
        registry.register(
            "crisis_alerts",
            "Crisis alerts raised",
            crisis_alerts.clone(),
        );
        registry.register(
            "check_in_alerts",
            "Check-in alerts raised (the classifier leaned towards a crisis without being sure)",
            check_in_alerts.clone(),
        );
        Self {
            registry,
            connections,
            rooms,
            rooms_served,
            members,
            messages_in,
            deliveries,
            slow_consumers,
            dropped,
            fanout_seconds,
            errors,
            http_errors,
            broker_publish_seconds,
            catalog_write_failures,
            log_unreadable,
            build_info,
            resident_memory,
            broker_up,
            crisis_alerts,
            check_in_alerts,
            catalog_rooms,
            crisis_alerts_unhandled,
            redis_append_failures,
            redis_reconnects,
            instances_gone,
            process,
        }
    }

    pub fn delivered(&self, n: u64) {
        if n > 0 {
            self.deliveries.inc_by(n);
        }
    }

    pub fn slow_consumer(&self) {
        self.slow_consumers.inc();
    }

    pub fn error(&self, code: ErrorCode) {
        self.errors
            .get_or_create(&vec![("code".to_owned(), code.as_str().to_owned())])
            .inc();
    }

    /// An HTTP error response: its code and the route that answered it.
    pub fn http_error(&self, code: ErrorCode, route: &str) {
        self.http_errors
            .get_or_create(&vec![
                ("code".to_owned(), code.as_str().to_owned()),
                ("route".to_owned(), route.to_owned()),
            ])
            .inc();
    }

    /// Say which Kindred this is (`kindred_build_info{version, broker} 1`).
    pub fn set_build_info(&self, broker: &str) {
        self.build_info
            .get_or_create(&vec![
                ("version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
                ("broker".to_owned(), broker.to_owned()),
            ])
            .set(1);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        if let Some(bytes) = resident_bytes() {
            Self::set_gauge(&self.resident_memory, bytes);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode_registry(&mut out, &self.process);
        let _ = encode_registry(&mut out, &self.registry);
        let _ = encode_eof(&mut out);
        out
    }
}

impl Metrics {
    /// Load a gauge that is tracked elsewhere (e.g. members counted by the broker).
    pub fn set_gauge(gauge: &Gauge<i64, AtomicI64>, v: usize) {
        gauge.set(i64::try_from(v).unwrap_or(i64::MAX));
    }
}

/// The process's resident set size, from `/proc/self/status` (Linux); `None` elsewhere.
fn resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: usize = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_fanout_drops_build_and_memory() {
        let m = Metrics::new();
        m.set_build_info("memory");
        m.http_error(ErrorCode::Unauthorized, "/api/rooms");
        let text = m.render();
        for line in [
            "kindred_fanout_seconds_bucket",
            "kindred_dropped_deliveries_total 0",
            "kindred_build_info{version=\"",
            "broker=\"memory\"} 1",
            "kindred_http_errors_total{code=\"unauthorized\",route=\"/api/rooms\"} 1",
            "kindred_process_resident_memory_bytes ",
            "\nprocess_start_time_seconds ",
            "kindred_redis_append_failures_total 0",
            "kindred_redis_reconnects_total 0",
            "kindred_instances_gone_total 0",
            "kindred_crisis_alerts_unhandled 0",
            "kindred_catalog_rooms 0",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "one end, at the end:\n{text}");
        let started: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("process_start_time_seconds "))
            .and_then(|v| v.parse().ok())
            .expect("a start time");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(
            started > 1.7e9 && started <= now,
            "{started} is when it started"
        );
    }
}
