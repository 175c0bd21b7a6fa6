//! The `error` frames: a refusal the room decided (`rejection`), and the words of
//! every other refusal the server gives, each named for what it says.

use kindred_protocol::{ClientId, ErrorCode, ErrorFrame, GuardOffer, ServerFrame};

use crate::room::Rejection;
use crate::safety::TextError;

/// An `error` frame.
pub fn error(
    client_id: Option<ClientId>,
    code: ErrorCode,
    message: impl Into<String>,
    retry_after_ms: Option<u64>,
) -> ServerFrame {
    ServerFrame::Error(ErrorFrame {
        client_id,
        code,
        message: message.into(),
        retry_after_ms,
        guard: None,
        choices: Vec::new(),
    })
}

/// The `error` frame for a domain rejection. A guardrail's `consider` names what it
/// found (the category, never the words) and the author's choices.
pub fn rejection(client_id: Option<ClientId>, r: &Rejection) -> ServerFrame {
    let frame = error(client_id, r.code(), r.to_string(), r.retry_after_ms());
    match (frame, r) {
        (
            ServerFrame::Error(e),
            Rejection::Consider {
                category,
                facilitators,
            },
        ) => ServerFrame::Error(ErrorFrame {
            guard: Some(*category),
            choices: [
                Some(GuardOffer::Cw),
                facilitators.then_some(GuardOffer::Facilitators),
                Some(GuardOffer::Edit),
                Some(GuardOffer::AsIs),
            ]
            .into_iter()
            .flatten()
            .collect(),
            ..e
        }),
        (frame, _) => frame,
    }
}

/// A text that breaks a rule, saying which. Only length has its own code; every other
/// text rule (empty, control, bidi, line break or invisible character in a name, …)
/// is a bad request.
pub fn text_error(client_id: Option<ClientId>, e: &TextError) -> ServerFrame {
    let code = match e {
        TextError::TooLong { .. } => ErrorCode::TooLarge,
        _ => ErrorCode::BadRequest,
    };
    error(client_id, code, e.to_string(), None)
}

/// A check-in or check-out whose mood is not one of the five.
pub fn not_a_mood() -> ServerFrame {
    error(
        None,
        ErrorCode::BadRequest,
        "mood is a number from 1 (struggling) to 5 (well)",
        None,
    )
}

/// A binary WebSocket frame: the protocol is JSON text.
pub fn binary_refused() -> ServerFrame {
    error(
        None,
        ErrorCode::BadRequest,
        "binary frames are not supported; send JSON text",
        None,
    )
}

/// Over the frame or message rate: try again after `retry_after_ms`.
pub fn too_fast(client_id: Option<ClientId>, retry_after_ms: u64) -> ServerFrame {
    error(
        client_id,
        ErrorCode::RateLimited,
        "you are sending too fast; please slow down",
        Some(retry_after_ms),
    )
}

/// The room was deleted.
pub fn no_room(client_id: Option<ClientId>) -> ServerFrame {
    error(
        client_id,
        ErrorCode::NotFound,
        "this room no longer exists",
        None,
    )
}

/// The shared store is out of reach: a second later may work.
pub fn unavailable(client_id: Option<ClientId>) -> ServerFrame {
    error(
        client_id,
        ErrorCode::Internal,
        "the server is having trouble; please try again in a moment",
        Some(1_000),
    )
}

/// The command (a message, or a facilitator's change) reached the room, but its
/// storage was not confirmed in time: Redis as durable as the operator asked
/// (`--redis-durability`), or the catalog file's write (`--catalog-file`). Sending it
/// again with the same `client_id` applies it once and answers with its ack when it is
/// confirmed.
pub fn unconfirmed(client_id: Option<ClientId>) -> ServerFrame {
    error(
        client_id,
        ErrorCode::Internal,
        "what you sent reached the room, but its safe storage was not confirmed in time; \
         send it again to be told when it is",
        Some(1_000),
    )
}

/// The connection's queue filled: it is closed, and may resume.
pub fn slow_consumer() -> ServerFrame {
    error(
        None,
        ErrorCode::SlowConsumer,
        "your connection fell behind the room; reconnect to catch up",
        None,
    )
}

/// To someone a facilitator turned away from the waiting room.
pub fn denied() -> ServerFrame {
    error(
        None,
        ErrorCode::Denied,
        "a facilitator was not able to let you into this session; \
         thank you for coming, and please take care of yourself",
        None,
    )
}

/// To the author of a held message a facilitator declined, answering its `send`.
pub fn declined(client_id: ClientId) -> ServerFrame {
    error(
        Some(client_id),
        ErrorCode::Filtered,
        "a facilitator decided not to share that message with the room",
        None,
    )
}
