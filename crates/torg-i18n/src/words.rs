//! Times, deadlines and opening hours in words, in the reader's language.

use crate::Tr;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A moment in words in the reader's language, like "tirsdag 24. november kl. 15.30".
pub fn in_words(t: &Tr, ts: Timestamp, zone: &str) -> String {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let z = ts.to_zoned(tz);
    let weekday = t.get(&format!("weekday-{}", z.weekday().to_monday_one_offset()));
    let month = t.get(&format!("month-{}", z.month()));
    let time = clock(t, z.hour(), z.minute());
    t.args(
        "moment-in-words",
        &[
            ("weekday", &weekday),
            ("day", &z.day().to_string()),
            ("month", &month),
            ("time", &time),
        ],
    )
}

/// A clock time in the reader's style ("15.30" in Norwegian and Swedish, "15:30" in English).
pub fn clock(t: &Tr, hour: i8, minute: i8) -> String {
    t.args(
        "clock",
        &[
            ("hour", &format!("{hour:02}")),
            ("minute", &format!("{minute:02}")),
        ],
    )
}

/// Weekly opening hours in words, equal neighbouring days joined: "mandag–fredag 08.00–15.30".
pub fn opening_hours(t: &Tr, weekly: &[torg_domain::calendar::DayHours; 7]) -> Vec<String> {
    let day = |k: usize| t.get(&format!("weekday-{}", k + 1));
    torg_domain::calendar::weekly_runs(weekly)
        .into_iter()
        .map(|(i, j, open, close)| {
            let days = if j > i {
                format!("{}–{}", day(i), day(j))
            } else {
                day(i)
            };
            format!(
                "{days} {}–{}",
                clock(t, open.hour(), open.minute()),
                clock(t, close.hour(), close.minute())
            )
        })
        .collect()
}

/// Time left until a deadline (or time past it) in words.
pub fn time_left(t: &Tr, deadline: Timestamp, now: Timestamp) -> String {
    let secs = deadline.as_second() - now.as_second();
    let overdue = secs < 0;
    let span = duration(t, jiff::SignedDuration::from_secs(secs.abs()));
    if overdue {
        t.get1("time-overdue", "time", &span)
    } else {
        t.get1("time-left", "time", &span)
    }
}

/// A length of time in words: days and hours, hours and minutes, or minutes.
pub fn duration(t: &Tr, d: jiff::SignedDuration) -> String {
    let mins = d.as_secs().abs() / 60;
    let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    if d > 0 {
        format!("{d} {} {h} {}", t.get("unit-days"), t.get("unit-hours"))
    } else if h > 0 {
        format!("{h} {} {m} {}", t.get("unit-hours"), t.get("unit-minutes"))
    } else {
        format!("{m} {}", t.get("unit-minutes"))
    }
}
