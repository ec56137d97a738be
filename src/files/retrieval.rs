//! Retrieval: when a conversation's documents do not fit the model's context, the chunks relevant to the question
//! are found in two ways and fused by rank (reciprocal rank fusion): full-text search (FTS5's BM25 on SQLite,
//! `ts_rank_cd` on PostgreSQL) and, when an embeddings model is configured, the cosine between the question's
//! embedding and the chunks' (stored as little-endian f32s, ranked here — a conversation's documents are small
//! enough for brute force). Chunks are embedded in the background after an upload ([`embed_soon`]); until then, and
//! without an embeddings model, full-text search ranks alone.

use std::collections::HashMap;

use crate::core::db::Backend;
pub use crate::files::Source;
use crate::state::AppState;

/// Candidates each ranking gives the fusion.
const CANDIDATES: i64 = 60;
/// The fusion's constant (the usual 60: a top rank in one list outweighs middling ranks in both).
const RRF_K: f64 = 60.0;
/// Chunks embedded per request.
const EMBED_BATCH: i64 = 32;

/// A chunk chosen for the prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Excerpt {
    /// The file.
    pub file_id: i64,
    /// Its name.
    pub name: String,
    /// The PDF page.
    pub page: Option<i64>,
    /// Its order in the file.
    pub position: i64,
    /// The text.
    pub text: String,
}

/// The words of a question, for full-text search: letters and digits, lowercased, at most 32, each at least two
/// characters (anything else could be query syntax).
fn words(question: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in question.split(|c: char| !c.is_alphanumeric()) {
        let w = w.to_lowercase();
        if w.chars().count() >= 2 && !out.contains(&w) {
            out.push(w);
        }
        if out.len() == 32 {
            break;
        }
    }
    out
}

fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Chunk ids of `file_ids` by full-text relevance to `question`, best first.
async fn by_text(state: &AppState, file_ids: &[i64], question: &str) -> Result<Vec<i64>, sqlx::Error> {
    let words = words(question);
    if words.is_empty() || file_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = placeholders(2, file_ids.len());
    let limit = file_ids.len() + 2;
    let (sql, query) = match state.db.backend {
        // Any word may match; BM25 weighs the rare ones.
        Backend::Sqlite => (
            format!(
                "SELECT c.id FROM file_chunks_fts f JOIN file_chunks c ON c.id = f.rowid \
                 WHERE file_chunks_fts MATCH $1 AND c.file_id IN ({ids}) ORDER BY bm25(file_chunks_fts) LIMIT ${limit}"
            ),
            words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" OR "),
        ),
        Backend::Postgres => (
            format!(
                "SELECT c.id FROM file_chunks c WHERE c.search @@ to_tsquery('simple', $1) AND c.file_id IN ({ids}) \
                 ORDER BY ts_rank_cd(c.search, to_tsquery('simple', $1)) DESC, c.id LIMIT ${limit}"
            ),
            words.join(" | "),
        ),
    };
    let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(query);
    for id in file_ids {
        q = q.bind(*id);
    }
    q.bind(CANDIDATES).fetch_all(&state.db.pool).await
}

/// Chunk ids of `file_ids` by the cosine of their embeddings with the question's, best first (none without an
/// embeddings model, or when the provider does not answer).
async fn by_meaning(state: &AppState, file_ids: &[i64], question: &str) -> Result<Vec<i64>, sqlx::Error> {
    let provider = &state.chat.provider;
    let Some(model) = provider.embedding_model().map(str::to_string) else {
        return Ok(Vec::new());
    };
    if question.trim().is_empty() || file_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = placeholders(2, file_ids.len());
    let sql = format!(
        "SELECT id, embedding FROM file_chunks WHERE embedding_model = $1 AND embedding IS NOT NULL \
         AND file_id IN ({ids})"
    );
    let mut q = sqlx::query_as::<_, (i64, Vec<u8>)>(&sql).bind(&model);
    for id in file_ids {
        q = q.bind(*id);
    }
    let stored = q.fetch_all(&state.db.pool).await?;
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let Some(asked) = provider.embed(&[question.to_string()]).await.and_then(|mut v| v.pop()) else {
        return Ok(Vec::new());
    };
    let mut scored: Vec<(f32, i64)> = stored
        .into_iter()
        .map(|(id, bytes)| (cosine(&asked, &decode(&bytes)), id))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(scored.into_iter().take(CANDIDATES as usize).map(|(_, id)| id).collect())
}

/// Fuses rankings: each id scores the sum of `1 / (k + rank)` over the lists it is in; best first.
pub fn fuse(rankings: &[Vec<i64>]) -> Vec<i64> {
    let mut scores: HashMap<i64, f64> = HashMap::new();
    for ranking in rankings {
        for (rank, id) in ranking.iter().enumerate() {
            *scores.entry(*id).or_default() += 1.0 / (RRF_K + rank as f64 + 1.0);
        }
    }
    let mut fused: Vec<(i64, f64)> = scores.into_iter().collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused.into_iter().map(|(id, _)| id).collect()
}

