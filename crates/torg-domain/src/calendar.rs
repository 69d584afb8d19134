//! Working time (arbeidstid): public holidays of Norway and Sweden, weekly opening hours in
//! the municipality's time zone, its own closed and shortened days, and arithmetic on working
//! time. Pure and property-tested; correct across daylight-saving changes because opening
//! hours are kept in local civil time and turned into instants one day at a time.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

/// Countries whose public holidays Torg knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Country {
    /// Norway (Noreg).
    No,
    /// Sweden (Sverige).
    Se,
    /// Finland (Suomi).
    Fi,
}

impl FromStr for Country {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "NO" => Ok(Country::No),
            "SE" => Ok(Country::Se),
            "FI" => Ok(Country::Fi),
            _ => Err(format!(
                "unknown country {s:?}; Torg knows NO (Norway), SE (Sweden) and FI (Finland)"
            )),
        }
    }
}

impl Country {
    /// The country whose holidays apply in an IANA time zone, if Torg knows them.
    pub fn of_time_zone(zone: &str) -> Option<Country> {
        match zone {
            "Europe/Oslo" | "Arctic/Longyearbyen" => Some(Country::No),
            "Europe/Stockholm" => Some(Country::Se),
            "Europe/Helsinki" | "Europe/Mariehamn" => Some(Country::Fi),
            _ => None,
        }
    }
}

/// A public holiday, named in its country's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub date: Date,
    pub name: &'static str,
}

/// Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, month as i8, day as i8).unwrap_or(Date::MIN)
}

fn plus_days(d: Date, n: i64) -> Date {
    d.checked_add(n.days()).unwrap_or(d)
}

/// The first `weekday` on or after `d`.
fn weekday_on_or_after(d: Date, weekday: Weekday) -> Date {
    let ahead = (i64::from(weekday.to_monday_zero_offset())
        - i64::from(d.weekday().to_monday_zero_offset()))
    .rem_euclid(7);
    plus_days(d, ahead)
}

fn ymd(year: i16, month: i8, day: i8) -> Date {
    Date::new(year, month, day).unwrap_or(Date::MIN)
}

/// The official public holidays of `country` in `year`, in date order.
pub fn public_holidays(country: Country, year: i16) -> Vec<Holiday> {
    let easter = easter_sunday(year);
    let e = |n: i64| plus_days(easter, n);
    let mut days = match country {
        Country::No => vec![
            Holiday {
                date: ymd(year, 1, 1),
                name: "Første nyttårsdag",
            },
            Holiday {
                date: e(-3),
                name: "Skjærtorsdag",
            },
            Holiday {
                date: e(-2),
                name: "Langfredag",
            },
            Holiday {
                date: easter,
                name: "Første påskedag",
            },
            Holiday {
                date: e(1),
                name: "Andre påskedag",
            },
            Holiday {
                date: ymd(year, 5, 1),
                name: "Offentlig høytidsdag",
            },
            Holiday {
                date: ymd(year, 5, 17),
                name: "Grunnlovsdag",
            },
            Holiday {
                date: e(39),
                name: "Kristi himmelfartsdag",
            },
            Holiday {
                date: e(49),
                name: "Første pinsedag",
            },
            Holiday {
                date: e(50),
                name: "Andre pinsedag",
            },
            Holiday {
                date: ymd(year, 12, 25),
                name: "Første juledag",
            },
            Holiday {
                date: ymd(year, 12, 26),
                name: "Andre juledag",
            },
        ],
        Country::Se => swedish_holidays(year),
        Country::Fi => vec![
            Holiday {
                date: ymd(year, 1, 1),
                name: "Uudenvuodenpäivä",
            },
            Holiday {
                date: ymd(year, 1, 6),
                name: "Loppiainen",
            },
            Holiday {
                date: e(-2),
                name: "Pitkäperjantai",
            },
            Holiday {
                date: easter,
                name: "Pääsiäispäivä",
            },
            Holiday {
                date: e(1),
                name: "2. pääsiäispäivä",
            },
            Holiday {
                date: ymd(year, 5, 1),
                name: "Vappu",
            },
            Holiday {
                date: e(39),
                name: "Helatorstai",
            },
            Holiday {
                date: e(49),
                name: "Helluntaipäivä",
            },
            Holiday {
                date: weekday_on_or_after(ymd(year, 6, 20), Weekday::Saturday),
                name: "Juhannuspäivä",
            },
            Holiday {
                date: weekday_on_or_after(ymd(year, 10, 31), Weekday::Saturday),
                name: "Pyhäinpäivä",
            },
            Holiday {
                date: ymd(year, 12, 6),
                name: "Itsenäisyyspäivä",
            },
            Holiday {
                date: ymd(year, 12, 25),
                name: "Joulupäivä",
            },
            Holiday {
                date: ymd(year, 12, 26),
                name: "Tapaninpäivä",
            },
        ],
    };
    days.sort_by_key(|h| h.date);
    days
}

/// Midsommardagen: St John's Day (24 June) until 1952; from 1953 the Saturday of 20–26 June.
fn swedish_midsummer_day(year: i16) -> Date {
    if year <= 1952 {
        ymd(year, 6, 24)
    } else {
        weekday_on_or_after(ymd(year, 6, 20), Weekday::Saturday)
    }
}

