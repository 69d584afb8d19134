//! The annual wheel (årshjul): what a municipality plans to communicate through the year. An
//! item happens once, every year on a date, every year on "the first Monday of March", or every
//! month on a day; it has a unit, a responsible person, a target group and area, and a mark —
//! proactive, ongoing or reactive information. Pure: occurrences in a period, the RRULE of
//! RFC 5545, the text form kept in the store and typed in a CSV.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use serde::Serialize;

/// How often an item comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurrence {
    /// On `date` only.
    Once { date: Date },
    /// Every year on the date's month and day, from its year.
    Yearly { date: Date },
    /// Every year on the same weekday in the same place of the month as `date` ("the first
    /// Monday of March"; `nth` −1 is the last).
    NthWeekday {
        date: Date,
        nth: i8,
        weekday: Weekday,
    },
    /// Every month on the date's day (the month's last day where it is shorter).
    Monthly { date: Date },
}

/// What kind of information an item is (KS's årshjul): planned ahead, ongoing, or an answer to
/// something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Proactive,
    Ongoing,
    Reactive,
}

impl Mark {
    pub const ALL: [Mark; 3] = [Mark::Proactive, Mark::Ongoing, Mark::Reactive];
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Proactive => "proactive",
            Mark::Ongoing => "ongoing",
            Mark::Reactive => "reactive",
        }
    }
}

impl std::str::FromStr for Mark {
    type Err = WheelError;
    fn from_str(s: &str) -> Result<Self, WheelError> {
        match s.trim().to_lowercase().as_str() {
            "proactive" | "proaktiv" => Ok(Mark::Proactive),
            "ongoing" | "løpende" | "løpande" | "löpande" => Ok(Mark::Ongoing),
            "reactive" | "reaktiv" => Ok(Mark::Reactive),
            _ => Err(WheelError::Mark),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WheelError {
    #[error("write the date like 2027-03-01")]
    Date,
    #[error(
        "repeat is none, yearly, weekday (the same weekday of the month every year) or monthly"
    )]
    Repeat,
    #[error("the mark is proactive, ongoing or reactive")]
    Mark,
    #[error("an item needs a title of at most 200 characters")]
    Title,
}

impl WheelError {
    /// The message's key in the interface catalogue.
    pub fn key(self) -> &'static str {
        match self {
            WheelError::Date => "wheel-error-date",
            WheelError::Repeat => "wheel-error-repeat",
            WheelError::Mark => "wheel-error-mark",
            WheelError::Title => "wheel-error-title",
        }
    }
}

/// The place of `date`'s weekday in its month: 1–4, or −1 when it is the last (a fifth one,
/// or a fourth with no fifth after it, counts as the last).
pub fn nth_of(date: Date) -> i8 {
    let nth = (date.day() - 1) / 7 + 1;
    let days = date.days_in_month();
    if date.day() + 7 > days { -1 } else { nth }
}

impl Recurrence {
    /// From a date and how it repeats (`none`, `yearly`, `weekday`, `monthly`, or the
    /// Norwegian and Swedish words for them), as typed in a form or a CSV.
    pub fn parse(date: &str, repeat: &str) -> Result<Recurrence, WheelError> {
        let date: Date = date.trim().parse().map_err(|_| WheelError::Date)?;
        match repeat.trim().to_lowercase().as_str() {
            "" | "none" | "once" | "ingen" | "en gang" | "éin gong" | "en gång" => {
                Ok(Recurrence::Once { date })
            }
            "yearly" | "årlig" | "årleg" | "årligen" => Ok(Recurrence::Yearly { date }),
            "weekday" | "ukedag" | "vekedag" | "veckodag" => Ok(Recurrence::NthWeekday {
                date,
                nth: nth_of(date),
                weekday: date.weekday(),
            }),
            "monthly" | "månedlig" | "månadleg" | "månadsvis" => {
                Ok(Recurrence::Monthly { date })
            }
            _ => Err(WheelError::Repeat),
        }
    }

    /// The first date.
    pub fn start(self) -> Date {
        match self {
            Recurrence::Once { date }
            | Recurrence::Yearly { date }
            | Recurrence::NthWeekday { date, .. }
            | Recurrence::Monthly { date } => date,
        }
    }

