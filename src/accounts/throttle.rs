//! Throttling of login failures and reset requests, counted in the database per key (the submitted login or email,
//! whether or not an account has it, so a refusal reveals nothing) and per client address.

use sqlx::AnyPool;

use crate::core::db::now_millis;

/// One kind of limited event.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Name stored with each event.
    pub scope: &'static str,
    /// Events allowed within the window.
    pub limit: i64,
    /// The window, in minutes.
    pub window_minutes: i64,
}

/// Failed logins for one account (the submitted username or email).
pub const LOGIN_PER_ACCOUNT: Rule = Rule {
    scope: "login-account",
    limit: 5,
    window_minutes: 15,
};
/// Failed logins from one address.
pub const LOGIN_PER_IP: Rule = Rule {
    scope: "login-ip",
    limit: 20,
    window_minutes: 15,
};
/// Reset requests for one email.
pub const RESET_PER_EMAIL: Rule = Rule {
    scope: "reset-email",
    limit: 3,
    window_minutes: 15,
};
/// Reset requests from one address.
pub const RESET_PER_IP: Rule = Rule {
    scope: "reset-ip",
    limit: 10,
    window_minutes: 15,
};

/// Share links asked for that do not exist, from one address (issue #29): guessing tokens is infeasible anyway, and
/// this keeps anyone from trying at scale.
pub const SHARE_MISSES_PER_IP: Rule = Rule {
    scope: "share-miss-ip",
    limit: 30,
    window_minutes: 15,
};

impl Rule {
    fn window_millis(self) -> i64 {
        self.window_minutes * 60 * 1000
    }

    /// `Some(seconds to wait)` when `key` reached the limit.
    pub async fn blocked(self, pool: &AnyPool, key: &str) -> Result<Option<u64>, sqlx::Error> {
        let since = now_millis() - self.window_millis();
        let (count, oldest): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MIN(at) FROM throttle_events WHERE scope = $1 AND key = $2 AND at > $3")
                .bind(self.scope)
                .bind(key.to_lowercase())
                .bind(since)
                .fetch_one(pool)
                .await?;
        if count < self.limit {
            return Ok(None);
        }
        let free_at = oldest.unwrap_or(since) + self.window_millis();
        let wait_millis = u64::try_from(free_at - now_millis()).unwrap_or(0).max(1);
        Ok(Some(wait_millis.div_ceil(1000)))
    }

    /// Counts one event for `key`.
    pub async fn record(self, pool: &AnyPool, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO throttle_events (scope, key, at) VALUES ($1, $2, $3)")
            .bind(self.scope)
            .bind(key.to_lowercase())
            .bind(now_millis())
            .execute(pool)
            .await?;
        // Opportunistic clean-up keeps the table small without a separate job.
        sqlx::query("DELETE FROM throttle_events WHERE at < $1")
            .bind(now_millis() - 86_400_000)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Forgets the events of `key` (a successful login resets the account's count).
    pub async fn clear(self, pool: &AnyPool, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM throttle_events WHERE scope = $1 AND key = $2")
            .bind(self.scope)
            .bind(key.to_lowercase())
            .execute(pool)
            .await?;
        Ok(())
    }
}

/// The first rule that blocks, as seconds to wait.
pub async fn check(pool: &AnyPool, checks: &[(Rule, &str)]) -> Result<Option<u64>, sqlx::Error> {
    for (rule, key) in checks {
        if let Some(seconds) = rule.blocked(pool, key).await? {
            return Ok(Some(seconds));
        }
    }
    Ok(None)
}