/// Sweden's public holidays (allmänna helgdagar) in `year` by the law of that year, Sundays
/// aside: Lag (1989:253) om allmänna helgdagar as amended by Lag (2004:1320) from 2005 (the
/// National Day in, Whit Monday out), and before it the rules it carried on: May Day from
/// 1939; until 1952 Midsommardagen on 24 June, the Annunciation (Marie bebådelsedag) on
/// 25 March and All Saints' Day on the Sunday of 1–7 November, from 1953 Midsommardagen and
/// All Saints' Day on Saturdays and the Annunciation on a Sunday (so no longer a day of
/// its own).
fn swedish_holidays(year: i16) -> Vec<Holiday> {
    let easter = easter_sunday(year);
    let e = |n: i64| plus_days(easter, n);
    let h = |date: Date, name: &'static str| Holiday { date, name };
    let mut days = vec![
        h(ymd(year, 1, 1), "Nyårsdagen"),
        h(ymd(year, 1, 6), "Trettondedag jul"),
        h(e(-2), "Långfredagen"),
        h(easter, "Påskdagen"),
        h(e(1), "Annandag påsk"),
        h(e(39), "Kristi himmelsfärdsdag"),
        h(e(49), "Pingstdagen"),
        h(swedish_midsummer_day(year), "Midsommardagen"),
        h(ymd(year, 12, 25), "Juldagen"),
        h(ymd(year, 12, 26), "Annandag jul"),
    ];
    if year >= 1939 {
        days.push(h(ymd(year, 5, 1), "Första maj"));
    }
    if year <= 2004 {
        days.push(h(e(50), "Annandag pingst"));
    } else {
        days.push(h(ymd(year, 6, 6), "Sveriges nationaldag"));
    }
    if year <= 1952 {
        days.push(h(ymd(year, 3, 25), "Marie bebådelsedag"));
        days.push(h(
            weekday_on_or_after(ymd(year, 11, 1), Weekday::Sunday),
            "Alla helgons dag",
        ));
    } else {
        days.push(h(
            weekday_on_or_after(ymd(year, 10, 31), Weekday::Saturday),
            "Alla helgons dag",
        ));
    }
    days
}

/// Days a municipality's offices are closed by custom although they are not public holidays:
/// in Sweden midsommarafton, julafton and nyårsafton; in Finland juhannusaatto and jouluaatto.
pub fn customary_closed_days(country: Country, year: i16) -> Vec<Holiday> {
    match country {
        Country::No => vec![],
        Country::Fi => vec![
            Holiday {
                date: plus_days(weekday_on_or_after(ymd(year, 6, 20), Weekday::Saturday), -1),
                name: "Juhannusaatto",
            },
            Holiday {
                date: ymd(year, 12, 24),
                name: "Jouluaatto",
            },
        ],
        Country::Se => vec![
            Holiday {
                date: plus_days(swedish_midsummer_day(year), -1),
                name: "Midsommarafton",
            },
            Holiday {
                date: ymd(year, 12, 24),
                name: "Julafton",
            },
            Holiday {
                date: ymd(year, 12, 31),
                name: "Nyårsafton",
            },
        ],
    }
}

/// Opening hours on one weekday, in local civil time. `None` means closed.
pub type DayHours = Option<(Time, Time)>;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a weekly schedule; write it like \"mon-fri 08:00-15:30; sat 10:00-14:00\"")]
pub struct NotASchedule(pub String);

/// Parses weekly opening hours like `mon-fri 08:00-15:30; sat 10:00-14:00`. Days that are not
/// named are closed.
pub fn parse_weekly(spec: &str) -> Result<[DayHours; 7], NotASchedule> {
    let err = || NotASchedule(spec.to_string());
    let day = |s: &str| {
        DAY_NAMES
            .iter()
            .position(|d| *d == s.trim().to_ascii_lowercase())
            .ok_or_else(err)
    };
    let mut weekly: [DayHours; 7] = [None; 7];
    for part in spec
        .split([';', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (days, hours) = part.split_once(' ').ok_or_else(err)?;
        let (first, last) = match days.split_once('-') {
            Some((a, b)) => (day(a)?, day(b)?),
            None => (day(days)?, day(days)?),
        };
        let (open, close) = hours.trim().split_once('-').ok_or_else(err)?;
        let open: Time = open.trim().parse().map_err(|_| err())?;
        let close: Time = close.trim().parse().map_err(|_| err())?;
        if first > last || open >= close {
            return Err(err());
        }
        for slot in weekly.iter_mut().take(last + 1).skip(first) {
            *slot = Some((open, close));
        }
    }
    Ok(weekly)
}

/// Runs of neighbouring days with the same hours: (first day, last day, opens, closes), with
/// Monday as day 0. Closed days are left out.
pub fn weekly_runs(weekly: &[DayHours; 7]) -> Vec<(usize, usize, Time, Time)> {
    let mut runs = vec![];
    let mut i = 0;
    while i < 7 {
        let Some((open, close)) = weekly[i] else {
            i += 1;
            continue;
        };
        let mut j = i;
        while j + 1 < 7 && weekly[j + 1] == weekly[i] {
            j += 1;
        }
        runs.push((i, j, open, close));
        i = j + 1;
    }
    runs
}

/// Weekly opening hours written back in the form [`parse_weekly`] reads.
pub fn format_weekly(weekly: &[DayHours; 7]) -> String {
    weekly_runs(weekly)
        .into_iter()
        .map(|(i, j, open, close)| {
            let days = if j > i {
                format!("{}-{}", DAY_NAMES[i], DAY_NAMES[j])
            } else {
                DAY_NAMES[i].to_string()
            };
            format!(
                "{days} {}-{}",
                open.strftime("%H:%M"),
                close.strftime("%H:%M")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whose opening hours differ from the municipality's: one unit's or one channel's (e.g. chat
/// is staffed shorter than the service desk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum HoursScope {
    Unit(crate::UnitId),
    Channel(crate::Channel),
}

impl std::fmt::Display for HoursScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HoursScope::Unit(id) => write!(f, "unit:{id}"),
            HoursScope::Channel(c) => write!(f, "channel:{c}"),
        }
    }
}

impl FromStr for HoursScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some(("unit", id)) => id
                .parse()
                .map(HoursScope::Unit)
                .map_err(|_| format!("{s:?} is not a unit scope")),
            Some(("channel", c)) => c
                .parse()
                .map(HoursScope::Channel)
                .map_err(|e| format!("{e}")),
            _ => Err(format!(
                "{s:?} is not a scope; write unit:<id> or channel:<name>"
            )),
        }
    }
}

