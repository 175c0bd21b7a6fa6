//! One error type for every handler: a status, a stable code and a sentence.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kindred_protocol::http::HttpError;
use kindred_protocol::{ErrorCode, NextSession};

use crate::broker::BrokerError;

#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after_ms: Option<u64>,
    /// For `closed`: when the room's next scheduled session is due, if it has a schedule.
    pub next_session: Option<NextSession>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
            next_session: None,
        }
    }

    /// The same error, telling when the room next meets.
    pub fn with_next_session(mut self, next: Option<NextSession>) -> Self {
        self.next_session = next;
        self
    }

    fn status(&self) -> StatusCode {
        match self.code {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::Locked | ErrorCode::Banned | ErrorCode::Denied => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::RoomFull | ErrorCode::InviteInUse => StatusCode::CONFLICT,
            ErrorCode::Closed => StatusCode::FORBIDDEN,
            ErrorCode::Held | ErrorCode::Warned | ErrorCode::Waiting => StatusCode::CONFLICT,
            ErrorCode::RateLimited | ErrorCode::SlowMode => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Timeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Internal | ErrorCode::SlowConsumer => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Muted
            | ErrorCode::Paused
            | ErrorCode::Filtered
            | ErrorCode::NotYourTurn
            | ErrorCode::Consider => StatusCode::CONFLICT,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self
            .retry_after_ms
            .map(|ms| ms.div_ceil(1000).to_string())
            .unwrap_or_default();
        let body = HttpError {
            code: self.code,
            message: self.message,
            retry_after_ms: self.retry_after_ms,
            next_session: self.next_session,
        };
        let mut response = (status, Json(body)).into_response();
        // For the HTTP layer's count of errors by code and route (`observe`).
        response.extensions_mut().insert(self.code);
        if let Ok(v) = axum::http::HeaderValue::from_str(&retry_after)
            && !retry_after.is_empty()
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}

/// A path no route serves: `404` with the error body every other failure has.
pub async fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound, "nothing is served at this path")
}

/// A path served, but not with this method: `405 bad_request`, with the error body
/// (axum adds the `Allow` header that names the methods it takes).
pub async fn method_not_allowed(method: axum::http::Method) -> Response {
    let mut response = AppError::new(
        ErrorCode::BadRequest,
        format!("this path does not take {method}"),
    )
    .into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

impl From<BrokerError> for AppError {
    fn from(e: BrokerError) -> Self {
        match e {
            BrokerError::Rejected(r) => AppError::new(r.code(), r.to_string()),
            BrokerError::NoRoom => AppError::new(ErrorCode::NotFound, "no such room"),
            BrokerError::Unavailable(_) | BrokerError::Moved => AppError::new(
                ErrorCode::Internal,
                "the server is having trouble; please try again in a moment",
            ),
            BrokerError::Unconfirmed(_) => AppError::new(
                ErrorCode::Internal,
                "the change was made but its storage was not confirmed in time",
            ),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for AppError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        body_error(e.status(), &e, e.body_text())
    }
}

impl From<axum::extract::rejection::BytesRejection> for AppError {
    fn from(e: axum::extract::rejection::BytesRejection) -> Self {
        body_error(e.status(), &e, e.body_text())
    }
}

/// A request body that could not be read or decoded: too large, too slow, or not
/// what the endpoint takes.
fn body_error(status: StatusCode, e: &(dyn std::error::Error + 'static), text: String) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(ErrorCode::TooLarge, "the request body is too large")
    } else if super::edge::deadline::timed_out(e) {
        AppError::new(
            ErrorCode::Timeout,
            "the request body did not arrive in time",
        )
    } else {
        AppError::new(ErrorCode::BadRequest, text)
    }
}
