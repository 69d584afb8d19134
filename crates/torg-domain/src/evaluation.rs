//! Evaluation (evaluering): the figures of a period worked out from what the store counts.
//!
//! The store aggregates in SQL (counts by channel and unit, by hour, durations in buckets,
//! the slow emails' hours) so that a year of a large municipality is a few hundred rows; this
//! module turns them into what a page shows: quantiles, shares, the hour of the week in the
//! municipality's time zone, the Swedish KKiK measure on its working calendar, and channel
//! shift in kroner. Pure, so every figure is unit-tested.

use crate::Channel;
use crate::calendar::WorkingCalendar;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// A share: `part` of `whole` (a percentage when there is a whole).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Share {
    pub part: i64,
    pub whole: i64,
}

impl Share {
    pub fn new(part: i64, whole: i64) -> Share {
        Share { part, whole }
    }

    /// The share in whole percent, rounded; `None` when there is nothing to share.
    pub fn percent(self) -> Option<i64> {
        (self.whole > 0).then(|| (self.part * 200 + self.whole) / (self.whole * 2))
    }
}

/// The duration buckets the store groups by, in SQL that both databases run alike: by the
/// minute under an hour, by the quarter hour under two days, by three hours after. `$d` is
/// a duration in milliseconds.
pub const BUCKET_SQL: &str = "CASE WHEN $d < 3600000 THEN $d / 60000 \
     WHEN $d < 172800000 THEN 60 + ($d - 3600000) / 900000 \
     ELSE 248 + ($d - 172800000) / 10800000 END";

/// The bucket of a duration (as [`BUCKET_SQL`] computes it).
pub fn bucket_of(d: SignedDuration) -> i64 {
    let ms = d.as_millis().max(0) as i64;
    if ms < 3_600_000 {
        ms / 60_000
    } else if ms < 172_800_000 {
        60 + (ms - 3_600_000) / 900_000
    } else {
        248 + (ms - 172_800_000) / 10_800_000
    }
}

/// The middle of a bucket: what a quantile that falls in it reports.
pub fn bucket_middle(bucket: i64) -> SignedDuration {
    let secs = if bucket < 60 {
        bucket * 60 + 30
    } else if bucket < 248 {
        3600 + (bucket - 60) * 900 + 450
    } else {
        172_800 + (bucket - 248) * 10_800 + 5_400
    };
    SignedDuration::from_secs(secs)
}

/// The `q` quantile (0–1) of durations counted by bucket; `None` when there are none.
pub fn quantile(buckets: &[(i64, i64)], q: f64) -> Option<SignedDuration> {
    let mut sorted: Vec<(i64, i64)> = buckets.iter().copied().filter(|b| b.1 > 0).collect();
    sorted.sort_unstable();
    let total: i64 = sorted.iter().map(|b| b.1).sum();
    if total == 0 {
        return None;
    }
    // The nearest-rank quantile: the smallest value with at least q of all at or below it.
    let rank = ((q * total as f64).ceil() as i64).clamp(1, total);
    let mut seen = 0;
    for (bucket, n) in sorted {
        seen += n;
        if seen >= rank {
            return Some(bucket_middle(bucket));
        }
    }
    None
}

/// Counts by hour since the epoch (`received_at / 3_600_000`) as the 168 hours of the week in
/// `zone`, Monday 00–01 first. Exact: every Nordic offset is whole hours.
pub fn hours_of_week(by_hour: &[(i64, i64)], zone: &TimeZone) -> [i64; 168] {
    let mut week = [0; 168];
    for &(hour, n) in by_hour {
        let Ok(at) = Timestamp::from_second(hour * 3600) else {
            continue;
        };
        let local = at.to_zoned(zone.clone());
        let day = i64::from(local.weekday().to_monday_zero_offset());
        let slot = (day * 24 + i64::from(local.hour())) as usize;
        week[slot] += n;
    }
    week
}

