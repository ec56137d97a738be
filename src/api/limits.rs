//! Request-rate limits of the API that are not stored per message: anonymous routes per client address, and
//! `ask-mistral` per user (it stores nothing, so the per-message counters of the chat do not see it). In memory per
//! server instance (GCRA from `governor`); the per-user message limits of the chat live in the database.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::api::error::ApiError;
use crate::core::config::Limits;
use crate::state::AppState;

/// The limiters of one server instance.
#[derive(Clone)]
pub struct Limiters {
    anonymous: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    ask: Option<Arc<DefaultKeyedRateLimiter<i64>>>,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiters").finish_non_exhaustive()
    }
}

fn per_minute<K: std::hash::Hash + Eq + Clone>(n: u32) -> Option<Arc<DefaultKeyedRateLimiter<K>>> {
    NonZeroU32::new(n).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))))
}

impl Limiters {
    /// Limiters from the configured rates (0 turns one off).
    pub fn new(limits: &Limits) -> Self {
        Self {
            anonymous: per_minute(limits.rate_limit_anonymous_per_minute),
            ask: per_minute(limits.rate_limit_messages_per_minute),
        }
    }

    /// Counts one anonymous request from `ip`; `Err(seconds)` to wait when over the rate.
    pub fn anonymous(&self, ip: IpAddr) -> Result<(), u64> {
        check(self.anonymous.as_deref(), &ip)
    }

    /// Counts one `ask-mistral` question of `user_id`.
    pub fn ask(&self, user_id: i64) -> Result<(), u64> {
        check(self.ask.as_deref(), &user_id)
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(limiter: Option<&DefaultKeyedRateLimiter<K>>, key: &K) -> Result<(), u64> {
    let Some(limiter) = limiter else { return Ok(()) };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    })
}

/// Middleware for the anonymous API routes (login, register, tokens, password reset): per-address rate.
pub async fn anonymous(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<crate::core::client::ClientAddr>()
        .and_then(|c| c.0)
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match state.api_limits.anonymous(ip) {
        Ok(()) => next.run(req).await,
        Err(seconds) => ApiError::throttled(seconds).into_response(),
    }
}
