//! The REST API's lists: conversations with their messages in one query (filtered, ordered, paged), and search in
//! titles and message text.

use sqlx::{FromRow, Row};

use super::conversations::{CONVERSATION_COLUMNS, Conversation};
use super::messages::{Message, messages_json_sql, parse_messages};
use crate::core::db::Db;

/// The user's conversations whose title or any message matches `query` (every word, as a prefix), newest
/// activity first.
pub async fn search_conversations(
    db: &crate::core::db::Db,
    user_id: i64,
    query: &str,
    limit: i64,
) -> Result<Vec<Conversation>, sqlx::Error> {
    use crate::core::db::Backend;
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let like = format!("%{}%", query.trim().to_lowercase().replace(['%', '_'], ""));
    let (matcher, text_query) = match db.backend {
        // FTS5: every word must occur, as a prefix ("rust"* matches "rustacean").
        Backend::Sqlite => (
            "c.id IN (SELECT m.conversation_id FROM messages_fts f JOIN messages m ON m.id = f.rowid \
             WHERE messages_fts MATCH $3)",
            words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "),
        ),
        Backend::Postgres => (
            "c.id IN (SELECT m.conversation_id FROM messages m WHERE m.search @@ to_tsquery('simple', $3))",
            words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
        ),
    };
    sqlx::query_as(&format!(
        "SELECT {cols} FROM conversations c WHERE c.user_id = $1 AND c.status <> 'deleted' \
         AND (lower(c.title) LIKE $2 OR {matcher}) \
         ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT $4",
        cols = CONVERSATION_COLUMNS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(user_id)
    .bind(like)
    .bind(text_query)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

/// How the API orders conversation lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// `updated_at` (the default, newest first).
    UpdatedAt,
    /// `created_at`.
    CreatedAt,
    /// `last_message_at`.
    LastMessageAt,
}

/// What an API list asks for.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// `active` or `archived`.
    pub status: String,
    /// Only this category, when not empty.
    pub category: String,
    /// Sort key.
    pub ordering: Ordering,
    /// Newest first.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
    /// Whether to count every match (for a page); otherwise the total is the number of rows returned.
    pub count: bool,
}

/// A page of the user's conversations as `query` asks, each with all its messages (oldest first), and the total
/// number matching. One query: the database adds each conversation's messages as a JSON array (see [`messages_of`]).
pub async fn api_list(
    db: &Db,
    user_id: i64,
    query: &ListQuery,
) -> Result<(Vec<(Conversation, Vec<Message>)>, i64), sqlx::Error> {
    let (status, category, limit, offset) = (&query.status, &query.category, query.limit, query.offset);
    let column = match query.ordering {
        Ordering::UpdatedAt => "updated_at",
        Ordering::CreatedAt => "created_at",
        Ordering::LastMessageAt => "COALESCE(last_message_at, created_at)",
    };
    let direction = if query.descending { "DESC" } else { "ASC" };
    let filter = "user_id = $1 AND status = $2 AND ($3 = '' OR category = $3)";
    let messages = messages_json_sql(db.backend, "c.id");
    // The page is chosen (and sorted) on the conversations alone; each one's messages are added to the page's rows
    // after, so the database's sorter never holds them. The order is put back in Rust, with the same keys.
    let rows = sqlx::query(&format!(
        "SELECT c.*, {messages} AS messages_json FROM (SELECT {CONVERSATION_COLUMNS} FROM conversations \
         WHERE {filter} ORDER BY {column} {direction}, id {direction} LIMIT $4 OFFSET $5) c"
    ))
    .bind(user_id)
    .bind(status)
    .bind(category)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let conversation = Conversation::from_row(&row)?;
        let messages = parse_messages(&row.try_get::<String, _>("messages_json")?)?;
        out.push((conversation, messages));
    }
    out.sort_unstable_by_key(|(c, _)| {
        let key = match query.ordering {
            Ordering::UpdatedAt => c.updated_at,
            Ordering::CreatedAt => c.created_at,
            Ordering::LastMessageAt => c.last_message_at.unwrap_or(c.created_at),
        };
        (key, c.id)
    });
    if query.descending {
        out.reverse();
    }
    let returned = i64::try_from(out.len()).unwrap_or(i64::MAX);
    if !query.count {
        return Ok((out, returned));
    }
    // A page that is not full is the last one: the total is known without counting (not so for an empty page
    // past the end, which says nothing about how many come before it).
    if returned < limit && (returned > 0 || offset == 0) {
        return Ok((out, offset + returned));
    }
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM conversations WHERE {filter}"))
        .bind(user_id)
        .bind(status)
        .bind(category)
        .fetch_one(&db.pool)
        .await?;
    Ok((out, total))
}
