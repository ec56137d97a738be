//! The answers of `GET /api/chat/conversations/` kept per user and query string, and served again while the user's
//! list version (`list_versions`, kept by database triggers on every write that the list shows) is unchanged. API
//! clients poll this route; an unchanged list then costs one indexed read instead of reading and writing out every
//! message (bench/api). Answers that contain a reply in progress are not kept: its text changes without the version.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;

/// Most answers kept (any one is dropped to make room).
const MAX_ENTRIES: usize = 128;
/// Larger answers are not kept.
const MAX_ENTRY_BYTES: usize = 512 * 1024;

/// The cache of one server instance.
#[derive(Default)]
pub struct ListCache {
    entries: Mutex<HashMap<(i64, String), (i64, Bytes)>>,
}

impl std::fmt::Debug for ListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListCache").finish_non_exhaustive()
    }
}

impl ListCache {
    /// The answer kept for this user and query at this version.
    pub fn get(&self, user_id: i64, query: &str, version: i64) -> Option<Bytes> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&(user_id, query.to_string()))
            .filter(|(kept, _)| *kept == version)
            .map(|(_, body)| body.clone())
    }

    /// Keeps an answer computed after reading `version` (read before the data, so a write in between only makes the
    /// entry look older than it is, never newer).
    pub fn put(&self, user_id: i64, query: &str, version: i64, body: Bytes) {
        if body.len() > MAX_ENTRY_BYTES {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else { return };
        let key = (user_id, query.to_string());
        if entries.len() >= MAX_ENTRIES
            && !entries.contains_key(&key)
            && let Some(evict) = entries.keys().next().cloned()
        {
            entries.remove(&evict);
        }
        entries.insert(key, (version, body));
    }
}
