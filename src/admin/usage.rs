//! Usage reports from the ledger (`usage_events`): replies, prompt and completion tokens, errors, the median time
//! to the first token and tool calls, per UTC day, account or model over a period of days; and the same as CSV. Server only.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::admin::types::{UsageGroup, UsageReport, UsageRow};
use crate::core::db::{Backend, Db};
use crate::core::error::AppError;
use crate::text;

const DAY_MS: i64 = 86_400_000;
/// Longest period a report covers.
const MAX_DAYS: i64 = 366;

fn date_of(millis: i64) -> String {
    crate::core::time::iso(millis).chars().take(10).collect()
}

fn parse_date(field: &str, text: &str) -> Result<i64, AppError> {
    let parts: Vec<&str> = text.trim().split('-').collect();
    let date = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            match (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) {
                (Ok(y), Ok(m), Ok(d)) => time::Month::try_from(m)
                    .ok()
                    .and_then(|m| time::Date::from_calendar_date(y, m, d).ok()),
                _ => None,
            }
        }
        _ => None,
    };
    date.map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
        .ok_or_else(|| AppError::invalid(field, text!(admin.usage.date_format)))
}

/// The period `from`..=`to` (`YYYY-MM-DD`, UTC) as epoch milliseconds `[start, end)`; by default the last 30 days
/// up to today.
pub fn period(from: Option<&str>, to: Option<&str>, now: i64) -> Result<(i64, i64), AppError> {
    let today = crate::chat::quota::day_start(now);
    let end = match to.filter(|t| !t.trim().is_empty()) {
        Some(text) => parse_date("to", text)? + DAY_MS,
        None => today + DAY_MS,
    };
    let start = match from.filter(|t| !t.trim().is_empty()) {
        Some(text) => parse_date("from", text)?,
        None => end - 30 * DAY_MS,
    };
    if start >= end {
        return Err(AppError::invalid("from", text!(admin.usage.from_before_to)));
    }
    if end - start > MAX_DAYS * DAY_MS {
        return Err(AppError::invalid("from", text!(admin.usage.too_long, days = MAX_DAYS)));
    }
    Ok((start, end))
}

/// The grouping key of a ledger row, as SQL (`e` is the ledger, `u` its account when it still exists).
fn key_sql(group: UsageGroup) -> &'static str {
    match group {
        UsageGroup::Day => "CAST(e.created_at / 86400000 AS BIGINT)",
        // A deleted account's rows keep its name, marked.
        UsageGroup::User => "COALESCE(u.username, e.username || ' (deleted)')",
        UsageGroup::Model => "e.model",
    }
}

/// Periods longer than this are read by scanning the ledger rather than through its date index on SQLite, whose
/// planner cannot tell that a long period covers most of the table (a year of a million rows: 0.3 s scanned, 1.5 s
/// through the index). PostgreSQL's planner decides from its statistics.
const SCAN_AFTER_DAYS: i64 = 31;

/// The report of `[start, end)` grouped by `group`, aggregated by the database: the totals with `GROUP BY`, the
/// median time to the first token with a window (the lower middle value, as [`median`]). Only one row per group
/// reaches the server, whatever the size of the ledger.
pub async fn report(db: &Db, start: i64, end: i64, group: UsageGroup) -> Result<UsageReport, sqlx::Error> {
    let pool = &db.pool;
    let key = key_sql(group);
    let join = if group == UsageGroup::User {
        "LEFT JOIN users u ON u.id = e.user_id"
    } else {
        ""
    };
    // SQLite's unary `+` keeps the column from using its index.
    let at = if db.backend == Backend::Sqlite && end - start > SCAN_AFTER_DAYS * DAY_MS {
        "+e.created_at"
    } else {
        "e.created_at"
    };
    let sql = format!(
        "SELECT totals.k, totals.messages, totals.prompt, totals.completion, totals.errors, ranked.t, totals.tools \
         FROM ( \
            SELECT {key} AS k, CAST(SUM(CASE WHEN e.kind = 'reply' THEN 1 ELSE 0 END) AS BIGINT) AS messages, \
                   CAST(SUM(e.prompt_tokens) AS BIGINT) AS prompt, \
                   CAST(SUM(e.completion_tokens) AS BIGINT) AS completion, \
                   CAST(SUM(CASE WHEN e.status = 'error' THEN 1 ELSE 0 END) AS BIGINT) AS errors, \
                   CAST(SUM(e.tool_calls) AS BIGINT) AS tools \
            FROM usage_events e {join} WHERE {at} >= $1 AND {at} < $2 GROUP BY {key}) totals \
         LEFT JOIN ( \
            SELECT k, t FROM ( \
                SELECT {key} AS k, e.time_to_first_token_ms AS t, \
                       ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY e.time_to_first_token_ms) AS rn, \
                       COUNT(*) OVER (PARTITION BY {key}) AS n \
                FROM usage_events e {join} \
                WHERE {at} >= $1 AND {at} < $2 AND e.time_to_first_token_ms IS NOT NULL) numbered \
            WHERE rn = (n + 1) / 2) ranked ON ranked.k = totals.k"
    );
    let found = sqlx::query(&sql).bind(start).bind(end).fetch_all(pool).await?;
    let mut rows = Vec::with_capacity(found.len());
    for row in found {
        let key = match group {
            UsageGroup::Day => date_of(row.try_get::<i64, _>(0)? * DAY_MS),
            UsageGroup::User | UsageGroup::Model => row.try_get(0)?,
        };
        rows.push(UsageRow {
            key,
            messages: row.try_get(1)?,
            prompt_tokens: row.try_get(2)?,
            completion_tokens: row.try_get(3)?,
            errors: row.try_get(4)?,
            median_ttft_ms: row.try_get(5)?,
            tool_calls: row.try_get(6)?,
            files_bytes: None,
        });
    }
    if group == UsageGroup::Day {
        // Every day of the period, those without usage too, in order.
        let mut by_day: BTreeMap<String, UsageRow> = rows.into_iter().map(|r| (r.key.clone(), r)).collect();
        rows = Vec::new();
        let mut day = start;
        while day < end {
            let key = date_of(day);
            rows.push(by_day.remove(&key).unwrap_or_else(|| UsageRow::empty(key)));
            day += DAY_MS;
        }
    } else {
        if group == UsageGroup::User {
            files_per_account(pool, &mut rows).await?;
        }
        rows.sort_by(|a, b| b.messages.cmp(&a.messages).then_with(|| a.key.cmp(&b.key)));
    }
    Ok(UsageReport {
        from: date_of(start),
        to: date_of(end - DAY_MS),
        group_by: group,
        rows,
    })
}

