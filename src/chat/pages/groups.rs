//! The sidebar's groups: pinned conversations first, then by last activity — Today, Yesterday, Previous 7 days,
//! Previous 30 days, then one group per month — counted in the user's time zone. The server and the browser group
//! with the same clock and offset (sent with the list), so the hydrated sidebar matches the rendered one.

use crate::chat::types::ConversationSummary;
use crate::core::i18n::Lang;
use crate::tr;

const DAY_MS: i64 = 86_400_000;

/// A group of the sidebar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Pinned, whatever their age.
    Pinned,
    /// Active today.
    Today,
    /// Yesterday.
    Yesterday,
    /// 2–7 days ago.
    Week,
    /// 8–30 days ago.
    Month,
    /// Older: the month and year (month 1–12).
    Calendar(i32, u32),
}

impl Group {
    /// The group's heading in `lang`.
    pub fn label(self, lang: Lang) -> String {
        match self {
            Self::Pinned => tr!(lang, chat.sidebar.pinned).to_string(),
            Self::Today => tr!(lang, chat.sidebar.today).to_string(),
            Self::Yesterday => tr!(lang, chat.sidebar.yesterday).to_string(),
            Self::Week => tr!(lang, chat.sidebar.previous_7_days).to_string(),
            Self::Month => tr!(lang, chat.sidebar.previous_30_days).to_string(),
            Self::Calendar(year, month) => format!("{} {year}", month_name(lang, month)),
        }
    }
}

/// The group of a conversation last active at `at` (epoch ms), seen at `now` by someone `offset_minutes` east of UTC.
pub fn group_of(c: &ConversationSummary, now: i64, offset_minutes: i32) -> Group {
    if c.is_pinned {
        return Group::Pinned;
    }
    let offset = i64::from(offset_minutes) * 60_000;
    let day = (c.last_activity + offset).div_euclid(DAY_MS);
    let today = (now + offset).div_euclid(DAY_MS);
    match today - day {
        i64::MIN..=0 => Group::Today,
        1 => Group::Yesterday,
        2..=7 => Group::Week,
        8..=30 => Group::Month,
        _ => {
            let (year, month, _) = civil_from_days(day);
            Group::Calendar(year, month)
        }
    }
}

/// The conversations in their groups, in order (the list comes pinned first, then newest first).
pub fn grouped(
    list: Vec<ConversationSummary>,
    now: i64,
    offset_minutes: i32,
) -> Vec<(Group, Vec<ConversationSummary>)> {
    let mut groups: Vec<(Group, Vec<ConversationSummary>)> = Vec::new();
    for c in list {
        let group = group_of(&c, now, offset_minutes);
        match groups.last_mut() {
            Some((last, items)) if *last == group => items.push(c),
            _ => groups.push((group, vec![c])),
        }
    }
    groups
}

/// Year, month (1–12) and day of the date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

fn month_name(lang: Lang, month: u32) -> &'static str {
    match month {
        1 => tr!(lang, core.month.january),
        2 => tr!(lang, core.month.february),
        3 => tr!(lang, core.month.march),
        4 => tr!(lang, core.month.april),
        5 => tr!(lang, core.month.may),
        6 => tr!(lang, core.month.june),
        7 => tr!(lang, core.month.july),
        8 => tr!(lang, core.month.august),
        9 => tr!(lang, core.month.september),
        10 => tr!(lang, core.month.october),
        11 => tr!(lang, core.month.november),
        _ => tr!(lang, core.month.december),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64, pinned: bool) -> ConversationSummary {
        ConversationSummary {
            id: ms,
            title: String::new(),
            is_pinned: pinned,
            status: "active".into(),
            tags: Vec::new(),
            last_activity: ms,
        }
    }

    // 2026-12-01 10:00 UTC.
    const NOW: i64 = 1_796_119_200_000;

    #[test]
    fn days_count_in_the_users_zone() {
        let hour = 3_600_000;
        // 23:30 UTC the evening before is yesterday in UTC, today in Paris (UTC+1).
        let evening = NOW - 10 * hour - hour / 2;
        assert_eq!(group_of(&at(evening, false), NOW, 0), Group::Yesterday);
        assert_eq!(group_of(&at(evening, false), NOW, 60), Group::Today);
        // 05:00 UTC today is midnight in New York (UTC−5): today there; a millisecond earlier, yesterday.
        assert_eq!(group_of(&at(NOW - 5 * hour, false), NOW, -300), Group::Today);
        assert_eq!(group_of(&at(NOW - 5 * hour - 1, false), NOW, -300), Group::Yesterday);
        assert_eq!(group_of(&at(NOW - 3 * DAY_MS, false), NOW, 0), Group::Week);
        assert_eq!(group_of(&at(NOW - 20 * DAY_MS, false), NOW, 0), Group::Month);
        assert_eq!(
            group_of(&at(NOW - 40 * DAY_MS, false), NOW, 0),
            Group::Calendar(2026, 10)
        );
        assert_eq!(group_of(&at(NOW - 400 * DAY_MS, true), NOW, 0), Group::Pinned);
        assert_eq!(Group::Calendar(2026, 10).label(Lang::Fr), "octobre 2026");
        assert_eq!(Group::Calendar(2025, 1).label(Lang::En), "January 2025");
    }

    #[test]
    fn groups_keep_the_lists_order() {
        let list = vec![
            at(NOW - 90 * DAY_MS, true),
            at(NOW - 1000, false),
            at(NOW - 2000, false),
            at(NOW - 2 * DAY_MS, false),
        ];
        let groups = grouped(list, NOW, 0);
        let shape: Vec<(Group, usize)> = groups.iter().map(|(g, items)| (*g, items.len())).collect();
        assert_eq!(shape, [(Group::Pinned, 1), (Group::Today, 2), (Group::Week, 1)]);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(NOW / DAY_MS), (2026, 12, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
