//! Answer deadlines (svarfrist): policies and how they turn a receipt time into a deadline on
//! a municipality's working calendar.

use crate::Channel;
use crate::calendar::WorkingCalendar;
use jiff::civil::Time;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How long the municipality gives itself to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeadlinePolicy {
    /// Within N hours of calendar time ("innen 24 timer").
    WithinHours { hours: u32 },
    /// Within N hours of open time.
    WithinWorkingHours { hours: u32 },
    /// The same working day when received before `cutoff`; otherwise the next working day by
    /// `next_day_by` ("samme arbeidsdag").
    SameWorkingDay { cutoff: Time, next_day_by: Time },
    /// By the end of the Nth working day after the day received.
    WithinWorkingDays { days: u32 },
}

impl DeadlinePolicy {
    /// The deadline of an inquiry received at `received`.
    pub fn deadline(&self, calendar: &WorkingCalendar, received: Timestamp) -> Timestamp {
        match *self {
            DeadlinePolicy::WithinHours { hours } => received
                .checked_add(SignedDuration::from_hours(i64::from(hours)))
                .unwrap_or(received),
            DeadlinePolicy::WithinWorkingHours { hours } => {
                calendar.add_working_time(received, SignedDuration::from_hours(i64::from(hours)))
            }
            DeadlinePolicy::SameWorkingDay {
                cutoff,
                next_day_by,
            } => {
                let local = received.to_zoned(calendar.zone().clone());
                match calendar.interval(local.date()) {
                    Some((_, close)) if local.time() < cutoff && received < close => close,
                    _ => calendar.next_working_day_at(received, next_day_by),
                }
            }
            DeadlinePolicy::WithinWorkingDays { days } => {
                calendar.end_of_working_day(received, days)
            }
        }
    }
}

/// Policies are written `hours:24`, `working_hours:8`, `same_working_day:14:00/12:00`,
/// `working_days:2` (configuration files, the CLI and the database).
impl fmt::Display for DeadlinePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadlinePolicy::WithinHours { hours } => write!(f, "hours:{hours}"),
            DeadlinePolicy::WithinWorkingHours { hours } => write!(f, "working_hours:{hours}"),
            DeadlinePolicy::SameWorkingDay {
                cutoff,
                next_day_by,
            } => {
                write!(
                    f,
                    "same_working_day:{}/{}",
                    cutoff.strftime("%H:%M"),
                    next_day_by.strftime("%H:%M")
                )
            }
            DeadlinePolicy::WithinWorkingDays { days } => write!(f, "working_days:{days}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a deadline policy; write hours:24, working_hours:8, same_working_day:14:00/12:00 or working_days:2"
)]
pub struct NotAPolicy(pub String);

impl FromStr for DeadlinePolicy {
    type Err = NotAPolicy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || NotAPolicy(s.to_string());
        let (kind, value) = s.trim().split_once(':').ok_or_else(err)?;
        let number = || value.parse::<u32>().map_err(|_| err());
        let time = |t: &str| t.parse::<Time>().map_err(|_| err());
        match kind {
            "hours" => Ok(DeadlinePolicy::WithinHours { hours: number()? }),
            "working_hours" => Ok(DeadlinePolicy::WithinWorkingHours { hours: number()? }),
            "working_days" => Ok(DeadlinePolicy::WithinWorkingDays { days: number()? }),
            "same_working_day" => {
                let (cutoff, next) = value.split_once('/').ok_or_else(err)?;
                Ok(DeadlinePolicy::SameWorkingDay {
                    cutoff: time(cutoff)?,
                    next_day_by: time(next)?,
                })
            }
            _ => Err(err()),
        }
    }
}