/// Emails answered within two working days (KKiK, *Kommunens Kvalitet i Korthet*: "svar
/// inom två arbetsdagar"): the limit is the end of the second working day after the day the
/// email came. `fast` were answered within a day (always in time), `slow` are
/// (hour received, hour answered, count) for those answered between a day and fourteen
/// (checked here against the calendar); later answers and unanswered ones are not in time.
pub fn within_two_working_days(
    total: i64,
    fast: i64,
    slow: &[(i64, i64, i64)],
    calendar: &WorkingCalendar,
) -> Share {
    let mut in_time = fast;
    for &(received_hour, answered_hour, n) in slow {
        let Ok(received) = Timestamp::from_second(received_hour * 3600) else {
            continue;
        };
        let limit = calendar.end_of_working_day(received, 2);
        // The answer came within its hour; the limit is a whole hour, so this is exact
        // when the limit is on the hour and errs to "late" otherwise.
        if (answered_hour + 1) * 3600 <= limit.as_second() {
            in_time += n;
        }
    }
    Share::new(in_time, total)
}

/// How much a contact on each channel costs the municipality, in kroner (kostnad per
/// kontakt). KS's figures are the defaults: 80 for a visit, 40 for a call, 3 for a digital
/// contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Costs {
    /// (channel, kroner) for every channel of [`Channel::ALL`].
    pub per_channel: Vec<(Channel, i64)>,
}

/// The cost of a visit at the service desk in KS's figures (Torg does not count visits).
pub const VISIT_COST: i64 = 80;

impl Default for Costs {
    fn default() -> Costs {
        Costs {
            per_channel: Channel::ALL
                .iter()
                .map(|&c| (c, if c == Channel::Phone { 40 } else { 3 }))
                .collect(),
        }
    }
}

/// A cost that is not a whole number of kroner from 0 to 10,000.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a cost per contact is a whole number of kroner from 0 to 10000: {0}")]
pub struct BadCost(pub String);

impl Costs {
    pub fn of(&self, channel: Channel) -> i64 {
        self.per_channel
            .iter()
            .find(|c| c.0 == channel)
            .map_or(0, |c| c.1)
    }

    /// Sets one channel's cost from what was typed.
    pub fn set(&mut self, channel: Channel, typed: &str) -> Result<(), BadCost> {
        let kroner: i64 = typed
            .trim()
            .parse()
            .ok()
            .filter(|k| (0..=10_000).contains(k))
            .ok_or_else(|| BadCost(typed.chars().take(20).collect()))?;
        for c in &mut self.per_channel {
            if c.0 == channel {
                c.1 = kroner;
            }
        }
        Ok(())
    }