impl WorkingCalendar {
    /// The same holidays and closed days with other weekly hours.
    pub fn with_weekly(&self, weekly: [DayHours; 7]) -> Result<WorkingCalendar, CalendarError> {
        for (open, close) in weekly.iter().flatten() {
            if open >= close {
                return Err(CalendarError::BadHours(*open, *close));
            }
        }
        Ok(WorkingCalendar {
            weekly,
            ..self.clone()
        })
    }
}

/// When a municipality (or one of its units or channels) is open for work.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    zone: TimeZone,
    /// Monday first.
    weekly: [DayHours; 7],
    country: Option<Country>,
    closed: BTreeSet<Date>,
    /// Days that close early: the local closing time.
    shortened: BTreeMap<Date, Time>,
    holidays: BTreeSet<Date>,
    holiday_years: (i16, i16),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0:?} is not a time zone; use an IANA name like Europe/Oslo")]
    UnknownZone(String),
    #[error("opening hours must open before they close ({0} – {1})")]
    BadHours(Time, Time),
}

/// Longest search for open time, in days (a calendar that is never open ends the search).
const SEARCH_DAYS: i64 = 3 * 366;

impl WorkingCalendar {
    /// A calendar in `zone` with the given weekly hours (Monday first) and the public holidays
    /// of `country`.
    pub fn new(
        zone: &str,
        weekly: [DayHours; 7],
        country: Option<Country>,
    ) -> Result<WorkingCalendar, CalendarError> {
        let tz = TimeZone::get(zone).map_err(|_| CalendarError::UnknownZone(zone.to_string()))?;
        for (open, close) in weekly.iter().flatten() {
            if open >= close {
                return Err(CalendarError::BadHours(*open, *close));
            }
        }
        Ok(WorkingCalendar {
            zone: tz,
            weekly,
            country,
            closed: BTreeSet::new(),
            shortened: BTreeMap::new(),
            holidays: BTreeSet::new(),
            holiday_years: (0, -1),
        }
        .with_holiday_years(2000, 2100))
    }

    /// Norwegian/Swedish office hours: Monday to Friday 08:00–15:30.
    pub fn office_hours(zone: &str) -> Result<WorkingCalendar, CalendarError> {
        let day = Some((Time::constant(8, 0, 0, 0), Time::constant(15, 30, 0, 0)));
        WorkingCalendar::new(
            zone,
            [day, day, day, day, day, None, None],
            Country::of_time_zone(zone),
        )
    }

    fn with_holiday_years(mut self, from: i16, to: i16) -> WorkingCalendar {
        if let Some(country) = self.country {
            for year in from..=to {
                self.holidays
                    .extend(public_holidays(country, year).into_iter().map(|h| h.date));
                self.holidays.extend(
                    customary_closed_days(country, year)
                        .into_iter()
                        .map(|h| h.date),
                );
            }
        }
        self.holiday_years = (from, to);
        self
    }

    /// Adds the municipality's own closed day.
    pub fn close_on(mut self, date: Date) -> WorkingCalendar {
        self.closed.insert(date);
        self
    }

    /// Makes a day close early (e.g. at 12:00 the day before Easter).
    pub fn close_early(mut self, date: Date, at: Time) -> WorkingCalendar {
        self.shortened.insert(date, at);
        self
    }

