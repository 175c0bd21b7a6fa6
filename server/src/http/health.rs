//! Liveness, readiness and metrics.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use kindred_protocol::http::{BrokerState, CatalogState, Readiness};

use crate::metrics::Metrics;
use crate::state::AppState;

/// 200 while the process serves HTTP.
pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 when the broker can serve requests and the server is not shutting down, 503
/// otherwise; either way the body says why (`Readiness`: the broker reachable or not,
/// the catalog stored or not, draining or not). A 503 here is an answer, not a
/// failure: `observe` does not count it as an error.
pub async fn readyz(State(app): State<Arc<AppState>>) -> impl IntoResponse {
    let reachable = app.broker.ready();
    let draining = app.shutdown.is_cancelled();
    let readiness = Readiness {
        ready: reachable && !draining,
        broker: if reachable {
            BrokerState::Ok
        } else {
            BrokerState::Unreachable
        },
        catalog: if app.broker.catalog_stored() {
            CatalogState::Ok
        } else {
            CatalogState::Unstored
        },
        draining,
    };
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness))
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
