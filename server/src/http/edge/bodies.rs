//! The request bodies' limits, as the middleware [`guard_body`]: a declared
//! length over the limit is refused with `413` from the head alone, and every other
//! body is given one deadline to arrive by (`deadline`), or the request fails with
//! `408`.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Body as HttpBody;
use kindred_protocol::ErrorCode;
use tokio::time::Instant;

use super::deadline::DeadlineBody;
use crate::http::error::AppError;

/// The request body limits, for [`guard_body`].
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// Refuse a declared body over the limit before reading any of it, and give every other
/// body a deadline to arrive by.
pub async fn guard_body(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request.body().size_hint().lower();
    if declared > limits.max_bytes as u64 {
        let mut response = AppError::new(
            ErrorCode::TooLarge,
            format!("the request body is larger than {} bytes", limits.max_bytes),
        )
        .into_response();
        // The body stays unread, so the connection cannot carry another request.
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return response;
    }
    if request.body().size_hint().exact() == Some(0) {
        return next.run(request).await;
    }
    let deadline = Instant::now() + limits.timeout;
    let request = request.map(|body| Body::new(DeadlineBody::new(body, deadline)));
    next.run(request).await
}
