//! Finding personal identity numbers in text (personopplysninger), before anything is said in
//! public: Norwegian fødselsnummer, D-numbers and H-numbers (11 digits, two mod-11 control
//! digits), and Swedish personnummer and samordningsnummer in 10- and 12-digit forms (Luhn).
//! A number whose date or control digits do not hold is not reported. Pure; offsets are bytes.

use serde::Serialize;

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Fodselsnummer,
    DNummer,
    /// A Norwegian H-number (hjelpenummer, month + 40), reported with the fødselsnummer kind's
    /// caution under its own name.
    HNummer,
    Personnummer,
    Samordningsnummer,
}

/// One finding: its kind and where it is, as byte offsets `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// Digits of `bytes` at `at` in the shape `groups` (runs of digits with one optional
/// separator from `separators` between them); the digits and the end offset.
fn digits_in_shape(
    bytes: &[u8],
    at: usize,
    groups: &[usize],
    separators: &[u8],
) -> Option<(Vec<u8>, usize)> {
    let mut digits = Vec::with_capacity(12);
    let mut i = at;
    for (n, len) in groups.iter().enumerate() {
        if n > 0 && i < bytes.len() && separators.contains(&bytes[i]) {
            i += 1;
        }
        for _ in 0..*len {
            let b = *bytes.get(i)?;
            if !b.is_ascii_digit() {
                return None;
            }
            digits.push(b - b'0');
            i += 1;
        }
    }
    // The number must end here, not run on into more digits.
    if bytes.get(i).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((digits, i))
}

fn valid_date(day: u8, month: u8) -> bool {
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// A Norwegian 11-digit number's kind if its date and both control digits hold.
fn norwegian(d: &[u8]) -> Option<Kind> {
    let n = |i: usize| u32::from(d[i]);
    let control = |weights: &[u32]| -> Option<u32> {
        let sum: u32 = weights.iter().enumerate().map(|(i, w)| n(i) * w).sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            k => Some(k),
        }
    };
    let k1 = control(&[3, 7, 6, 1, 8, 9, 4, 5, 2])?;
    let k2 = control(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2])?;
    if k1 != n(9) || k2 != n(10) {
        return None;
    }
    let day = d[0] * 10 + d[1];
    let month = d[2] * 10 + d[3];
    let (kind, day, month) = match (day, month) {
        (41..=71, _) => (Kind::DNummer, day - 40, month),
        (_, 41..=52) => (Kind::HNummer, day, month - 40),
        _ => (Kind::Fodselsnummer, day, month),
    };
    valid_date(day, month).then_some(kind)
}

/// The Luhn check over the ten digits YYMMDDNNNC.
fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let v = u32::from(x) * if i % 2 == 0 { 2 } else { 1 };
            if v > 9 { v - 9 } else { v }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A Swedish number's kind from its ten digits YYMMDDNNNC, if its date and Luhn digit hold.
fn swedish(d: &[u8]) -> Option<Kind> {
    if !luhn(d) {
        return None;
    }
    let month = d[2] * 10 + d[3];
    let day = d[4] * 10 + d[5];
    let (kind, day) = match day {
        61..=91 => (Kind::Samordningsnummer, day - 60),
        _ => (Kind::Personnummer, day),
    };
    valid_date(day, month).then_some(kind)
}