    /// The weekly opening hours, Monday first.
    pub fn weekly(&self) -> &[DayHours; 7] {
        &self.weekly
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    fn is_holiday(&self, date: Date) -> bool {
        match self.country {
            None => false,
            Some(country)
                if date.year() < self.holiday_years.0 || date.year() > self.holiday_years.1 =>
            {
                let y = date.year();
                public_holidays(country, y)
                    .iter()
                    .chain(customary_closed_days(country, y).iter())
                    .any(|h| h.date == date)
            }
            Some(_) => self.holidays.contains(&date),
        }
    }

    /// The local opening hours of `date`, or `None` when closed all day.
    pub fn hours(&self, date: Date) -> DayHours {
        if self.closed.contains(&date) || self.is_holiday(date) {
            return None;
        }
        let (open, mut close) =
            self.weekly[usize::from(date.weekday().to_monday_zero_offset() as u8)]?;
        if let Some(early) = self.shortened.get(&date) {
            close = close.min(*early);
        }
        (open < close).then_some((open, close))
    }

    /// The open interval of `date` as instants.
    pub fn interval(&self, date: Date) -> Option<(Timestamp, Timestamp)> {
        let (open, close) = self.hours(date)?;
        let at = |t: Time| {
            DateTime::from_parts(date, t)
                .to_zoned(self.zone.clone())
                .map(|z| z.timestamp())
                .ok()
        };
        Some((at(open)?, at(close)?))
    }

    pub fn local_date(&self, ts: Timestamp) -> Date {
        ts.to_zoned(self.zone.clone()).date()
    }

    /// Whether the municipality is open at `ts` (opening instant included, closing excluded).
    pub fn is_open(&self, ts: Timestamp) -> bool {
        self.interval(self.local_date(ts))
            .is_some_and(|(o, c)| o <= ts && ts < c)
    }

    /// When it is next open at or after `ts` (`ts` itself when open now); None when no open
    /// time follows within the search horizon.
    pub fn next_opening(&self, ts: Timestamp) -> Option<Timestamp> {
        self.working_days_from(self.local_date(ts))
            .find(|(_, _, close)| *close > ts)
            .map(|(_, open, _)| open.max(ts))
    }

    /// Whether `ts` lies in open time or is a closing instant: where a deadline may fall.
    pub fn is_open_or_closing(&self, ts: Timestamp) -> bool {
        self.interval(self.local_date(ts))
            .is_some_and(|(o, c)| o <= ts && ts <= c)
    }

    /// The working days from `date` on (inclusive), lazily.
    fn working_days_from(
        &self,
        date: Date,
    ) -> impl Iterator<Item = (Date, Timestamp, Timestamp)> + '_ {
        (0..SEARCH_DAYS).filter_map(move |n| {
            let d = plus_days(date, n);
            self.interval(d).map(|(o, c)| (d, o, c))
        })
    }

    /// `start` plus `duration` of open time. When no open time follows within three years,
    /// the answer is `start + duration` in calendar time.
    pub fn add_working_time(&self, start: Timestamp, duration: SignedDuration) -> Timestamp {
        let mut remaining = duration.max(SignedDuration::ZERO);
        for (_, open, close) in self.working_days_from(self.local_date(start)) {
            let from = open.max(start);
            if from >= close {
                continue;
            }
            let available = close.duration_since(from);
            if remaining <= available {
                return from.checked_add(remaining).unwrap_or(from);
            }
            remaining -= available;
        }
        start.checked_add(duration).unwrap_or(start)
    }

    /// The end of the `n`th working day after the day of `start` (n = 0: the end of this
    /// working day if it is still open, else of the next).
    pub fn end_of_working_day(&self, start: Timestamp, n: u32) -> Timestamp {
        let today = self.local_date(start);
        // n = 0 counts today while it is open; otherwise counting starts tomorrow.
        self.working_days_from(today)
            .filter(|(d, _, close)| if n == 0 { *close > start } else { *d > today })
            .nth(n.saturating_sub(1) as usize)
            .map(|(_, _, close)| close)
            .unwrap_or(start)
    }

    /// The next working day after the day of `start`, at `at` local time, kept within its
    /// opening hours.
    pub fn next_working_day_at(&self, start: Timestamp, at: Time) -> Timestamp {
        let today = self.local_date(start);
        self.working_days_from(plus_days(today, 1))
            .next()
            .map(|(d, open, close)| {
                let wanted = DateTime::from_parts(d, at)
                    .to_zoned(self.zone.clone())
                    .map(|z| z.timestamp())
                    .unwrap_or(close);
                wanted.clamp(open, close)
            })
            .unwrap_or(start)
    }
}

