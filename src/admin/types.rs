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

/// How the admin list of users is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum UserOrdering {
    /// When the account was created (the default, newest first).
    #[default]
    Joined,
    /// The last login (never counts as the oldest).
    LastLogin,
    /// Messages sent this month.
    Messages,
    /// Tokens used this month.
    Tokens,
    /// Username, any case.
    Username,
}

impl UserOrdering {
    /// Every ordering with its name in `?ordering=` (with `-` in front for descending).
    pub const ALL: [(Self, &'static str); 5] = [
        (Self::Joined, "date_joined"),
        (Self::LastLogin, "last_login"),
        (Self::Messages, "messages"),
        (Self::Tokens, "tokens"),
        (Self::Username, "username"),
    ];

    /// Parses `?ordering=`: a name of [`Self::ALL`], `-` in front for descending (`joined` is accepted for
    /// `date_joined`). `None` for anything else.
    pub fn parse(text: &str) -> Option<(Self, bool)> {
        let (descending, key) = text.strip_prefix('-').map_or((false, text), |k| (true, k));
        let key = if key == "joined" { "date_joined" } else { key };
        Self::ALL
            .iter()
            .find(|(_, name)| *name == key)
            .map(|(o, _)| (*o, descending))
    }

    /// The `?ordering=` name of this ordering.
    pub fn name(self, descending: bool) -> String {
        let name = Self::ALL
            .iter()
            .find(|(o, _)| *o == self)
            .map_or("date_joined", |(_, n)| n);
        if descending {
            format!("-{name}")
        } else {
            name.to_string()
        }
    }
}

/// What the admin list of users asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Words to find in username, email or name (empty: everyone).
    pub search: String,
    /// Sort key.
    pub ordering: UserOrdering,
    /// Largest first.
    pub descending: bool,
    /// Page number, from 1.
    pub page: i64,
}

impl Default for UserQuery {
    fn default() -> Self {
        Self {
            search: String::new(),
            ordering: UserOrdering::Joined,
            descending: true,
            page: 1,
        }
    }
}

/// One account in the admin list of users (never its password or preferences).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// Primary key.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Whether it may log in.
    pub is_active: bool,
    /// Whether it may use the admin pages.
    pub is_staff: bool,
    /// A superuser (made with `thicode createsuperuser`): only another superuser may deactivate, demote or delete it.
    pub is_superuser: bool,
    /// Epoch milliseconds.
    pub date_joined: i64,
    /// Epoch milliseconds of the last login.
    pub last_login: Option<i64>,
    /// `date_joined` as the pages show dates (`YYYY-MM-DD HH:MM`, UTC).
    pub joined_text: String,
    /// `last_login` as the pages show dates.
    pub last_login_text: Option<String>,
    /// Replies the account asked for (sends, regenerates, edits) since the first of this month (UTC).
    pub messages_this_month: i64,
    /// Prompt and completion tokens of those replies.
    pub tokens_this_month: i64,
}

/// A page of the admin list of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersView {
    /// What was asked.
    pub query: UserQuery,
    /// The accounts of this page.
    pub rows: Vec<UserRow>,
    /// How many accounts match.
    pub count: i64,
    /// Accounts per page.
    pub page_size: i64,
    /// The staff member looking (whose own row has no actions).
    pub me: i64,
    /// Whether the staff member looking is a superuser (who alone may act on superusers).
    pub i_am_superuser: bool,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Primary key, in the order the actions happened.
    pub id: i64,
    /// Epoch milliseconds.
    pub at: i64,
    /// `at` in RFC 3339.
    pub at_iso: String,
    /// `at` as the pages show dates.
    pub at_text: String,
    /// The staff account that acted.
    pub actor_id: i64,
    /// Its username at the time.
    pub actor: String,
    /// What was done (`user.deactivate` …).
    pub action: String,
    /// The account acted on, if any.
    pub target_id: Option<i64>,
    /// Its username at the time.
    pub target: String,
    /// More about the action (JSON object text).
    pub details: String,
    /// The client address the action came from.
    pub client_addr: String,
}

/// A page of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    /// Entries of this page, newest first.
    pub rows: Vec<AuditRow>,
    /// How many entries there are.
    pub count: i64,
    /// This page, from 1.
    pub page: i64,
    /// Entries per page.
    pub page_size: i64,
}

/// One account on `/admin/users/{id}`: its row, its own limits, the defaults, what applies and what it used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserView {
    /// The account as the list shows it.
    pub row: UserRow,
    /// Its own limits (`None`: the default).
    pub quota: crate::chat::types::QuotaOverride,
    /// The instance's defaults.
    pub defaults: crate::chat::types::Quota,
    /// What applies.
    pub limits: crate::chat::types::Quota,
    /// Used today and this month.
    pub usage: crate::chat::types::Usage,
    /// Bytes of files the account keeps, and the most it may keep (0: no limit).
    pub storage: (i64, i64),
}

/// How a usage report groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum UsageGroup {
    /// One row per UTC day (the default).
    #[default]
    Day,
    /// One row per account.
    User,
    /// One row per model.
    Model,
}