    /// As stored: `web=3,phone=40,…`.
    pub fn to_stored(&self) -> String {
        self.per_channel
            .iter()
            .map(|(c, k)| format!("{}={k}", c.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads what [`Costs::to_stored`] wrote; channels missing keep their default.
    pub fn from_stored(s: &str) -> Costs {
        let mut costs = Costs::default();
        for pair in s.split(',') {
            if let Some((c, k)) = pair.split_once('=')
                && let Ok(channel) = c.parse::<Channel>()
            {
                let _ = costs.set(channel, k);
            }
        }
        costs
    }

    /// What `contacts` (by channel) cost.
    pub fn total(&self, contacts: &[(Channel, i64)]) -> i64 {
        contacts.iter().map(|&(c, n)| self.of(c) * n).sum()
    }
}

/// The tables of the evaluation a municipality may publish on its portal and as open data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// Inquiries by channel.
    Channels,
    /// Inquiries by unit.
    Units,
    /// Inquiries by hour of the week.
    Hours,
    /// Time to first answer and to close, shares within deadline and two working days.
    Answers,
    /// The survey's answers.
    Satisfaction,
    /// Contacts by channel times their cost, against the same period a year before.
    ChannelShift,
    /// Published messages and how many read them.
    Reach,
}

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Channels,
        Table::Units,
        Table::Hours,
        Table::Answers,
        Table::Satisfaction,
        Table::ChannelShift,
        Table::Reach,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Table::Channels => "channels",
            Table::Units => "units",
            Table::Hours => "hours",
            Table::Answers => "answers",
            Table::Satisfaction => "satisfaction",
            Table::ChannelShift => "channel-shift",
            Table::Reach => "reach",
        }
    }

    pub fn parse(s: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// A list as stored: names separated by commas.
    pub fn list_to_stored(tables: &[Table]) -> String {
        tables
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn list_from_stored(s: &str) -> Vec<Table> {
        s.split(',').filter_map(Table::parse).collect()
    }
}

/// The licences open data may be published under.
pub const LICENCES: [(&str, &str); 3] = [
    ("NLOD-2.0", "https://data.norge.no/nlod/no/2.0"),
    ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/"),
    (
        "CC0-1.0",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
];

/// The address of a licence's text; `None` for a licence Torg does not know.
pub fn licence_url(licence: &str) -> Option<&'static str> {
    LICENCES.iter().find(|l| l.0 == licence).map(|l| l.1)
}

/// The channels whose citizens are asked the satisfaction question after closing, and how:
/// by email or SMS with a link, or on the follow page (web, chat). Calls were answered on
/// the phone, and a question under a public post would be the municipality's post, so
/// phone and the social networks are not asked.
pub const SURVEYED: [Channel; 4] = [Channel::Email, Channel::Sms, Channel::Web, Channel::Chat];

/// How long after closing the question is sent (an inquiry reopened meanwhile is not asked).
pub const SURVEY_DELAY: SignedDuration = SignedDuration::from_mins(30);

/// A question not sent within this long after it fell due (Torg was down for a week, say)
/// is dropped: the citizen would no longer remember.
pub const SURVEY_STALE: SignedDuration = SignedDuration::from_hours(24 * 7);

/// The longest comment kept with a survey answer, in characters.
pub const SURVEY_COMMENT_MAX: usize = 2000;

/// A survey answer as the citizen gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyAnswer {
    /// 1 (not at all satisfied) to 5 (very satisfied).
    pub score: i64,
    pub comment: String,
}

/// Why a survey answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadAnswer {
    #[error("choose a number from 1 to 5")]
    Score,
    #[error("the comment is longer than {SURVEY_COMMENT_MAX} characters")]
    Comment,
}

impl SurveyAnswer {
    pub fn parse(score: &str, comment: &str) -> Result<SurveyAnswer, BadAnswer> {
        let score: i64 = score
            .trim()
            .parse()
            .ok()
            .filter(|s| (1..=5).contains(s))
            .ok_or(BadAnswer::Score)?;
        let comment = comment.trim();
        if comment.chars().count() > SURVEY_COMMENT_MAX {
            return Err(BadAnswer::Comment);
        }
        Ok(SurveyAnswer {
            score,
            comment: comment.to_string(),
        })
    }
}

impl SurveyAnswer {
    /// An SMS that answers the question: a score 1–5 as its first word ("4", "5!",
    /// "4 takk for hjelpa"), the rest as the comment (cut to its longest).
    pub fn from_sms(text: &str) -> Option<SurveyAnswer> {
        let text = text.trim();
        let first = text.split_whitespace().next()?;
        let digit = first.trim_end_matches(['.', '!', ',', ')', ':']);
        if digit.len() != 1 {
            return None;
        }
        let rest = text[first.len()..].trim();
        let comment: String = rest.chars().take(SURVEY_COMMENT_MAX).collect();
        SurveyAnswer::parse(digit, &comment).ok()
    }
}

/// What a network counts of one of an account's posts (its reach read back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The network's id of the post.
    pub id: String,
    /// Its address (permalink), where the network gives one.
    pub address: String,
    pub reactions: i64,
    pub comments: i64,
    pub shares: i64,
}

