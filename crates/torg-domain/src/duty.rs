//! The duty rota (vaktliste): who has the main responsibility for a group of channels now.
//! The duty rotates among named staff; each shift hands a note over to the next.

use crate::Channel;
use crate::calendar::CalendarError;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

/// Channel groups a duty can cover.
pub const PUBLIC_CHANNELS: &str = "public";
pub const ALL_CHANNELS: &str = "all";
/// The crisis rota (kriseberedskap): while a crisis goes on, its people are on duty for every
/// channel instead of the ordinary rota; otherwise it counts for nothing.
pub const CRISIS_ROTA: &str = "crisis";

/// The channels of a group: `public` is social media and chat, `all` every channel, and a
/// single channel's name is that channel.
pub fn channels_of(group: &str) -> Vec<Channel> {
    match group {
        PUBLIC_CHANNELS => vec![
            Channel::Facebook,
            Channel::Instagram,
            Channel::Mastodon,
            Channel::Chat,
        ],
        ALL_CHANNELS | CRISIS_ROTA => Channel::ALL.to_vec(),
        other => other.parse().map(|c| vec![c]).unwrap_or_default(),
    }
}

/// One shift of the rota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub id: i64,
    pub group: String,
    pub user_id: crate::UserId,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// What the person on duty hands over to the next shift.
    pub handover_note: String,
}

/// The shift of `group` that covers `now`.
pub fn on_duty<'a>(shifts: &'a [Shift], group: &str, now: Timestamp) -> Option<&'a Shift> {
    shifts
        .iter()
        .filter(|s| s.group == group && s.starts_at <= now && now < s.ends_at)
        .min_by_key(|s| s.starts_at)
}

/// The first shift of `group` that starts after `now`.
pub fn next_on_duty<'a>(shifts: &'a [Shift], group: &str, now: Timestamp) -> Option<&'a Shift> {
    shifts
        .iter()
        .filter(|s| s.group == group && s.starts_at > now)
        .min_by_key(|s| s.starts_at)
}

/// The shift before the one covering `now`: whose handover note the person on duty reads.
pub fn previous_shift<'a>(shifts: &'a [Shift], group: &str, now: Timestamp) -> Option<&'a Shift> {
    shifts
        .iter()
        .filter(|s| s.group == group && s.ends_at <= now)
        .max_by_key(|s| s.ends_at)
}

/// A planned shift: (user, start, end).
pub type PlannedShift = (crate::UserId, Timestamp, Timestamp);

/// Rotates `users` over `count` shifts of `days` days each, starting `from` at `handover` local
/// time, in order and round again. Handover stays at the same local time across DST.
pub fn plan_rotation(
    users: &[crate::UserId],
    zone: &str,
    from: Date,
    handover: Time,
    days: i64,
    count: usize,
) -> Result<Vec<PlannedShift>, CalendarError> {
    let tz = TimeZone::get(zone).map_err(|_| CalendarError::UnknownZone(zone.to_string()))?;
    let at = |d: Date| {
        d.to_datetime(handover)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .ok()
    };
    let mut out = Vec::with_capacity(count);
    if users.is_empty() || days < 1 {
        return Ok(out);
    }
    for n in 0..count {
        let start_day = from.checked_add((n as i64 * days).days()).unwrap_or(from);
        let end_day = start_day.checked_add(days.days()).unwrap_or(start_day);
        if let (Some(s), Some(e)) = (at(start_day), at(end_day)) {
            out.push((users[n % users.len()], s, e));
        }
    }
    Ok(out)
}

