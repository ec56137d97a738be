//! Types of the admin pages (both targets compile them).

use serde::{Deserialize, Serialize};

/// What the admin overview shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceOverview {
    /// Accounts, active or not.
    pub users: i64,
    /// Conversations of every user.
    pub conversations: i64,
    /// Messages of every user.
    pub messages: i64,
    /// The newest accounts, newest first.
    pub newest: Vec<AdminUserRow>,
}

/// One account as the overview lists it (never its password or preferences).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserRow {
    /// Login name.
    pub username: String,
    /// Email address.
    pub email: String,
    /// When it was created (UTC, `YYYY-MM-DD HH:MM`).
    pub joined: String,
    /// Last login, if any.
    pub last_login: Option<String>,
    /// Whether it may log in.
    pub is_active: bool,
    /// Whether it may use the admin pages.
    pub is_staff: bool,
}

/// How many of the newest accounts the overview lists.
pub const NEWEST: i64 = 50;