    /// The word for how it repeats, as [`parse`](Self::parse) takes it.
    pub fn repeat(self) -> &'static str {
        match self {
            Recurrence::Once { .. } => "none",
            Recurrence::Yearly { .. } => "yearly",
            Recurrence::NthWeekday { .. } => "weekday",
            Recurrence::Monthly { .. } => "monthly",
        }
    }

    /// RFC 5545's RRULE for it (`None` for a one-off).
    pub fn rrule(self) -> Option<String> {
        let day = |w: Weekday| match w {
            Weekday::Monday => "MO",
            Weekday::Tuesday => "TU",
            Weekday::Wednesday => "WE",
            Weekday::Thursday => "TH",
            Weekday::Friday => "FR",
            Weekday::Saturday => "SA",
            Weekday::Sunday => "SU",
        };
        match self {
            Recurrence::Once { .. } => None,
            Recurrence::Yearly { date } => Some(format!(
                "FREQ=YEARLY;BYMONTH={};BYMONTHDAY={}",
                date.month(),
                date.day()
            )),
            Recurrence::NthWeekday { date, nth, weekday } => Some(format!(
                "FREQ=YEARLY;BYMONTH={};BYDAY={nth}{}",
                date.month(),
                day(weekday)
            )),
            Recurrence::Monthly { date } if date.day() > 28 => {
                // The 29th–31st, or the month's last day where there is none.
                Some(format!(
                    "FREQ=MONTHLY;BYMONTHDAY={},-1;BYSETPOS=1",
                    date.day()
                ))
            }
            Recurrence::Monthly { date } => Some(format!("FREQ=MONTHLY;BYMONTHDAY={}", date.day())),
        }
    }

    /// Its dates from `from` to `to` (both included), in order.
    pub fn occurrences(self, from: Date, to: Date) -> Vec<Date> {
        let start = self.start();
        let mut out = vec![];
        if to < from || to < start {
            return out;
        }
        let first = from.max(start);
        match self {
            Recurrence::Once { date } => {
                if date >= from && date <= to {
                    out.push(date);
                }
            }
            Recurrence::Yearly { date } => {
                for year in first.year()..=to.year() {
                    // 29 February comes on the 28th in other years.
                    let day = date.day().min(days_in(year, date.month()));
                    if let Ok(d) = Date::new(year, date.month(), day)
                        && d >= first
                        && d <= to
                    {
                        out.push(d);
                    }
                }
            }
            Recurrence::NthWeekday { date, nth, weekday } => {
                for year in first.year()..=to.year() {
                    if let Some(d) = nth_weekday(year, date.month(), nth, weekday)
                        && d >= first
                        && d <= to
                    {
                        out.push(d);
                    }
                }
            }
            Recurrence::Monthly { date } => {
                let mut month = first.first_of_month();
                while month <= to {
                    let day = date.day().min(month.days_in_month());
                    if let Ok(d) = Date::new(month.year(), month.month(), day)
                        && d >= first
                        && d <= to
                    {
                        out.push(d);
                    }
                    month = match month.checked_add(1.month()) {
                        Ok(m) => m,
                        Err(_) => break,
                    };
                }
            }
        }
        out
    }

    /// The text form kept in the store: `repeat:YYYY-MM-DD`.
    pub fn to_stored(self) -> String {
        format!("{}:{}", self.repeat(), self.start())
    }

    /// Reads [`to_stored`](Self::to_stored)'s form.
    pub fn from_stored(s: &str) -> Result<Recurrence, WheelError> {
        let (repeat, date) = s.split_once(':').ok_or(WheelError::Repeat)?;
        Recurrence::parse(date, repeat)
    }
}

fn days_in(year: i16, month: i8) -> i8 {
    Date::new(year, month, 1)
        .map(|d| d.days_in_month())
        .unwrap_or(28)
}

/// The `nth` `weekday` of a month (−1: the last).
fn nth_weekday(year: i16, month: i8, nth: i8, weekday: Weekday) -> Option<Date> {
    let first = Date::new(year, month, 1).ok()?;
    let shift = (weekday.to_monday_zero_offset() - first.weekday().to_monday_zero_offset() + 7) % 7;
    let first_match = first.day() + shift;
    let day = if nth < 0 {
        let mut d = first_match;
        while d + 7 <= first.days_in_month() {
            d += 7;
        }
        d
    } else {
        first_match + (nth - 1) * 7
    };
    Date::new(year, month, day).ok()
}

