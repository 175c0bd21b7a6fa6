//! Prometheus metrics, one registry per server (so tests that run several
//! servers in one process see their own numbers). Counters are atomics: the
//! fan-out path adds once per frame, not once per recipient.

use std::sync::atomic::AtomicI64;

use kindred_protocol::ErrorCode;
use prometheus_client::encoding::text::encode;
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
    pub members: Gauge<i64, AtomicI64>,
    pub messages_in: Counter,
    pub deliveries: Counter,
    pub slow_consumers: Counter,
    pub dropped: Counter,
    pub fanout_seconds: Histogram,
    pub errors: Family<Vec<(String, String)>, Counter>,
    pub broker_publish_seconds: Histogram,
    pub broker_up: Gauge<i64, AtomicI64>,
    pub crisis_alerts: Counter,
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
        let members = Gauge::default();
        let messages_in = Counter::default();
        let deliveries = Counter::default();
        let slow_consumers = Counter::default();
        let dropped = Counter::default();
        let fanout_seconds = Histogram::new(exponential_buckets(0.000_000_5, 2.0, 20));
        let errors = Family::default();
        let broker_publish_seconds = Histogram::new(exponential_buckets(0.000_01, 2.0, 18));
        let broker_up = Gauge::default();
        let crisis_alerts = Counter::default();
        registry.register(
            "connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        registry.register("rooms", "Rooms that exist", rooms.clone());
        registry.register("members", "Members present in rooms", members.clone());
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
            "errors",
            "Error frames and responses by code",
            errors.clone(),
        );
        registry.register(
            "broker_apply_seconds",
            "Time for the broker to check, number, store and publish a command",
            broker_publish_seconds.clone(),
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
        Self {
            registry,
            connections,
            rooms,
            members,
            messages_in,
            deliveries,
            slow_consumers,
            dropped,
            fanout_seconds,
            errors,
            broker_publish_seconds,
            broker_up,
            crisis_alerts,
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

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

impl Metrics {
    /// Load a gauge that is tracked elsewhere (e.g. members counted by the broker).
    pub fn set_gauge(gauge: &Gauge<i64, AtomicI64>, v: usize) {
        gauge.set(i64::try_from(v).unwrap_or(i64::MAX));
    }
}