/// Adds the bytes of files each account keeps now to its row, and a row for each account that keeps files without
/// usage in the period.
async fn files_per_account(pool: &sqlx::AnyPool, rows: &mut Vec<UsageRow>) -> Result<(), sqlx::Error> {
    let kept: Vec<(String, i64)> = sqlx::query_as(
        "SELECT u.username, CAST(SUM(f.size) AS BIGINT) FROM files f JOIN users u ON u.id = f.user_id \
         GROUP BY u.username",
    )
    .fetch_all(pool)
    .await?;
    let mut kept: std::collections::HashMap<String, i64> = kept.into_iter().collect();
    for row in rows.iter_mut() {
        row.files_bytes = Some(kept.remove(&row.key).unwrap_or(0));
    }
    rows.extend(kept.into_iter().map(|(key, bytes)| UsageRow {
        files_bytes: Some(bytes),
        ..UsageRow::empty(key)
    }));
    Ok(())
}

/// The median (the lower middle value of an even count), as the report's SQL computes it.
#[cfg(test)]
fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

/// One CSV field (RFC 4180). A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return as a formula (OWASP's CSV injection list): such text gets a leading `'`. Quoted when it holds a comma, a
/// quote, a line break or a semicolon (the separator of spreadsheets in many locales).
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The CSV header line of a report grouped by `group`.
pub fn csv_header(group: UsageGroup) -> String {
    format!(
        "{},messages,prompt_tokens,completion_tokens,errors,median_ttft_ms,tool_calls{}\r\n",
        group.name(),
        if group == UsageGroup::User { ",files_bytes" } else { "" }
    )
}

/// One row of the report as a CSV line.
pub fn csv_line(row: &UsageRow) -> String {
    format!(
        "{},{},{},{},{},{},{}{}\r\n",
        csv_field(&row.key),
        row.messages,
        row.prompt_tokens,
        row.completion_tokens,
        row.errors,
        row.median_ttft_ms.map(|m| m.to_string()).unwrap_or_default(),
        row.tool_calls,
        row.files_bytes.map(|b| format!(",{b}")).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::{csv_field, median, period};

    #[test]
    fn csv_fields_never_become_formulas_and_keep_their_separators() {
        assert_eq!(csv_field("ada"), "ada");
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(
                csv_field(formula).trim_start_matches('"').starts_with('\''),
                "{formula:?}"
            );
        }
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("\r=1"), "\"'\r=1\"");
    }

    #[test]
    fn medians_and_periods() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
        // 2026-12-02T17:06:09Z: the last 30 days end tomorrow at midnight.
        let (start, end) = period(None, None, 1_796_231_169_000).unwrap();
        assert_eq!(end, 1_796_256_000_000);
        assert_eq!(end - start, 30 * 86_400_000);
        assert!(period(Some("2026-12-05"), Some("2026-12-01"), 0).is_err());
        assert!(period(Some("2026-13-01"), None, 0).is_err());
        assert_eq!(
            period(Some("2026-12-01"), Some("2026-12-01"), 0).unwrap().1 - 1_796_083_200_000,
            86_400_000
        );
    }
}