impl UsageGroup {
    /// Parses `?group_by=`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "day" => Some(Self::Day),
            "user" => Some(Self::User),
            "model" => Some(Self::Model),
            _ => None,
        }
    }

    /// The name in `?group_by=`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::User => "user",
            Self::Model => "model",
        }
    }
}

/// One row of a usage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    /// The day (`YYYY-MM-DD`), the username or the model.
    pub key: String,
    /// Replies asked.
    pub messages: i64,
    /// Prompt tokens.
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Replies that ended in an error.
    pub errors: i64,
    /// Median time to the first token, in milliseconds (replies that produced one).
    pub median_ttft_ms: Option<i64>,
    /// Tool calls the replies made (issue #27).
    #[serde(default)]
    pub tool_calls: i64,
    /// Grouped by account: the bytes of files it keeps now.
    #[serde(default)]
    pub files_bytes: Option<i64>,
}

impl UsageRow {
    /// A row of `key` without any usage.
    pub fn empty(key: String) -> Self {
        Self {
            key,
            messages: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            errors: 0,
            median_ttft_ms: None,
            tool_calls: 0,
            files_bytes: None,
        }
    }
}

/// A usage report: the period (UTC days, inclusive), the grouping and its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageReport {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    /// How rows are grouped.
    pub group_by: UsageGroup,
    /// Rows: every day of the period when grouped by day, else the accounts or models with usage, most messages first.
    pub rows: Vec<UsageRow>,
}

/// One of an account's conversations, as `/admin/users/{id}/conversations` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminConversationRow {
    /// Primary key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// `active` or `archived`.
    pub status: String,
    /// Messages in it.
    pub messages: i64,
    /// Last activity (`YYYY-MM-DD HH:MM` UTC).
    pub last_activity: String,
}

/// An account's conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminConversations {
    /// The account.
    pub user_id: i64,
    /// Its username.
    pub username: String,
    /// Newest activity first.
    pub rows: Vec<AdminConversationRow>,
}

/// One message of a conversation opened by staff (read-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminMessage {
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// The message as safe HTML (Markdown rendered and sanitised on the server).
    pub html: String,
    /// `delivered`, `error` …
    pub status: String,
    /// When it was written (`YYYY-MM-DD HH:MM` UTC).
    pub at: String,
    /// The files it carries (staff open them through `/admin/users/{id}/files/{file}`, audited).
    #[serde(default)]
    pub attachments: Vec<crate::files::Attachment>,
}

/// A conversation opened read-only by staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminConversation {
    /// The owner.
    pub user_id: i64,
    /// Its username.
    pub username: String,
    /// Primary key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Every message, oldest first (all branches); empty while `confirm` asks first.
    pub messages: Vec<AdminMessage>,
    /// The request came from another site (or did not say where from): nothing was read or audited, and the page asks
    /// the staff member to open the conversation themself.
    pub confirm: bool,
}

/// The tools page of the admin area (`/admin/tools`): the built-in tools as the settings turn them on, the limits of
/// tool use, and the MCP servers staff added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolsAdminView {
    /// The web search backend (`searxng`, `brave`, `tavily`), or `None`: off (`WEB_SEARCH_BACKEND`).
    pub web_search: Option<String>,
    /// Whether the page reader is on (`WEB_FETCH_ENABLED`).
    pub web_fetch: bool,
    /// Rounds of calls per reply (`TOOL_MAX_ROUNDS`).
    pub max_rounds: u32,
    /// Calls per user per day, 0: no limit (`TOOL_CALLS_PER_DAY`).
    pub calls_per_day: u32,
    /// Seconds a call may run (`TOOL_CALL_TIMEOUT_SECONDS`).
    pub call_timeout_seconds: u64,
    /// Seconds a call marked "ask first" waits for the user (`TOOL_APPROVAL_SECONDS`).
    pub approval_seconds: u64,
    /// Whether servers started as a command may be added and used (`MCP_STDIO_ENABLED`).
    pub stdio_enabled: bool,
    /// The MCP servers, by name.
    pub servers: Vec<McpServerRow>,
}

/// An MCP server as the admin page shows it: its headers by name only (their values are secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpServerRow {
    /// Primary key.
    pub id: i64,
    /// Short name; its tools are offered as `<name>__<tool>`.
    pub name: String,
    /// Its streamable HTTP endpoint (empty for a command).
    pub url: String,
    /// The names of the headers sent to it.
    pub headers: Vec<String>,
    /// The program and its arguments (a server started as a command).
    pub command: Vec<String>,
    /// Whether its tools are offered.
    pub enabled: bool,
    /// Its tools as last listed.
    pub tools: Vec<McpToolRow>,
    /// When they were listed (`YYYY-MM-DD HH:MM` UTC).
    pub listed_at: Option<String>,
    /// Why the last listing failed.
    pub last_error: Option<String>,
}

/// One tool of an MCP server, with staff's choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpToolRow {
    /// Its name on the server.
    pub name: String,
    /// The name the model and users see (`<server>__<tool>`).
    pub offered_as: String,
    /// What it does, as the server says.
    pub description: String,
    /// The server says it may destroy or change things.
    pub destructive: bool,
    /// Offered to the model.
    pub enabled: bool,
    /// Each call waits for the user's approval.
    pub ask_first: bool,
}