/// A title as typed: trimmed, one to 200 characters.
pub fn title(text: &str) -> Result<String, WheelError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return Err(WheelError::Title);
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn the_first_monday_of_march_every_year() {
        // 2027-03-01 is a Monday, the first of March 2027.
        let r = Recurrence::parse("2027-03-01", "weekday").expect("parse");
        assert_eq!(
            r,
            Recurrence::NthWeekday {
                date: date(2027, 3, 1),
                nth: 1,
                weekday: Weekday::Monday
            }
        );
        assert_eq!(
            r.rrule().as_deref(),
            Some("FREQ=YEARLY;BYMONTH=3;BYDAY=1MO")
        );
        assert_eq!(
            r.occurrences(date(2027, 1, 1), date(2029, 12, 31)),
            vec![date(2027, 3, 1), date(2028, 3, 6), date(2029, 3, 5)]
        );
        // The last Friday of November.
        let r = Recurrence::parse("2026-11-27", "ukedag").expect("parse");
        assert_eq!(
            r.rrule().as_deref(),
            Some("FREQ=YEARLY;BYMONTH=11;BYDAY=-1FR")
        );
        assert_eq!(
            r.occurrences(date(2027, 1, 1), date(2027, 12, 31)),
            vec![date(2027, 11, 26)]
        );
    }

    #[test]
    fn yearly_monthly_and_once() {
        let national_day = Recurrence::parse("2026-05-17", "yearly").expect("parse");
        assert_eq!(
            national_day.occurrences(date(2026, 1, 1), date(2028, 1, 1)),
            vec![date(2026, 5, 17), date(2027, 5, 17)]
        );
        assert_eq!(
            national_day.rrule().as_deref(),
            Some("FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=17")
        );
        let leap = Recurrence::parse("2028-02-29", "yearly").expect("parse");
        assert_eq!(
            leap.occurrences(date(2028, 1, 1), date(2029, 12, 31)),
            vec![date(2028, 2, 29), date(2029, 2, 28)]
        );
        let payday = Recurrence::parse("2027-01-31", "monthly").expect("parse");
        let months = payday.occurrences(date(2027, 1, 1), date(2027, 4, 30));
        assert_eq!(
            months,
            vec![
                date(2027, 1, 31),
                date(2027, 2, 28),
                date(2027, 3, 31),
                date(2027, 4, 30)
            ]
        );
        let once = Recurrence::parse("2027-06-01", "").expect("parse");
        assert_eq!(once.rrule(), None);
        assert!(
            once.occurrences(date(2028, 1, 1), date(2028, 12, 31))
                .is_empty()
        );
        assert_eq!(
            Recurrence::parse("1. mars", "yearly"),
            Err(WheelError::Date)
        );
        assert_eq!(
            Recurrence::parse("2027-03-01", "fortnightly"),
            Err(WheelError::Repeat)
        );
    }

    proptest! {
        #[test]
        fn stored_form_round_trips_and_occurrences_stay_in_the_period(
            y in 2000i16..2100, m in 1i8..=12, d in 1i8..=28,
            repeat in prop::sample::select(vec!["none", "yearly", "weekday", "monthly"]),
            span in 0i32..800,
        ) {
            let start = date(y, m, d);
            let r = Recurrence::parse(&start.to_string(), repeat).expect("parse");
            prop_assert_eq!(Recurrence::from_stored(&r.to_stored()), Ok(r));
            let from = start.checked_sub(100.days()).expect("date");
            let to = start.checked_add(span.days()).expect("date");
            let dates = r.occurrences(from, to);
            prop_assert!(dates.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(dates.iter().all(|d| *d >= start && *d <= to));
            prop_assert_eq!(dates.first().copied(), Some(start));
            if let Recurrence::NthWeekday { weekday, .. } = r {
                prop_assert!(dates.iter().all(|d| d.weekday() == weekday));
            }
        }
    }
}