/// The policy when a municipality has set none: social media and chat the same working day
/// (KS roadmap), SMS and phone the next working day, the rest within two working days.
pub fn default_policy(channel: Channel) -> DeadlinePolicy {
    match channel {
        Channel::Chat
        | Channel::Facebook
        | Channel::Instagram
        | Channel::Mastodon
        | Channel::Listening => DeadlinePolicy::SameWorkingDay {
            cutoff: Time::constant(14, 0, 0, 0),
            next_day_by: Time::constant(12, 0, 0, 0),
        },
        Channel::Sms | Channel::Phone => DeadlinePolicy::WithinWorkingDays { days: 1 },
        Channel::Web | Channel::Email | Channel::Api => {
            DeadlinePolicy::WithinWorkingDays { days: 2 }
        }
    }
}

/// One policy rule of a municipality; every condition set must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    pub channel: Option<Channel>,
    pub unit_id: Option<crate::UnitId>,
    pub topic: Option<String>,
    pub policy: DeadlinePolicy,
}

impl PolicyRule {
    fn specificity(
        &self,
        channel: Channel,
        unit_id: crate::UnitId,
        topic: Option<&str>,
    ) -> Option<u8> {
        let mut score = 0;
        if let Some(c) = self.channel {
            if c != channel {
                return None;
            }
            score += 1;
        }
        if let Some(u) = self.unit_id {
            if u != unit_id {
                return None;
            }
            score += 2;
        }
        if let Some(t) = &self.topic {
            if topic != Some(t.as_str()) {
                return None;
            }
            score += 4;
        }
        Some(score)
    }
}

/// A planned peak (e.g. the last three days before the kindergarten application deadline):
/// inquiries received in the window get its policy, and staff see the staffing note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedPeak {
    pub id: i64,
    pub name: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub policy: DeadlinePolicy,
    /// Who is extra on duty, and how.
    pub staffing_note: String,
}