/// The weeks of a month, Monday first, as a calendar page shows them: each week seven days,
/// `None` before the first and after the last of the month.
pub fn month_weeks(year: i16, month: i8) -> Vec<[Option<Date>; 7]> {
    let Ok(first) = Date::new(year, month, 1) else {
        return vec![];
    };
    let lead = usize::try_from(first.weekday().to_monday_zero_offset()).unwrap_or(0);
    let days = usize::try_from(first.days_in_month()).unwrap_or(0);
    let mut weeks = vec![];
    let mut week = [None; 7];
    for slot in 0..(lead + days).div_ceil(7) * 7 {
        if slot >= lead && slot < lead + days {
            week[slot % 7] = Some(plus_days(first, (slot - lead) as i64));
        }
        if slot % 7 == 6 {
            weeks.push(week);
            week = [None; 7];
        }
    }
    weeks
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_month_page_starts_on_monday() {
        // March 2027 begins on a Monday and has five weeks; February 2027 four full ones.
        let march = super::month_weeks(2027, 3);
        assert_eq!(march.len(), 5);
        assert_eq!(march[0][0].map(|d| d.day()), Some(1));
        assert_eq!(march[4][2].map(|d| d.day()), Some(31));
        assert_eq!(march[4][3], None);
        assert_eq!(super::month_weeks(2027, 2).len(), 4);
        // December 2026 begins on a Tuesday.
        let december = super::month_weeks(2026, 12);
        assert_eq!(december[0][0], None);
        assert_eq!(december[0][1].map(|d| d.day()), Some(1));
        assert_eq!(
            december.iter().flatten().flatten().count(),
            31,
            "every day once"
        );
        assert!(super::month_weeks(2027, 13).is_empty());
    }

    use super::*;

    #[test]
    fn finnish_holidays_match_the_almanac() {
        let dates = |year| -> Vec<String> {
            public_holidays(Country::Fi, year)
                .iter()
                .map(|h| format!("{} {}", h.date, h.name))
                .collect()
        };
        assert_eq!(
            dates(2026),
            vec![
                "2026-01-01 Uudenvuodenpäivä",
                "2026-01-06 Loppiainen",
                "2026-04-03 Pitkäperjantai",
                "2026-04-05 Pääsiäispäivä",
                "2026-04-06 2. pääsiäispäivä",
                "2026-05-01 Vappu",
                "2026-05-14 Helatorstai",
                "2026-05-24 Helluntaipäivä",
                "2026-06-20 Juhannuspäivä",
                "2026-10-31 Pyhäinpäivä",
                "2026-12-06 Itsenäisyyspäivä",
                "2026-12-25 Joulupäivä",
                "2026-12-26 Tapaninpäivä",
            ]
        );
        let y2025 = dates(2025);
        for day in [
            "2025-04-18 Pitkäperjantai",
            "2025-05-29 Helatorstai",
            "2025-06-08 Helluntaipäivä",
            "2025-06-21 Juhannuspäivä",
            "2025-11-01 Pyhäinpäivä",
        ] {
            assert!(y2025.contains(&day.to_string()), "{day} in {y2025:?}");
        }
        let eves: Vec<String> = customary_closed_days(Country::Fi, 2025)
            .iter()
            .map(|h| format!("{} {}", h.date, h.name))
            .collect();
        assert_eq!(
            eves,
            vec!["2025-06-20 Juhannusaatto", "2025-12-24 Jouluaatto"]
        );
        assert_eq!(Country::of_time_zone("Europe/Helsinki"), Some(Country::Fi));
        assert_eq!("fi".parse::<Country>(), Ok(Country::Fi));
    }
    use proptest::prelude::*;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).expect("date")
    }

    /// Easter by Gauss's method with the Lichtenberg corrections: an independent derivation.
    fn easter_gauss(year: i16) -> Date {
        let x = i32::from(year);
        let k = x / 100;
        let m = 15 + (3 * k + 3) / 4 - (8 * k + 13) / 25;
        let s = 2 - (3 * k + 3) / 4;
        let a = x % 19;
        let dd = (19 * a + m) % 30;
        let r = (dd + a / 11) / 29;
        let og = 21 + dd - r;
        let sz = 7 - (x + x / 4 + s) % 7;
        let oe = 7 - (og - sz) % 7;
        let os = og + oe; // day of March; > 31 means April
        if os > 31 {
            d(year, 4, (os - 31) as i8)
        } else {
            d(year, 3, os as i8)
        }
    }

    #[test]
    fn easter_matches_the_almanac() {
        for (y, m, day) in [
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2040, 4, 1),
        ] {
            assert_eq!(easter_sunday(y), d(y, m, day), "{y}");
        }
    }

    #[test]
    fn easter_agrees_with_gauss_for_1900_to_2100() {
        for y in 1900..=2100 {
            assert_eq!(easter_sunday(y), easter_gauss(y), "{y}");
            assert_eq!(easter_sunday(y).weekday(), Weekday::Sunday);
        }
    }

    #[test]
    fn norwegian_holidays_2026() {
        let names: Vec<(String, &str)> = public_holidays(Country::No, 2026)
            .into_iter()
            .map(|h| (h.date.to_string(), h.name))
            .collect();
        assert_eq!(
            names,
            vec![
                ("2026-01-01".into(), "Første nyttårsdag"),
                ("2026-04-02".into(), "Skjærtorsdag"),
                ("2026-04-03".into(), "Langfredag"),
                ("2026-04-05".into(), "Første påskedag"),
                ("2026-04-06".into(), "Andre påskedag"),
                ("2026-05-01".into(), "Offentlig høytidsdag"),
                ("2026-05-14".into(), "Kristi himmelfartsdag"),
                ("2026-05-17".into(), "Grunnlovsdag"),
                ("2026-05-24".into(), "Første pinsedag"),
                ("2026-05-25".into(), "Andre pinsedag"),
                ("2026-12-25".into(), "Første juledag"),
                ("2026-12-26".into(), "Andre juledag"),
            ]
        );
    }

    #[test]
    fn swedish_holidays_from_the_almanac() {
        // (year, midsommardagen, alla helgons dag, kristi himmelsfärd)
        for (y, mid, ah, asc) in [
            (2024, d(2024, 6, 22), d(2024, 11, 2), d(2024, 5, 9)),
            (2025, d(2025, 6, 21), d(2025, 11, 1), d(2025, 5, 29)),
            (2026, d(2026, 6, 20), d(2026, 10, 31), d(2026, 5, 14)),
            (2027, d(2027, 6, 26), d(2027, 11, 6), d(2027, 5, 6)),
        ] {
            let hs = public_holidays(Country::Se, y);
            let get = |n: &str| hs.iter().find(|h| h.name == n).map(|h| h.date);
            assert_eq!(get("Midsommardagen"), Some(mid), "{y}");
            assert_eq!(get("Alla helgons dag"), Some(ah), "{y}");
            assert_eq!(get("Kristi himmelsfärdsdag"), Some(asc), "{y}");
            assert_eq!(hs.len(), 13);
            let eves = customary_closed_days(Country::Se, y);
            assert_eq!(
                eves[0].date,
                plus_days(mid, -1),
                "midsommarafton is the Friday before"
            );
        }
    }

    /// Every year from 1900 against the law of its time, rule by rule (independently of
    /// how `swedish_holidays` is written), with the changes of 1939, 1953 and 2005.
    #[test]
    fn swedish_holidays_follow_the_law_of_each_year_from_1900() {
        for y in 1900..=2100i16 {
            let e = easter_gauss(y);
            let se = public_holidays(Country::Se, y);
            let on = |name: &str| se.iter().find(|h| h.name == name).map(|h| h.date);
            let is = |date: Date| se.iter().any(|h| h.date == date);
            // Always.
            assert_eq!(on("Nyårsdagen"), Some(d(y, 1, 1)), "{y}");
            assert_eq!(on("Trettondedag jul"), Some(d(y, 1, 6)), "{y}");
            assert_eq!(on("Långfredagen"), Some(e - 2.days()), "{y}");
            assert_eq!(on("Annandag påsk"), Some(e + 1.days()), "{y}");
            assert_eq!(on("Kristi himmelsfärdsdag"), Some(e + 39.days()), "{y}");
            assert_eq!(on("Juldagen"), Some(d(y, 12, 25)), "{y}");
            assert_eq!(on("Annandag jul"), Some(d(y, 12, 26)), "{y}");
            // May Day from 1939.
            assert_eq!(
                is(d(y, 5, 1)) && on("Första maj").is_some(),
                y >= 1939,
                "{y}"
            );
            // Whit Monday until 2004, the National Day from 2005.
            assert_eq!(on("Annandag pingst").is_some(), y <= 2004, "{y}");
            if y <= 2004 {
                assert_eq!(on("Annandag pingst"), Some(e + 50.days()), "{y}");
            }
            assert_eq!(on("Sveriges nationaldag").is_some(), y >= 2005, "{y}");
            assert_eq!(
                on("Sveriges nationaldag").is_some(),
                is(d(y, 6, 6)) && y >= 2005
            );
            // Midsummer, All Saints and the Annunciation: the 1953 reform.
            let mid = on("Midsommardagen").expect("midsummer");
            let saints = on("Alla helgons dag").expect("all saints");
            if y <= 1952 {
                assert_eq!(mid, d(y, 6, 24), "{y}");
                assert_eq!(saints.weekday(), Weekday::Sunday, "{y}");
                assert!(saints >= d(y, 11, 1) && saints <= d(y, 11, 7), "{y}");
                assert_eq!(on("Marie bebådelsedag"), Some(d(y, 3, 25)), "{y}");
            } else {
                assert_eq!(mid.weekday(), Weekday::Saturday, "{y}");
                assert!(mid >= d(y, 6, 20) && mid <= d(y, 6, 26), "{y}");
                assert_eq!(saints.weekday(), Weekday::Saturday, "{y}");
                assert!(saints >= d(y, 10, 31) && saints <= d(y, 11, 6), "{y}");
                assert_eq!(on("Marie bebådelsedag"), None, "{y}");
            }
            // The eves that close offices, before 2005 too.
            let eves = customary_closed_days(Country::Se, y);
            let eve = |name: &str| eves.iter().find(|h| h.name == name).map(|h| h.date);
            assert_eq!(eve("Midsommarafton"), Some(mid - 1.days()), "{y}");
            assert_eq!(eve("Julafton"), Some(d(y, 12, 24)), "{y}");
            assert_eq!(eve("Nyårsafton"), Some(d(y, 12, 31)), "{y}");
        }
        // Spot checks against almanacs of the time.
        let days = |y| public_holidays(Country::Se, y);
        assert!(days(1950).iter().any(|h| h.date == d(1950, 11, 5)));
        assert!(days(1950).iter().any(|h| h.date == d(1950, 6, 24)));
        assert!(days(2004).iter().any(|h| h.date == d(2004, 5, 31)));
        assert!(!days(2005).iter().any(|h| h.date == d(2005, 5, 16)));
        assert!(days(1953).iter().any(|h| h.date == d(1953, 6, 20)));
        assert!(!days(1938).iter().any(|h| h.date == d(1938, 5, 1)));
    }

    #[test]
    fn a_swedish_calendar_counts_working_days_by_the_law_of_the_year() {
        let cal = WorkingCalendar::office_hours("Europe/Stockholm").expect("calendar");
        // Whit Monday 2004 was closed; Whit Monday 2005 was a working day.
        assert!(cal.hours(d(2004, 5, 31)).is_none());
        assert!(cal.hours(d(2005, 5, 16)).is_some());
        // 6 June 2003 (a Friday) was a working day; 6 June 2008 (a Friday) was not.
        assert!(cal.hours(d(2003, 6, 6)).is_some());
        assert!(cal.hours(d(2008, 6, 6)).is_none());
        // 1949: 24 June (a Friday) was Midsummer Day, the 23rd its eve.
        assert!(cal.hours(d(1949, 6, 24)).is_none());
        assert!(cal.hours(d(1949, 6, 23)).is_none());
        assert!(cal.hours(d(1949, 6, 17)).is_some());
    }

    #[test]
    fn every_holiday_rule_holds_from_2000_to_2040() {
        for y in 2000..=2040 {
            let e = easter_gauss(y);
            let no = public_holidays(Country::No, y);
            let se = public_holidays(Country::Se, y);
            let has = |list: &[Holiday], date: Date, name: &str| {
                list.iter().any(|h| h.date == date && h.name == name)
            };
            assert!(has(&no, e - 3.days(), "Skjærtorsdag") && has(&no, e - 2.days(), "Langfredag"));
            assert!(
                has(&no, e + 1.days(), "Andre påskedag")
                    && has(&no, e + 39.days(), "Kristi himmelfartsdag")
            );
            assert!(
                has(&no, e + 49.days(), "Første pinsedag")
                    && has(&no, e + 50.days(), "Andre pinsedag")
            );
            assert!(
                has(&no, d(y, 5, 17), "Grunnlovsdag")
                    && has(&no, d(y, 5, 1), "Offentlig høytidsdag")
            );
            assert_eq!(no.len(), 12);
            assert!(
                has(&se, e - 2.days(), "Långfredagen") && has(&se, e + 1.days(), "Annandag påsk")
            );
            assert!(has(&se, d(y, 1, 6), "Trettondedag jul"));
            assert_eq!(has(&se, d(y, 6, 6), "Sveriges nationaldag"), y >= 2005);
            for h in &se {
                if h.name == "Midsommardagen" {
                    assert_eq!(h.date.weekday(), Weekday::Saturday);
                    assert!(h.date >= d(y, 6, 20) && h.date <= d(y, 6, 26));
                }
                if h.name == "Alla helgons dag" {
                    assert_eq!(h.date.weekday(), Weekday::Saturday);
                    assert!(h.date >= d(y, 10, 31) && h.date <= d(y, 11, 6));
                }
            }
            assert!(
                e + 39.days() > d(y, 4, 29) && e + 39.days() < d(y, 6, 4),
                "ascension between 30 April and 3 June"
            );
        }
    }

    fn oslo() -> WorkingCalendar {
        WorkingCalendar::office_hours("Europe/Oslo").expect("calendar")
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn working_time_skips_nights_weekends_and_easter() {
        let c = oslo();
        // Wednesday 1 April 2026 14:30 local (12:30Z): one hour left that day, then Easter.
        let start = ts("2026-04-01T12:30:00Z");
        let due = c.add_working_time(start, SignedDuration::from_hours(2));
        // Skjærtorsdag to 2. påskedag closed: Tuesday 7 April, 09:00 local (07:00Z).
        assert_eq!(due, ts("2026-04-07T07:00:00Z"));
        assert!(c.is_open_or_closing(due));
        assert!(!c.is_open(ts("2026-04-02T10:00:00Z")), "skjærtorsdag");
        assert!(!c.is_open(ts("2026-05-17T10:00:00Z")));
    }

    #[test]
    fn days_across_daylight_saving_have_23_and_25_hours() {
        for (zone, spring, autumn) in [
            ("Europe/Oslo", d(2026, 3, 29), d(2026, 10, 25)),
            ("Europe/Stockholm", d(2026, 3, 29), d(2026, 10, 25)),
        ] {
            let tz = TimeZone::get(zone).expect("zone");
            let len = |day: Date| {
                let a = day.to_zoned(tz.clone()).expect("z").timestamp();
                let b = (day + 1.days())
                    .to_zoned(tz.clone())
                    .expect("z")
                    .timestamp();
                b.duration_since(a).as_hours()
            };
            assert_eq!(len(spring), 23, "{zone}");
            assert_eq!(len(autumn), 25, "{zone}");
            // Opening hours stay 08:00–15:30 local on the Mondays after.
            let c = WorkingCalendar::office_hours(zone).expect("calendar");
            let (o, _) = c.interval(spring + 1.days()).expect("open Monday");
            assert_eq!(o, ts("2026-03-30T06:00:00Z"), "summer time: UTC+2");
            let (o, _) = c.interval(autumn + 1.days()).expect("open Monday");
            assert_eq!(o, ts("2026-10-26T07:00:00Z"), "winter time: UTC+1");
        }
    }

    #[test]
    fn weekly_schedules_parse_and_print() {
        let w = parse_weekly("mon-fri 08:00-15:30; sat 10:00-14:00").expect("parse");
        assert_eq!(
            w[5],
            Some((Time::constant(10, 0, 0, 0), Time::constant(14, 0, 0, 0)))
        );
        assert_eq!(w[6], None);
        assert_eq!(format_weekly(&w), "mon-fri 08:00-15:30; sat 10:00-14:00");
        for bad in [
            "mon",
            "fri-mon 08:00-15:00",
            "mon 16:00-08:00",
            "someday 08:00-09:00",
            "mon 8-9",
        ] {
            assert!(parse_weekly(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_round_trip_and_keep_closed_days() {
        for s in ["unit:7", "channel:chat"] {
            assert_eq!(
                s.parse::<HoursScope>().map(|x| x.to_string()),
                Ok(s.to_string())
            );
        }
        assert!("team:1".parse::<HoursScope>().is_err());
        let base = oslo().close_on(d(2026, 11, 24));
        let chat = base
            .with_weekly(parse_weekly("mon-fri 09:00-14:00").expect("weekly"))
            .expect("calendar");
        assert!(
            chat.hours(d(2026, 11, 24)).is_none(),
            "the municipality's closed day holds"
        );
        assert_eq!(
            chat.hours(d(2026, 11, 25)),
            Some((Time::constant(9, 0, 0, 0), Time::constant(14, 0, 0, 0)))
        );
    }

    #[test]
    fn shortened_and_own_closed_days() {
        let c = oslo()
            .close_early(d(2026, 12, 23), Time::constant(12, 0, 0, 0))
            .close_on(d(2026, 12, 24));
        let start = ts("2026-12-23T10:00:00Z"); // 11:00 local
        let due = c.add_working_time(start, SignedDuration::from_hours(2));
        // One hour left on the 23rd; 24th closed; 25th-27th holiday/weekend; Monday 28th 09:00.
        assert_eq!(due, ts("2026-12-28T08:00:00Z"));
    }

    #[test]
    fn end_of_working_day_counts_days() {
        let c = oslo();
        let fri = ts("2026-11-20T09:00:00Z");
        assert_eq!(c.end_of_working_day(fri, 0), ts("2026-11-20T14:30:00Z"));
        assert_eq!(
            c.end_of_working_day(fri, 1),
            ts("2026-11-23T14:30:00Z"),
            "Monday"
        );
        assert_eq!(c.end_of_working_day(fri, 3), ts("2026-11-25T14:30:00Z"));
        let fri_evening = ts("2026-11-20T18:00:00Z");
        assert_eq!(
            c.end_of_working_day(fri_evening, 0),
            ts("2026-11-23T14:30:00Z")
        );
        assert_eq!(
            c.next_working_day_at(fri_evening, Time::constant(12, 0, 0, 0)),
            ts("2026-11-23T11:00:00Z")
        );
    }

    proptest! {
        #[test]
        fn deadlines_never_fall_in_closed_time(secs in 1_600_000_000i64..2_200_000_000, mins in 0i64..10_000) {
            let c = oslo();
            let start = Timestamp::from_second(secs).expect("ts");
            let due = c.add_working_time(start, SignedDuration::from_mins(mins));
            prop_assert!(c.is_open_or_closing(due), "{due}");
            prop_assert!(due >= start);
        }

        #[test]
        fn adding_working_time_is_monotone(secs in 1_600_000_000i64..2_200_000_000, a in 0i64..5_000, b in 0i64..5_000) {
            let c = oslo();
            let start = Timestamp::from_second(secs).expect("ts");
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(c.add_working_time(start, SignedDuration::from_mins(lo)) <= c.add_working_time(start, SignedDuration::from_mins(hi)));
            let later = start + SignedDuration::from_mins(lo);
            prop_assert!(c.add_working_time(start, SignedDuration::from_mins(60)) <= c.add_working_time(later, SignedDuration::from_mins(60)));
        }

        #[test]
        fn end_of_working_day_is_a_closing_time(secs in 1_600_000_000i64..2_200_000_000, n in 0u32..10) {
            let c = WorkingCalendar::office_hours("Europe/Stockholm").expect("calendar");
            let start = Timestamp::from_second(secs).expect("ts");
            let due = c.end_of_working_day(start, n);
            prop_assert!(due > start);
            let (_, close) = c.interval(c.local_date(due)).expect("a working day");
            prop_assert_eq!(due, close);
        }
    }

    #[test]
    fn the_next_opening_skips_closed_time() {
        let cal = WorkingCalendar::office_hours("Europe/Oslo").expect("zone");
        let ts = |s: &str| -> Timestamp { s.parse().expect("ts") };
        // Friday 2026-11-20 16:00 local (15:00 UTC) → Monday 08:00 local (07:00 UTC).
        assert_eq!(
            cal.next_opening(ts("2026-11-20T15:00:00Z")),
            Some(ts("2026-11-23T07:00:00Z"))
        );
        // Open now: now.
        assert_eq!(
            cal.next_opening(ts("2026-11-23T09:00:00Z")),
            Some(ts("2026-11-23T09:00:00Z"))
        );
        assert!(cal.is_open(ts("2026-11-23T09:00:00Z")));
    }
}