/// The chunks of `file_ids` (files the caller checked are the user's) most relevant to `question`, within
/// `max_chars`, in the documents' order. Without any match, the documents' beginnings.
pub async fn retrieve(
    state: &AppState,
    file_ids: &[i64],
    question: &str,
    max_chars: usize,
) -> Result<Vec<Excerpt>, sqlx::Error> {
    let text = by_text(state, file_ids, question).await?;
    let meaning = by_meaning(state, file_ids, question).await?;
    let mut ranked = fuse(&[text, meaning]);
    if ranked.is_empty() {
        let ids = placeholders(1, file_ids.len());
        let sql = format!(
            "SELECT id FROM file_chunks WHERE file_id IN ({ids}) ORDER BY position, file_id LIMIT {CANDIDATES}"
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for id in file_ids {
            q = q.bind(*id);
        }
        ranked = q.fetch_all(&state.db.pool).await?;
    }
    if ranked.is_empty() {
        return Ok(Vec::new());
    }
    let ids = placeholders(1, ranked.len());
    let sql = format!(
        "SELECT c.id, c.file_id, c.position, c.page, c.text, f.name FROM file_chunks c JOIN files f ON f.id = c.file_id \
         WHERE c.id IN ({ids})"
    );
    let mut q = sqlx::query_as::<_, (i64, i64, i64, Option<i64>, String, String)>(&sql);
    for id in &ranked {
        q = q.bind(*id);
    }
    let mut rows: HashMap<i64, Excerpt> = q
        .fetch_all(&state.db.pool)
        .await?
        .into_iter()
        .map(|(id, file_id, position, page, text, name)| {
            (
                id,
                Excerpt {
                    file_id,
                    name,
                    page,
                    position,
                    text,
                },
            )
        })
        .collect();
    let mut chosen = Vec::new();
    let mut used = 0;
    for id in ranked {
        let Some(excerpt) = rows.remove(&id) else { continue };
        let len = excerpt.text.chars().count();
        if used + len > max_chars && !chosen.is_empty() {
            continue;
        }
        used += len;
        chosen.push(excerpt);
    }
    let order: HashMap<i64, usize> = file_ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    chosen.sort_by_key(|e| (order.get(&e.file_id).copied().unwrap_or(usize::MAX), e.position));
    Ok(chosen)
}

/// The excerpts as the prompt shows them, each delimited with its document's name and page.
pub fn excerpts_block(excerpts: &[Excerpt]) -> String {
    let mut out = String::from("<excerpts note=\"the parts of the attached documents relevant to this message\">\n");
    for e in excerpts {
        let name = e.name.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
        let page = e.page.map(|p| format!(" page=\"{p}\"")).unwrap_or_default();
        out.push_str(&format!(
            "<excerpt document=\"{name}\"{page}>\n{}\n</excerpt>\n",
            e.text
        ));
    }
    out.push_str("</excerpts>\n\n");
    out
}

/// The sources of `excerpts` (each file and page once, in order).
pub fn sources(excerpts: &[Excerpt]) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    for e in excerpts {
        let source = Source {
            file_id: e.file_id,
            name: e.name.clone(),
            page: e.page,
        };
        if !out.contains(&source) {
            out.push(source);
        }
    }
    out
}

fn decode(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The cosine of two vectors (0 when either is empty or their lengths differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Embeds file `file_id`'s chunks in the background, a batch at a time, when an embeddings model is configured.
pub fn embed_soon(state: &AppState, file_id: i64) {
    let Some(model) = state.chat.provider.embedding_model().map(str::to_string) else {
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = embed_file(&state, file_id, &model).await {
            tracing::warn!(error = %e, file_id, "could not store document embeddings");
        }
    });
}

/// Embeds the chunks of `file_id` that have no embedding by `model` yet.
pub async fn embed_file(state: &AppState, file_id: i64, model: &str) -> Result<usize, sqlx::Error> {
    let mut done = 0;
    loop {
        let batch: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, text FROM file_chunks WHERE file_id = $1 \
             AND (embedding IS NULL OR embedding_model IS NULL OR embedding_model <> $2) ORDER BY position LIMIT $3",
        )
        .bind(file_id)
        .bind(model)
        .bind(EMBED_BATCH)
        .fetch_all(&state.db.pool)
        .await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let texts: Vec<String> = batch.iter().map(|(_, t)| t.clone()).collect();
        let Some(vectors) = state.chat.provider.embed(&texts).await else {
            return Ok(done);
        };
        let mut tx = state.db.pool.begin().await?;
        for ((id, _), vector) in batch.iter().zip(vectors) {
            sqlx::query("UPDATE file_chunks SET embedding = $1, embedding_model = $2 WHERE id = $3")
                .bind(encode(&vector))
                .bind(model)
                .bind(*id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        done += batch.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_fuse_and_vectors_round_trip() {
        // In both lists beats first in one.
        assert_eq!(fuse(&[vec![1, 2, 3], vec![2, 4]]), vec![2, 1, 4, 3]);
        assert_eq!(fuse(&[vec![], vec![]]), Vec::<i64>::new());
        let v = vec![0.5f32, -1.25, 3.0];
        assert_eq!(decode(&encode(&v)), v);
        assert!((cosine(&v, &v) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&v, &[1.0]), 0.0);
        assert_eq!(
            words("What's the launch-code? PELICAN 42 a"),
            ["what", "the", "launch", "code", "pelican", "42"]
        );
    }
}
