//! Tokens: the admin API's bearer token, the secret that signs session and invite
//! tokens, and how long what it signs lasts.

use clap::Args;

use super::problems::Problems;

/// The shortest secret or admin token accepted, in bytes: `openssl rand -hex 32` gives 64.
pub const MIN_SECRET_BYTES: usize = 32;

/// The admin token, the signing secret and the lifetimes of session tokens and
/// invites.
#[derive(Clone, Debug, Args)]
pub struct Tokens {
    /// Bearer token for the admin API, at least 32 bytes. Absent: generated and written to
    /// a file only you can read (`$XDG_RUNTIME_DIR`, else the temporary directory), whose
    /// path is printed at start.
    #[arg(
        display_order = 2,
        long,
        env = "KINDRED_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,

    /// Secret that signs session and invite tokens, at least 32 bytes; must be the same
    /// on every instance, and is required with REDIS_URL or --catalog-file (what they
    /// keep holds tokens it signed). Generated when absent (tokens then die with the
    /// process).
    #[arg(
        display_order = 3,
        long,
        env = "KINDRED_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<String>,

    /// Lifetime of a session token, in seconds.
    #[arg(display_order = 28, long, env = "KINDRED_TOKEN_TTL_SECS", default_value_t = 12 * 3600)]
    pub token_ttl_secs: u64,

    /// Default lifetime of a facilitator invite, in seconds.
    #[arg(display_order = 29, long, env = "KINDRED_INVITE_TTL_SECS", default_value_t = 24 * 3600)]
    pub invite_ttl_secs: u64,

    /// How long a facilitator's one-time code for using their seat on another device
    /// ("Use on another device") works, in seconds (at most an hour).
    #[arg(display_order = 58, long, env = "KINDRED_SEAT_CODE_TTL_SECS", default_value_t = 10 * 60)]
    pub seat_code_ttl_secs: u64,
}

impl Tokens {
    pub(super) fn problems(&self, out: &mut Problems) {
        // An empty admin token would let anyone in through the admin API; a short
        // secret lets anyone guess it and sign a facilitator invite.
        for (env, value) in [
            ("KINDRED_ADMIN_TOKEN", &self.admin_token),
            ("KINDRED_SECRET", &self.secret),
        ] {
            if let Some(value) = value
                && value.len() < MIN_SECRET_BYTES
            {
                let length = if value.is_empty() {
                    "empty".to_owned()
                } else {
                    format!("{} bytes long", value.len())
                };
                out.out_of_range(
                    env,
                    length,
                    &format!(
                        "it must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`), or unset to have one generated"
                    ),
                );
            }
        }
        out.at_least("KINDRED_TOKEN_TTL_SECS", self.token_ttl_secs, 1, "seconds");
        out.at_least(
            "KINDRED_INVITE_TTL_SECS",
            self.invite_ttl_secs,
            1,
            "seconds",
        );
        out.at_least(
            "KINDRED_SEAT_CODE_TTL_SECS",
            self.seat_code_ttl_secs,
            1,
            "seconds",
        );
        if self.seat_code_ttl_secs > 3600 {
            out.out_of_range(
                "KINDRED_SEAT_CODE_TTL_SECS",
                self.seat_code_ttl_secs,
                "it must be at most an hour (3600)",
            );
        }
        if self.invite_ttl_secs > 30 * 24 * 3600 {
            out.out_of_range(
                "KINDRED_INVITE_TTL_SECS",
                self.invite_ttl_secs,
                "it must be at most 30 days (2592000)",
            );
        }
    }
}
