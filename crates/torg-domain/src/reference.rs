//! Human references for inquiries, like `2026-000123` (saksreferanse).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The year and running number of an inquiry within its municipality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reference {
    pub year: i16,
    pub number: i64,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:06}", self.year, self.number)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a reference; a reference looks like 2026-000123")]
pub struct NotAReference(pub String);

impl FromStr for Reference {
    type Err = NotAReference;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || NotAReference(s.to_string());
        let (y, n) = s.trim().split_once('-').ok_or_else(err)?;
        if y.len() != 4 || n.len() < 6 || !y.bytes().chain(n.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        Ok(Reference {
            year: y.parse().map_err(|_| err())?,
            number: n.parse().map_err(|_| err())?,
        })
    }
}

/// The first reference quoted in `text` (e.g. a subject "Re: Vannlekkasje [2026-000123]"):
/// four digits, a hyphen, six or more digits, not inside a longer number.
pub fn find_in(text: &str) -> Option<Reference> {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    (0..b.len()).find_map(|i| {
        if (i > 0 && digit(i - 1)) || !(0..4).all(|k| digit(i + k)) || b.get(i + 4) != Some(&b'-') {
            return None;
        }
        let end = (i + 5..=b.len()).find(|&j| !digit(j)).unwrap_or(b.len());
        (end - (i + 5) >= 6)
            .then(|| text[i..end].parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn references_are_found_in_subjects() {
        assert_eq!(
            find_in("Re: Vannlekkasje [2026-000123]").map(|r| r.to_string()),
            Some("2026-000123".into())
        );
        assert_eq!(find_in("Sak 2026-0001 og 12026-000123"), None);
        assert_eq!(find_in("tel 22 33 44 55"), None);
        assert_eq!(find_in("2026-1234567x").map(|r| r.number), Some(1_234_567));
        assert_eq!(find_in(""), None);
    }

    #[test]
    fn formats_with_six_digits() {
        let r = Reference {
            year: 2026,
            number: 123,
        };
        assert_eq!(r.to_string(), "2026-000123");
        assert_eq!("2026-000123".parse::<Reference>(), Ok(r));
        assert!("2026-12".parse::<Reference>().is_err());
        assert!("hello".parse::<Reference>().is_err());
        assert!("2026-00012a".parse::<Reference>().is_err());
    }

    proptest! {
        #[test]
        fn round_trips(year in 1000i16..9999, number in 1i64..10_000_000) {
            let r = Reference { year, number };
            prop_assert_eq!(r.to_string().parse::<Reference>(), Ok(r));
        }
    }
}