/// Every identity number in `text`, in order.
pub fn find(text: &str) -> Vec<Finding> {
    let bytes = text.as_bytes();
    let mut found = vec![];
    let mut i = 0;
    while i < bytes.len() {
        let starts_number = bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit());
        if !starts_number {
            i += 1;
            continue;
        }
        let hit = digits_in_shape(bytes, i, &[6, 5], b" -")
            .and_then(|(d, end)| norwegian(&d).map(|k| (k, end)))
            .or_else(|| {
                // 19/20 + YYMMDD-NNNC, the century checked to be plausible.
                digits_in_shape(bytes, i, &[8, 4], b"-+").and_then(|(d, end)| {
                    let century = d[0] * 10 + d[1];
                    ((18..=20).contains(&century))
                        .then(|| swedish(&d[2..]))
                        .flatten()
                        .map(|k| (k, end))
                })
            })
            .or_else(|| {
                digits_in_shape(bytes, i, &[6, 4], b"-+")
                    .and_then(|(d, end)| swedish(&d).map(|k| (k, end)))
            });
        match hit {
            Some((kind, end)) => {
                found.push(Finding {
                    kind,
                    start: i,
                    end,
                });
                i = end;
            }
            None => i += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A valid fødselsnummer for a date and individual number, computed here the long way.
    fn with_controls(first9: &str) -> Option<String> {
        let d: Vec<u32> = first9.bytes().map(|b| u32::from(b - b'0')).collect();
        let w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
        let k1 = (11 - d.iter().zip(w1).map(|(a, b)| a * b).sum::<u32>() % 11) % 11;
        if k1 == 10 {
            return None;
        }
        let mut d2 = d.clone();
        d2.push(k1);
        let w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
        let k2 = (11 - d2.iter().zip(w2).map(|(a, b)| a * b).sum::<u32>() % 11) % 11;
        if k2 == 10 {
            return None;
        }
        Some(format!("{first9}{k1}{k2}"))
    }

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        find(text)
            .into_iter()
            .map(|f| (f.kind, &text[f.start..f.end]))
            .collect()
    }

    #[test]
    fn norwegian_numbers_with_good_control_digits_are_found() {
        // Published test numbers (Skatteetaten's examples and synthetic ones).
        let fnr = with_controls("150385123").expect("valid");
        let text = format!("Fødselsnummeret mitt er {fnr}, takk.");
        assert_eq!(kinds(&text), vec![(Kind::Fodselsnummer, fnr.as_str())]);
        let spaced = format!("{} {}", &fnr[..6], &fnr[6..]);
        assert_eq!(kinds(&spaced), vec![(Kind::Fodselsnummer, spaced.as_str())]);
        let d = with_controls("550385123").expect("valid");
        assert_eq!(kinds(&d), vec![(Kind::DNummer, d.as_str())]);
        let h = with_controls("154385123").expect("valid");
        assert_eq!(kinds(&h), vec![(Kind::HNummer, h.as_str())]);
    }

    #[test]
    fn numbers_that_fail_their_checks_are_not_reported() {
        let fnr = with_controls("150385123").expect("valid");
        let mut wrong = fnr.clone().into_bytes();
        wrong[10] = b'0' + (wrong[10] - b'0' + 1) % 10;
        assert!(find(&String::from_utf8(wrong).expect("utf8")).is_empty());
        assert!(find("Ring 12345678901 eller 99887766").is_empty());
        // A valid number inside a longer run of digits is not one.
        assert!(find(&format!("9{fnr}")).is_empty());
        assert!(find(&format!("{fnr}0")).is_empty());
        // 32nd of a month.
        assert!(with_controls("320385123").is_none_or(|n| find(&n).is_empty()));
    }

    #[test]
    fn swedish_personnummer_in_both_forms() {
        // Skatteverket's example 811218-9876 (Luhn digit 6).
        assert_eq!(
            kinds("pnr 811218-9876"),
            vec![(Kind::Personnummer, "811218-9876")]
        );
        assert_eq!(
            kinds("198112189876"),
            vec![(Kind::Personnummer, "198112189876")]
        );
        assert_eq!(
            kinds("19811218-9876."),
            vec![(Kind::Personnummer, "19811218-9876")]
        );
        assert_eq!(
            kinds("811218+9876"),
            vec![(Kind::Personnummer, "811218+9876")]
        );
        // Samordningsnummer: day + 60.
        assert_eq!(
            kinds("701063-2391"),
            vec![(Kind::Samordningsnummer, "701063-2391")]
        );
        assert!(find("811218-9875").is_empty(), "wrong Luhn digit");
        assert!(find("811318-9876").is_empty(), "month 13");
    }

    #[test]
    fn offsets_are_bytes_of_the_text() {
        let text = "Æøå: 811218-9876";
        let f = find(text);
        assert_eq!((f[0].start, f[0].end), (8, 19));
        assert_eq!(&text[f[0].start..f[0].end], "811218-9876");
    }

    proptest! {
        #[test]
        fn every_valid_fodselsnummer_is_found_anywhere(
            day in 1u8..=28, month in 1u8..=12, year in 0u8..=99, ind in 0u16..=999,
            before in "[a-zæøå ,.]{0,20}", after in "[a-zæøå ,.]{0,20}",
        ) {
            let first9 = format!("{day:02}{month:02}{year:02}{ind:03}");
            if let Some(fnr) = with_controls(&first9) {
                let text = format!("{before}{fnr}{after}");
                let f = find(&text);
                prop_assert_eq!(f.len(), 1);
                prop_assert_eq!(f[0].kind, Kind::Fodselsnummer);
                prop_assert_eq!(&text[f[0].start..f[0].end], fnr.as_str());
            }
        }

        #[test]
        fn finding_never_panics_and_offsets_are_on_char_boundaries(text in "\\PC{0,300}") {
            for f in find(&text) {
                prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                prop_assert!(f.start < f.end);
            }
        }
    }
}