impl PlannedPeak {
    pub fn covers(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// The peak covering `at`, if any (the one that started last when they overlap).
pub fn active_peak(peaks: &[PlannedPeak], at: Timestamp) -> Option<&PlannedPeak> {
    peaks
        .iter()
        .filter(|p| p.covers(at))
        .max_by_key(|p| p.starts_at)
}

/// The policy for an inquiry: the most specific matching rule (topic over unit over channel;
/// the first written among equals), else the country's default for a request for access
/// (three working days in Norway, one in Sweden) and the default of the channel for the rest.
pub fn resolve(
    country: Option<crate::calendar::Country>,
    rules: &[PolicyRule],
    channel: Channel,
    unit_id: crate::UnitId,
    topic: Option<&str>,
) -> DeadlinePolicy {
    let mut best: Option<(u8, &PolicyRule)> = None;
    for r in rules {
        if let Some(s) = r.specificity(channel, unit_id, topic)
            && best.is_none_or(|(b, _)| s > b)
        {
            best = Some((s, r));
        }
    }
    best.map(|(_, r)| r.policy).unwrap_or_else(|| {
        if topic == Some(crate::access_request::TOPIC) {
            crate::access_request::default_policy(country)
        } else {
            default_policy(channel)
        }
    })
}

/// Where an open inquiry stands against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    InTime,
    /// More than the warning share of the time has passed (default 75 %): escalate.
    Warning,
    Overdue,
}

/// The state at `now` of an inquiry received at `received` and due at `deadline`, warning
/// after `warn_permille`/1000 of the time.
pub fn deadline_state(
    received: Timestamp,
    deadline: Timestamp,
    now: Timestamp,
    warn_permille: i64,
) -> DeadlineState {
    let (r, d, n) = (
        received.as_millisecond(),
        deadline.as_millisecond(),
        now.as_millisecond(),
    );
    if n > d {
        DeadlineState::Overdue
    } else if i128::from(r) * 1000 + i128::from(d - r) * i128::from(warn_permille)
        <= i128::from(n) * 1000
    {
        DeadlineState::Warning
    } else {
        DeadlineState::InTime
    }
}

/// The deadline with the channel's default policy on `calendar`.
pub fn deadline_for(
    calendar: &WorkingCalendar,
    channel: Channel,
    received: Timestamp,
) -> Timestamp {
    default_policy(channel).deadline(calendar, received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn oslo() -> WorkingCalendar {
        WorkingCalendar::office_hours("Europe/Oslo").expect("calendar")
    }

    #[test]
    fn a_request_for_access_has_three_working_days_unless_a_rule_says_otherwise() {
        let topic = Some(crate::access_request::TOPIC);
        assert_eq!(
            resolve(None, &[], Channel::Email, crate::UnitId(1), topic),
            DeadlinePolicy::WithinWorkingDays { days: 3 }
        );
        assert_eq!(
            resolve(None, &[], Channel::Email, crate::UnitId(1), Some("water")),
            DeadlinePolicy::WithinWorkingDays { days: 2 }
        );
        let rule = PolicyRule {
            channel: None,
            unit_id: None,
            topic: Some(crate::access_request::TOPIC.into()),
            policy: DeadlinePolicy::WithinWorkingDays { days: 1 },
        };
        assert_eq!(
            resolve(
                None,
                std::slice::from_ref(&rule),
                Channel::Web,
                crate::UnitId(1),
                topic
            ),
            DeadlinePolicy::WithinWorkingDays { days: 1 }
        );
        // In Sweden one working day ("skyndsamt"), unless the municipality sets its own.
        let se = Some(crate::calendar::Country::Se);
        assert_eq!(
            resolve(se, &[], Channel::Web, crate::UnitId(1), topic),
            DeadlinePolicy::WithinWorkingDays { days: 1 }
        );
        let own = PolicyRule {
            policy: DeadlinePolicy::WithinWorkingDays { days: 2 },
            ..rule
        };
        assert_eq!(
            resolve(se, &[own], Channel::Web, crate::UnitId(1), topic),
            DeadlinePolicy::WithinWorkingDays { days: 2 }
        );
        // Received Monday 30 March 2026 at 10:00 in Oslo: Tuesday and Wednesday count, Maundy
        // Thursday, Good Friday and Easter Monday do not, so the third working day is Tuesday
        // 7 April.
        let due = DeadlinePolicy::WithinWorkingDays { days: 3 }
            .deadline(&oslo(), ts("2026-03-30T08:00:00Z"));
        assert_eq!(oslo().local_date(due).to_string(), "2026-04-07");
    }
    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn policies_round_trip_through_text() {
        for p in [
            "hours:24",
            "working_hours:8",
            "same_working_day:14:00/12:00",
            "working_days:2",
        ] {
            assert_eq!(p.parse::<DeadlinePolicy>().expect("parse").to_string(), p);
        }
        for bad in ["", "hours", "hours:x", "weeks:2", "same_working_day:14:00"] {
            assert!(bad.parse::<DeadlinePolicy>().is_err(), "{bad}");
        }
    }

    #[test]
    fn each_policy_on_the_day_before_christmas_eve() {
        let c = oslo();
        // Wednesday 23 December 2026 15:00 local.
        let r = ts("2026-12-23T14:00:00Z");
        let p = |s: &str| s.parse::<DeadlinePolicy>().expect("policy").deadline(&c, r);
        assert_eq!(p("hours:24"), ts("2026-12-24T14:00:00Z"));
        // 30 minutes left on the 23rd; 24th is an ordinary working day in Norway.
        assert_eq!(p("working_hours:1"), ts("2026-12-24T07:30:00Z"));
        // After the 14:00 cut-off: next working day by 12:00.
        assert_eq!(
            p("same_working_day:14:00/12:00"),
            ts("2026-12-24T11:00:00Z")
        );
        // 25th, 26th holidays, 27th Sunday: the 2nd working day after is Monday 28th.
        assert_eq!(p("working_days:2"), ts("2026-12-28T14:30:00Z"));
    }

    #[test]
    fn same_working_day_before_the_cutoff() {
        let c = oslo();
        let r = ts("2026-11-23T09:00:00Z"); // Monday 10:00 local
        let p: DeadlinePolicy = "same_working_day:14:00/12:00".parse().expect("policy");
        assert_eq!(p.deadline(&c, r), ts("2026-11-23T14:30:00Z"));
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rule = |channel, unit_id, topic: Option<&str>, policy: &str| PolicyRule {
            channel,
            unit_id,
            topic: topic.map(String::from),
            policy: policy.parse().expect("policy"),
        };
        let rules = vec![
            rule(Some(Channel::Email), None, None, "working_days:3"),
            rule(None, Some(crate::UnitId(7)), None, "working_days:5"),
            rule(
                Some(Channel::Email),
                Some(crate::UnitId(7)),
                None,
                "working_days:4",
            ),
            rule(None, None, Some("school"), "hours:24"),
        ];
        assert_eq!(
            resolve(None, &rules, Channel::Email, crate::UnitId(1), None).to_string(),
            "working_days:3"
        );
        assert_eq!(
            resolve(None, &rules, Channel::Web, crate::UnitId(7), None).to_string(),
            "working_days:5"
        );
        assert_eq!(
            resolve(None, &rules, Channel::Email, crate::UnitId(7), None).to_string(),
            "working_days:4"
        );
        assert_eq!(
            resolve(
                None,
                &rules,
                Channel::Email,
                crate::UnitId(7),
                Some("school")
            )
            .to_string(),
            "hours:24"
        );
        assert_eq!(
            resolve(None, &rules, Channel::Facebook, crate::UnitId(1), None),
            default_policy(Channel::Facebook)
        );
    }

    #[test]
    fn a_peak_covers_its_window() {
        let peak = PlannedPeak {
            id: 1,
            name: "Barnehagesøknad".into(),
            starts_at: ts("2027-02-26T00:00:00Z"),
            ends_at: ts("2027-03-01T23:00:00Z"),
            policy: "working_hours:4".parse().expect("policy"),
            staffing_note: "To ekstra på Servicetorget".into(),
        };
        let peaks = vec![peak];
        assert!(active_peak(&peaks, ts("2027-02-27T10:00:00Z")).is_some());
        assert!(
            active_peak(&peaks, ts("2027-03-01T23:00:00Z")).is_none(),
            "the end is exclusive"
        );
        assert!(active_peak(&peaks, ts("2027-02-25T23:59:59Z")).is_none());
    }

    #[test]
    fn states_move_from_in_time_to_warning_to_overdue() {
        let r = ts("2026-11-23T08:00:00Z");
        let d = ts("2026-11-23T12:00:00Z");
        assert_eq!(
            deadline_state(r, d, ts("2026-11-23T10:59:00Z"), 750),
            DeadlineState::InTime
        );
        assert_eq!(
            deadline_state(r, d, ts("2026-11-23T11:00:00Z"), 750),
            DeadlineState::Warning
        );
        assert_eq!(
            deadline_state(r, d, ts("2026-11-23T12:00:00Z"), 750),
            DeadlineState::Warning
        );
        assert_eq!(
            deadline_state(r, d, ts("2026-11-23T12:00:01Z"), 750),
            DeadlineState::Overdue
        );
        assert_eq!(
            deadline_state(r, d, ts("2026-11-23T09:00:00Z"), 250),
            DeadlineState::Warning
        );
    }

    proptest! {
        #[test]
        fn working_policies_never_end_in_closed_time(secs in 1_600_000_000i64..2_200_000_000, n in 0u32..40, which in 0u8..3) {
            let c = oslo();
            let received = Timestamp::from_second(secs).expect("ts");
            let policy = match which {
                0 => DeadlinePolicy::WithinWorkingHours { hours: n },
                1 => DeadlinePolicy::WithinWorkingDays { days: n % 10 },
                _ => DeadlinePolicy::SameWorkingDay { cutoff: Time::constant(14, 0, 0, 0), next_day_by: Time::constant(12, 0, 0, 0) },
            };
            let due = policy.deadline(&c, received);
            prop_assert!(due >= received);
            prop_assert!(c.is_open_or_closing(due), "{policy} from {received} gave {due}");
        }
    }
}
