//! Tokens: the admin API's bearer token, the secret that signs session and invite
//! tokens, and how long what it signs lasts.

use clap::Args;

use super::problems::Problems;

/// The admin token, the signing secret and the lifetimes of session tokens and
/// invites. Their lengths are checked where they are used (`app::state`).
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
    /// on every instance. Generated when absent (tokens then die with the process).
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
}

impl Tokens {
    pub(super) fn problems(&self, out: &mut Problems) {
        out.at_least("KINDRED_TOKEN_TTL_SECS", self.token_ttl_secs, 1, "seconds");
        out.at_least(
            "KINDRED_INVITE_TTL_SECS",
            self.invite_ttl_secs,
            1,
            "seconds",
        );
        if self.invite_ttl_secs > 30 * 24 * 3600 {
            out.out_of_range(
                "KINDRED_INVITE_TTL_SECS",
                self.invite_ttl_secs,
                "it must be at most 30 days (2592000)",
            );
        }
    }
}
