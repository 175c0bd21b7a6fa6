//! Liveness, readiness and metrics.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::metrics::Metrics;
use crate::state::AppState;

/// 200 while the process serves HTTP.
pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 when the broker can serve requests and the server is not shutting down.
pub async fn readyz(State(app): State<Arc<AppState>>) -> impl IntoResponse {
    if app.broker.ready() && !app.shutdown.is_cancelled() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

/// Prometheus text exposition. The members connected here and the rooms they are
/// in are counted now, from this instance's own connections.
pub async fn metrics(State(app): State<Arc<AppState>>) -> impl IntoResponse {
    let (members, rooms) = app.hub.local_counts();
    Metrics::set_gauge(&app.metrics.members, members);
    Metrics::set_gauge(&app.metrics.rooms_served, rooms);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
}