impl Counted {
    /// Whether this is the post Torg keeps as `kept` (what the network answered when it took
    /// the post: its address, or its id; Mastodon's addresses end in the status's id).
    pub fn is(&self, kept: &str) -> bool {
        (!self.address.is_empty() && kept == self.address)
            || (!self.id.is_empty()
                && (kept == self.id || kept.rsplit('/').next() == Some(&self.id)))
    }
}

/// The mean score in tenths (4.2 is 42) of counts by score 1–5.
pub fn mean_tenths(by_score: &[i64; 5]) -> Option<i64> {
    let n: i64 = by_score.iter().sum();
    let sum: i64 = by_score
        .iter()
        .enumerate()
        .map(|(i, c)| (i as i64 + 1) * c)
        .sum();
    (n > 0).then(|| (sum * 20 + n) / (n * 2))
}

/// The change from `before` to `now` in whole percent; `None` without a before.
pub fn change_percent(before: i64, now: i64) -> Option<i64> {
    (before > 0).then(|| ((now - before) * 200 + before).div_euclid(before * 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_post_is_known_by_address_or_id() {
        let c = |id: &str, address: &str| Counted {
            id: id.into(),
            address: address.into(),
            reactions: 0,
            comments: 0,
            shares: 0,
        };
        assert!(c("110001", "").is("https://m.example/@kommune/110001"));
        assert!(c("PAGE_7", "https://www.facebook.com/PAGE/posts/7").is("PAGE_7"));
        assert!(c("1790", "https://www.instagram.com/p/P5/").is("https://www.instagram.com/p/P5/"));
        assert!(!c("", "").is("https://gone.example/9"));
        assert!(!c("9", "").is("https://gone.example/19"));
    }

    #[test]
    fn an_sms_answers_with_its_first_digit() {
        let a = SurveyAnswer::from_sms(" 4 takk for hjelpa ").expect("answer");
        assert_eq!((a.score, a.comment.as_str()), (4, "takk for hjelpa"));
        assert_eq!(SurveyAnswer::from_sms("5!").map(|a| a.score), Some(5));
        for not in ["", "0", "6", "45", "tre", "4x bra", "3barn", "Hei 4"] {
            assert_eq!(SurveyAnswer::from_sms(not), None, "{not}");
        }
        let long = format!("2 {}", "x".repeat(SURVEY_COMMENT_MAX + 50));
        assert_eq!(
            SurveyAnswer::from_sms(&long).map(|a| a.comment.chars().count()),
            Some(SURVEY_COMMENT_MAX)
        );
    }
    use proptest::prelude::*;

    #[test]
    fn shares_round_to_whole_percent() {
        assert_eq!(Share::new(1, 3).percent(), Some(33));
        assert_eq!(Share::new(2, 3).percent(), Some(67));
        assert_eq!(Share::new(0, 0).percent(), None);
        assert_eq!(Share::new(5, 5).percent(), Some(100));
    }

    #[test]
    fn quantiles_of_buckets() {
        // 10 answers after 5 minutes, 10 after 3 hours.
        let five = bucket_of(SignedDuration::from_mins(5));
        let three_h = bucket_of(SignedDuration::from_hours(3));
        let b = [(five, 10), (three_h, 10)];
        assert_eq!(
            quantile(&b, 0.5),
            Some(SignedDuration::from_secs(5 * 60 + 30))
        );
        let p90 = quantile(&b, 0.9).expect("test value");
        assert!(p90 >= SignedDuration::from_hours(3) && p90 < SignedDuration::from_mins(195));
        assert_eq!(quantile(&[], 0.5), None);
    }

    proptest! {
        #[test]
        fn a_bucket_holds_its_middle(secs in 0i64..10_000_000) {
            let d = SignedDuration::from_secs(secs);
            let b = bucket_of(d);
            prop_assert_eq!(bucket_of(bucket_middle(b)), b);
            // The middle is within 1.5 hours of the duration, and within 8 minutes under 2 days.
            let off = (bucket_middle(b).as_secs() - secs).abs();
            prop_assert!(off <= 5400);
            if secs < 172_800 { prop_assert!(off <= 450); }
        }

        #[test]
        fn buckets_keep_order(a in 0i64..10_000_000, b in 0i64..10_000_000) {
            let (x, y) = (bucket_of(SignedDuration::from_secs(a)), bucket_of(SignedDuration::from_secs(b)));
            prop_assert!(a > b || x <= y);
        }
    }

    #[test]
    fn hours_of_the_week_in_local_time() {
        let zone = TimeZone::get("Europe/Oslo").expect("test value");
        // Monday 2026-03-02 08:00 UTC is 09:00 in Oslo (winter), slot 9.
        let winter = Timestamp::from_second(1_772_438_400)
            .expect("test value")
            .as_second()
            / 3600;
        // Monday 2026-06-01 07:00 UTC is 09:00 in Oslo (summer), slot 9 too.
        let summer = "2026-06-01T07:00:00Z"
            .parse::<Timestamp>()
            .expect("test value")
            .as_second()
            / 3600;
        let week = hours_of_week(&[(winter, 2), (summer, 3)], &zone);
        assert_eq!(week[9], 5);
        assert_eq!(week.iter().sum::<i64>(), 5);
    }

    #[test]
    fn two_working_days_on_the_calendar() {
        let cal = WorkingCalendar::office_hours("Europe/Stockholm").expect("test value");
        // Received Friday 2026-09-04 10:00 local (08:00 UTC); the limit is Tuesday's close.
        let friday = "2026-09-04T08:00:00Z"
            .parse::<Timestamp>()
            .expect("test value")
            .as_second()
            / 3600;
        let monday = "2026-09-07T12:00:00Z"
            .parse::<Timestamp>()
            .expect("test value")
            .as_second()
            / 3600;
        let wednesday = "2026-09-09T08:00:00Z"
            .parse::<Timestamp>()
            .expect("test value")
            .as_second()
            / 3600;
        let share =
            within_two_working_days(4, 1, &[(friday, monday, 1), (friday, wednesday, 1)], &cal);
        assert_eq!(share, Share::new(2, 4));
    }

    #[test]
    fn costs_default_to_ks_and_round_trip() {
        let mut c = Costs::default();
        assert_eq!(c.of(Channel::Phone), 40);
        assert_eq!(c.of(Channel::Email), 3);
        c.set(Channel::Email, " 5 ").expect("test value");
        assert!(c.set(Channel::Email, "-1").is_err());
        assert!(c.set(Channel::Email, "fem").is_err());
        assert_eq!(Costs::from_stored(&c.to_stored()), c);
        assert_eq!(c.total(&[(Channel::Phone, 2), (Channel::Email, 10)]), 130);
    }

    #[test]
    fn survey_answers() {
        assert_eq!(
            SurveyAnswer::parse("4", " fint "),
            Ok(SurveyAnswer {
                score: 4,
                comment: "fint".into()
            })
        );
        assert_eq!(SurveyAnswer::parse("6", ""), Err(BadAnswer::Score));
        assert_eq!(SurveyAnswer::parse("<b>", ""), Err(BadAnswer::Score));
        assert_eq!(
            SurveyAnswer::parse("3", &"x".repeat(2001)),
            Err(BadAnswer::Comment)
        );
    }

    #[test]
    fn means_and_changes() {
        assert_eq!(mean_tenths(&[0, 0, 0, 1, 1]), Some(45));
        assert_eq!(mean_tenths(&[0; 5]), None);
        assert_eq!(change_percent(100, 80), Some(-20));
        assert_eq!(change_percent(0, 80), None);
        assert_eq!(change_percent(3, 4), Some(33));
    }

    #[test]
    fn tables_and_licences() {
        let all = Table::list_to_stored(&Table::ALL);
        assert_eq!(Table::list_from_stored(&all), Table::ALL.to_vec());
        assert_eq!(
            Table::list_from_stored("units,nonsense"),
            vec![Table::Units]
        );
        assert!(licence_url("NLOD-2.0").is_some());
        assert!(licence_url("x").is_none());
    }
}
