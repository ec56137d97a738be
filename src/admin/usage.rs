//! Usage reports from the ledger (`usage_events`): replies, prompt and completion tokens, errors and the median time
//! to the first token, per UTC day, account or model over a period of days; and the same as CSV. Server only.

use std::collections::BTreeMap;

use sqlx::{AnyPool, Row};

use crate::admin::types::{UsageGroup, UsageReport, UsageRow};
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

#[derive(Default)]
struct Totals {
    messages: i64,
    prompt: i64,
    completion: i64,
    errors: i64,
    ttft: Vec<i64>,
}

/// The report of `[start, end)` grouped by `group`.
pub async fn report(pool: &AnyPool, start: i64, end: i64, group: UsageGroup) -> Result<UsageReport, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT e.created_at, COALESCE(u.username, '') AS username, e.model, e.status, e.prompt_tokens, \
                e.completion_tokens, e.time_to_first_token_ms \
         FROM usage_events e LEFT JOIN users u ON u.id = e.user_id \
         WHERE e.created_at >= $1 AND e.created_at < $2",
    )
    .bind(start)
    .bind(end)
    .fetch_all(pool)
    .await?;
    let mut groups: BTreeMap<String, Totals> = BTreeMap::new();
    if group == UsageGroup::Day {
        let mut day = start;
        while day < end {
            groups.entry(date_of(day)).or_default();
            day += DAY_MS;
        }
    }
    for row in rows {
        let at: i64 = row.try_get("created_at")?;
        let key = match group {
            UsageGroup::Day => date_of(at),
            UsageGroup::User => row.try_get("username")?,
            UsageGroup::Model => row.try_get("model")?,
        };
        let totals = groups.entry(key).or_default();
        totals.messages += 1;
        totals.prompt += row.try_get::<i64, _>("prompt_tokens")?;
        totals.completion += row.try_get::<i64, _>("completion_tokens")?;
        if row.try_get::<String, _>("status")? == "error" {
            totals.errors += 1;
        }
        if let Some(ms) = row.try_get::<Option<i64>, _>("time_to_first_token_ms")? {
            totals.ttft.push(ms);
        }
    }
    let mut rows: Vec<UsageRow> = groups
        .into_iter()
        .map(|(key, mut t)| UsageRow {
            key,
            messages: t.messages,
            prompt_tokens: t.prompt,
            completion_tokens: t.completion,
            errors: t.errors,
            median_ttft_ms: median(&mut t.ttft),
        })
        .collect();
    if group != UsageGroup::Day {
        rows.sort_by(|a, b| b.messages.cmp(&a.messages).then_with(|| a.key.cmp(&b.key)));
    }
    Ok(UsageReport {
        from: date_of(start),
        to: date_of(end - DAY_MS),
        group_by: group,
        rows,
    })
}

/// The median (the lower middle value of an even count).
fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

/// The report as CSV (RFC 4180), a header line first.
pub fn csv(report: &UsageReport) -> String {
    let field = |text: &str| {
        // Quoted when needed; a leading formula character is neutralised so a spreadsheet does not run it.
        let text = if text.starts_with(['=', '+', '-', '@']) {
            format!("'{text}")
        } else {
            text.to_string()
        };
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    };
    let mut out = format!(
        "{},messages,prompt_tokens,completion_tokens,errors,median_ttft_ms\r\n",
        report.group_by.name()
    );
    for row in &report.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\r\n",
            field(&row.key),
            row.messages,
            row.prompt_tokens,
            row.completion_tokens,
            row.errors,
            row.median_ttft_ms.map(|m| m.to_string()).unwrap_or_default()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{median, period};

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