/// Who is on duty at `now` for `channel`: the people of every group whose channels include
/// it (e.g. "public channels" for a Facebook comment), once each. In a crisis the crisis
/// rota's people on duty now take over every channel (the ordinary rota when it has none).
pub fn on_duty_for(
    shifts: &[Shift],
    channel: Channel,
    now: Timestamp,
    crisis: bool,
) -> Vec<crate::UserId> {
    let now_on = |s: &&Shift| s.starts_at <= now && now < s.ends_at;
    let crisis_rota = crisis && shifts.iter().filter(now_on).any(|s| s.group == CRISIS_ROTA);
    let mut people: Vec<crate::UserId> = shifts
        .iter()
        .filter(now_on)
        .filter(|s| (s.group == CRISIS_ROTA) == crisis_rota)
        .filter(|s| channels_of(&s.group).contains(&channel))
        .map(|s| s.user_id)
        .collect();
    people.sort_unstable();
    people.dedup();
    people
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_people_on_duty_for_a_channel_are_those_of_its_groups_now() {
        let at = |s: &str| -> Timestamp { s.parse().expect("ts") };
        let shift = |id, group: &str, user_id, from: &str, to: &str| Shift {
            id,
            group: group.into(),
            user_id,
            starts_at: at(from),
            ends_at: at(to),
            handover_note: String::new(),
        };
        let shifts = vec![
            shift(
                1,
                PUBLIC_CHANNELS,
                crate::UserId(7),
                "2026-03-02T07:00:00Z",
                "2026-03-02T15:00:00Z",
            ),
            shift(
                2,
                PUBLIC_CHANNELS,
                crate::UserId(8),
                "2026-03-02T15:00:00Z",
                "2026-03-02T23:00:00Z",
            ),
            shift(
                3,
                "email",
                crate::UserId(9),
                "2026-03-02T07:00:00Z",
                "2026-03-02T15:00:00Z",
            ),
            shift(
                4,
                ALL_CHANNELS,
                crate::UserId(7),
                "2026-03-02T07:00:00Z",
                "2026-03-02T15:00:00Z",
            ),
        ];
        let noon = at("2026-03-02T12:00:00Z");
        assert_eq!(
            on_duty_for(&shifts, Channel::Facebook, noon, false),
            vec![7]
        );
        assert_eq!(
            on_duty_for(&shifts, Channel::Email, noon, false),
            vec![7, 9]
        );
        assert_eq!(
            on_duty_for(
                &shifts,
                Channel::Facebook,
                at("2026-03-02T15:00:00Z"),
                false
            ),
            vec![8],
            "a shift ends when the next begins"
        );
        assert!(on_duty_for(&shifts, Channel::Sms, at("2026-03-03T01:00:00Z"), false).is_empty());
        // A crisis with nobody on the crisis rota keeps the ordinary rota.
        assert_eq!(on_duty_for(&shifts, Channel::Email, noon, true), vec![7, 9]);
        // The crisis rota takes every channel over while the crisis goes on, and only then.
        let mut with_rota = shifts.clone();
        with_rota.push(shift(
            5,
            CRISIS_ROTA,
            crate::UserId(11),
            "2026-03-02T08:00:00Z",
            "2026-03-02T20:00:00Z",
        ));
        assert_eq!(
            on_duty_for(&with_rota, Channel::Email, noon, true),
            vec![11]
        );
        assert_eq!(
            on_duty_for(&with_rota, Channel::Facebook, noon, true),
            vec![11]
        );
        assert_eq!(
            on_duty_for(&with_rota, Channel::Email, noon, false),
            vec![7, 9]
        );
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_weekly_rotation_keeps_local_handover_time_across_dst() {
        let plan = plan_rotation(
            &[crate::UserId(1), crate::UserId(2)],
            "Europe/Oslo",
            "2026-10-19".parse().expect("date"),
            Time::constant(8, 0, 0, 0),
            7,
            3,
        )
        .expect("plan");
        assert_eq!(
            plan.iter().map(|p| p.0).collect::<Vec<_>>(),
            vec![1, 2, 1],
            "round robin"
        );
        assert_eq!(plan[0].1, ts("2026-10-19T06:00:00Z"), "08:00 summer time");
        assert_eq!(plan[1].1, ts("2026-10-26T07:00:00Z"), "08:00 winter time");
        assert_eq!(plan[0].2, plan[1].1, "no gap between shifts");
        assert!(
            plan_rotation(
                &[],
                "Europe/Oslo",
                "2026-10-19".parse().expect("date"),
                Time::MIN,
                7,
                3
            )
            .expect("plan")
            .is_empty()
        );
    }

    #[test]
    fn who_is_on_duty_now_next_and_before() {
        let plan = plan_rotation(
            &[crate::UserId(1), crate::UserId(2), crate::UserId(3)],
            "Europe/Oslo",
            "2026-11-16".parse().expect("date"),
            Time::constant(8, 0, 0, 0),
            7,
            3,
        )
        .expect("plan");
        let shifts: Vec<Shift> = plan
            .into_iter()
            .enumerate()
            .map(|(i, (user_id, starts_at, ends_at))| Shift {
                id: i as i64,
                group: PUBLIC_CHANNELS.into(),
                user_id,
                starts_at,
                ends_at,
                handover_note: format!("note {i}"),
            })
            .collect();
        let now = ts("2026-11-24T12:00:00Z");
        assert_eq!(
            on_duty(&shifts, "public", now).map(|s| s.user_id),
            Some(crate::UserId(2))
        );
        assert_eq!(
            next_on_duty(&shifts, "public", now).map(|s| s.user_id),
            Some(crate::UserId(3))
        );
        assert_eq!(
            previous_shift(&shifts, "public", now).map(|s| s.handover_note.as_str()),
            Some("note 0")
        );
        assert!(on_duty(&shifts, "all", now).is_none());
    }

    #[test]
    fn channel_groups() {
        assert!(channels_of("public").contains(&Channel::Facebook));
        assert!(!channels_of("public").contains(&Channel::Email));
        assert_eq!(channels_of("all").len(), Channel::ALL.len());
        assert_eq!(channels_of("sms"), vec![Channel::Sms]);
        assert!(channels_of("nonsense").is_empty());
    }
}
