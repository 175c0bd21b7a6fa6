//! The WebSocket upgrade: connection limit, socket limits, then a tracked session.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::{IntoResponse, Response};
use kindred_protocol::ErrorCode;

use super::AppError;
use crate::app::AppState;
use crate::session;

pub async fn upgrade(State(app): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    if app.shutdown.is_cancelled() {
        return AppError::new(ErrorCode::Internal, "the server is shutting down").into_response();
    }
    // Take the permit before upgrading, and hold it in the session task.
    let Ok(permit) = app.connections.clone().try_acquire_owned() else {
        app.metrics.error(ErrorCode::RateLimited);
        return AppError::new(
            ErrorCode::Internal,
            "the server is at its connection limit; please try again shortly",
        )
        .into_response();
    };
    let c = &app.config;
    ws.read_buffer_size(c.ws_read_buffer)
        .write_buffer_size(c.ws_write_buffer)
        .max_write_buffer_size(
            c.ws_max_write_buffer
                .max(c.ws_write_buffer + c.max_frame_bytes),
        )
        .max_message_size(c.max_frame_bytes)
        .max_frame_size(c.max_frame_bytes)
        .on_upgrade(move |socket| {
            let tracker = app.tracker.clone();
            tracker.track_future(session::run(socket, app, permit))
        })
}
