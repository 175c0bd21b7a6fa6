//! A facilitator invite minted: the room keeps its record (through the broker, so
//! every instance knows it) and the signer signs the token that names it. The admin
//! API and the demo room both mint here; how an invite is shown is theirs.

use kindred_protocol::{InviteId, Millis, Role, RoomId};

use crate::auth::{InviteClaims, Signer};
use crate::broker::{BrokerError, Rooms};
use crate::room::{Command, InviteRecord};

/// A new invite: its record as the room keeps it, and its token, given only now.
#[derive(Debug)]
pub struct Minted {
    pub room: RoomId,
    pub record: InviteRecord,
    pub token: String,
}

impl Minted {
    /// The link a facilitator opens. The token is in the fragment, which browsers
    /// never send to a server, so it stays out of access logs, proxies and `Referer`.
    pub fn url(&self) -> String {
        format!("/?room={}#invite={}", self.room, self.token)
    }
}

/// Keep a new facilitator invite's record in `room`, allowing `uses` joins for
/// `ttl_secs` from `now`, and sign its token.
pub async fn mint(
    broker: &Rooms,
    signer: &Signer,
    room: RoomId,
    ttl_secs: u64,
    uses: u32,
    now: Millis,
) -> Result<Minted, BrokerError> {
    let record = InviteRecord {
        id: InviteId::new(),
        role: Role::Facilitator,
        created_at: now,
        expires_at: now + ttl_secs * 1000,
        uses,
        used: 0,
        seats: Default::default(),
        order: 0,
        holders: Default::default(),
    };
    broker
        .apply(
            room,
            Command::Invite {
                invite: record.clone(),
            },
            now,
        )
        .await?;
    let token = signer.invite_token(InviteClaims {
        room,
        id: record.id,
        role: record.role,
        exp: record.expires_at,
    });
    tracing::info!(%room, invite = %record.id, uses, ttl_seconds = ttl_secs, "invite minted");
    Ok(Minted {
        room,
        record,
        token,
    })
}
