//! The personal-data guard (personopplysninger): what in a text should not be said in public.
//! Norwegian fødselsnummer, D-numbers and H-numbers (11 digits, two mod-11 control digits),
//! Swedish personnummer and samordningsnummer in 10- and 12-digit forms (Luhn), Norwegian bank
//! account numbers (mod 11), Norwegian and Swedish phone numbers, email addresses, and health
//! and social-care wording from a list. A number whose date or control digits do not hold is
//! not reported as an identity number. Pure; offsets are bytes, always on character boundaries.

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;
use std::sync::LazyLock;

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
    /// A Norwegian bank account number (kontonummer, 11 digits, mod 11).
    Kontonummer,
    /// A Norwegian or Swedish phone number.
    Phone,
    Email,
    /// Health or social-care wording (a diagnosis, child welfare, social assistance, …).
    Sensitive,
}

impl Kind {
    /// A national identity number (not an account, phone, address or word).
    pub fn is_identity(self) -> bool {
        matches!(
            self,
            Kind::Fodselsnummer
                | Kind::DNummer
                | Kind::HNummer
                | Kind::Personnummer
                | Kind::Samordningsnummer
        )
    }
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

/// A Norwegian account number's 11 digits hold their mod-11 control digit.
fn kontonummer(d: &[u8]) -> bool {
    const WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = WEIGHTS.iter().zip(d).map(|(w, x)| w * u32::from(*x)).sum();
    match 11 - sum % 11 {
        11 => d[10] == 0,
        10 => false,
        k => u32::from(d[10]) == k,
    }
}

/// A phone number starting at `i` (digits or a `+`): its end. Norwegian numbers are eight
/// digits; without a country code only mobile numbers (4, 9) written together, or any number
/// written in the usual groups (3-2-3, 2-2-2-2), are taken, so that dates and amounts are
/// not. Swedish numbers are 0 + 9 digits written 3-3-2-2 or 3-7, or +46 and 9 digits.
fn phone(bytes: &[u8], i: usize) -> Option<usize> {
    let sep = b" -";
    let prefixed = |p: &[u8]| bytes[i..].starts_with(p);
    for (prefix, country) in [
        (&b"+47"[..], 47),
        (b"0047", 47),
        (b"+46", 46),
        (b"0046", 46),
    ] {
        if prefixed(prefix) {
            let mut at = i + prefix.len();
            if bytes.get(at) == Some(&b' ') {
                at += 1;
            }
            let shapes: &[&[usize]] = if country == 47 {
                &[&[8], &[3, 2, 3], &[2, 2, 2, 2], &[4, 4]]
            } else {
                &[&[9], &[2, 3, 2, 2], &[2, 7], &[1, 3, 3, 2], &[3, 3, 3]]
            };
            return shapes.iter().find_map(|shape| {
                digits_in_shape(bytes, at, shape, sep)
                    .filter(|(d, _)| d[0] != 0)
                    .map(|(_, end)| end)
            });
        }
    }
    if !bytes[i].is_ascii_digit() {
        return None;
    }
    let norwegian = [&[3usize, 2, 3][..], &[2, 2, 2, 2]]
        .iter()
        .find_map(|shape| {
            digits_in_shape(bytes, i, shape, b" ")
                .filter(|(d, end)| (2..=9).contains(&d[0]) && *end - i > 8)
                .map(|(_, end)| end)
        })
        .or_else(|| {
            digits_in_shape(bytes, i, &[8], b"")
                .filter(|(d, _)| d[0] == 4 || d[0] == 9)
                .map(|(_, end)| end)
        });
    norwegian.or_else(|| {
        [&[3usize, 3, 2, 2][..], &[3, 7], &[10]]
            .iter()
            .find_map(|shape| {
                digits_in_shape(bytes, i, shape, sep)
                    .filter(|(d, _)| d[0] == 0 && d[1] != 0)
                    .map(|(_, end)| end)
            })
    })
}

/// The number starting at `i`: the first kind that holds.
fn number_at(bytes: &[u8], i: usize) -> Option<(Kind, usize)> {
    digits_in_shape(bytes, i, &[6, 5], b" -")
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
        })
        .or_else(|| {
            [&[4usize, 2, 5][..], &[11]].iter().find_map(|shape| {
                digits_in_shape(bytes, i, shape, b". ")
                    .filter(|(d, _)| kontonummer(d))
                    .map(|(_, end)| (Kind::Kontonummer, end))
            })
        })
        .or_else(|| phone(bytes, i).map(|end| (Kind::Phone, end)))
}

/// Health and social-care words (bokmål, nynorsk, Swedish), matched at the start of a word
/// and case-insensitively: "kreft" also finds "kreftbehandling".
pub const SENSITIVE_WORDS: &[&str] = &[
    "diagnose",
    "diagnos",
    "kreft",
    "cancer",
    "depresjon",
    "depression",
    "psykisk",
    "psykiatri",
    "psykiatrisk",
    "psykolog",
    "psykos",
    "schizofreni",
    "bipolar",
    "angstlidelse",
    "spiseforstyrr",
    "anoreksi",
    "selvmord",
    "sjølvmord",
    "självmord",
    "overdose",
    "rusmisbruk",
    "rusavhengig",
    "rusbehandling",
    "missbruk",
    "narkotika",
    "alkoholiker",
    "barnevern",
    "omsorgsovertakelse",
    "fosterhjem",
    "sosialhjelp",
    "socialbidrag",
    "försörjningsstöd",
    "socialtjänst",
    "sosialstønad",
    "uføretrygd",
    "uførepensjon",
    "sykemeld",
    "sjukemeld",
    "sykmeld",
    "sjukskriv",
    "abort",
    "hiv",
    "aids",
    "epilepsi",
    "demens",
    "alzheimer",
    "diabetes",
    "funksjonshemm",
    "funksjonsnedsett",
    "utviklingshemm",
    "autisme",
    "adhd",
    "graviditet",
    "svangerskap",
    "hjemmesykepleie",
    "sykehjem",
    "straffedom",
    "fengsel",
    "voldtekt",
];

static SENSITIVE: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(SENSITIVE_WORDS)
        .expect("the word list builds")
});

/// Whether the byte before `i` ends a word (or there is none).
fn word_starts(bytes: &[u8], i: usize) -> bool {
    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] >= 0x80)
}

/// The end of the word that starts or continues at `i`.
fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] >= 0x80) {
        // Stop before a UTF-8 punctuation character such as "–" or "…" (E2 80 xx).
        if bytes[i] == 0xE2 {
            break;
        }
        i += 1;
    }
    i
}

fn email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-".contains(&b)
}

fn email_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

/// The email address around the `@` at `at`, not starting before `from`.
fn email_at(bytes: &[u8], at: usize, from: usize) -> Option<(usize, usize)> {
    let mut start = at;
    while start > from && email_local(bytes[start - 1]) {
        start -= 1;
    }
    while start < at && !bytes[start].is_ascii_alphanumeric() {
        start += 1;
    }
    let mut end = at + 1;
    while end < bytes.len() && email_domain(bytes[end]) {
        end += 1;
    }
    while end > at + 1 && !bytes[end - 1].is_ascii_alphanumeric() {
        end -= 1;
    }
    let domain = &bytes[at + 1..end];
    let tld = domain.rsplit(|b| *b == b'.').next()?;
    let ok = start < at
        && domain.contains(&b'.')
        && !domain.starts_with(b".")
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic);
    ok.then_some((start, end))
}

/// Everything the guard finds in `text`, in order.
pub fn find(text: &str) -> Vec<Finding> {
    find_in_bytes(text.as_bytes())
}

/// [`find`] over bytes that may not all be UTF-8 (a file, standard input): findings are
/// ASCII, so their offsets are character boundaries of any UTF-8 around them.
pub fn find_in_bytes(bytes: &[u8]) -> Vec<Finding> {
    let mut found = numbers_and_addresses(bytes);
    let mut words: Vec<Finding> = SENSITIVE
        .find_iter(bytes)
        .filter(|m| word_starts(bytes, m.start()))
        .map(|m| Finding {
            kind: Kind::Sensitive,
            start: m.start(),
            end: word_end(bytes, m.end()),
        })
        .collect();
    if !words.is_empty() {
        found.append(&mut words);
        found.sort_by_key(|f| (f.start, f.end));
    }
    found
}

/// Identity numbers, account numbers, phone numbers and email addresses, in order.
fn numbers_and_addresses(bytes: &[u8]) -> Vec<Finding> {
    let mut found: Vec<Finding> = vec![];
    let mut i = 0;
    // Only digits, '+' and '@' can start a finding: skip to the next of those at once.
    while let Some(skip) = bytes[i.min(bytes.len())..]
        .iter()
        .position(|b| b.is_ascii_digit() || *b == b'+' || *b == b'@')
    {
        i += skip;
        if bytes[i] == b'@' {
            let from = found.last().map_or(0, |f| f.end);
            match email_at(bytes, i, from) {
                Some((start, end)) => {
                    found.push(Finding {
                        kind: Kind::Email,
                        start,
                        end,
                    });
                    i = end;
                }
                None => i += 1,
            }
            continue;
        }
        let starts_number = i == 0 || !(bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b'+');
        if !starts_number {
            i += 1;
            continue;
        }
        let hit = if bytes[i] == b'+' {
            phone(bytes, i).map(|end| (Kind::Phone, end))
        } else {
            number_at(bytes, i)
        };
        // A number in an email address's local part is the address's.
        let in_address = hit.is_some_and(|(_, end)| bytes.get(end) == Some(&b'@'));
        match hit.filter(|_| !in_address) {
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
        assert!(
            find("Ring 12345678901 eller 99887766")
                .iter()
                .all(|f| !f.kind.is_identity())
        );
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
    fn account_numbers_phones_addresses_and_words() {
        assert_eq!(
            kinds("Betal til 1234.56.78903, ikke 1234.56.78904."),
            vec![(Kind::Kontonummer, "1234.56.78903")]
        );
        assert_eq!(
            kinds("12345678903"),
            vec![(Kind::Kontonummer, "12345678903")]
        );
        assert_eq!(
            kinds(
                "Ring 99 88 77 66, +47 22 33 44 55 eller 412 34 567 (ikke 20261122 eller 12345678)"
            ),
            vec![
                (Kind::Phone, "99 88 77 66"),
                (Kind::Phone, "+47 22 33 44 55"),
                (Kind::Phone, "412 34 567"),
            ]
        );
        assert_eq!(kinds("mobil 99887766"), vec![(Kind::Phone, "99887766")]);
        assert_eq!(
            kinds("+46 70 123 45 67 / 070-123 45 67"),
            vec![
                (Kind::Phone, "+46 70 123 45 67"),
                (Kind::Phone, "070-123 45 67")
            ]
        );
        assert_eq!(
            kinds("Skriv til post@nordby.kommune.no. Eller ola99887766@example.com!"),
            vec![
                (Kind::Email, "post@nordby.kommune.no"),
                (Kind::Email, "ola99887766@example.com")
            ]
        );
        assert!(find("a@b, @nordby, x@y.z1").is_empty());
        assert_eq!(
            kinds("Sønnen har fått KREFTBEHANDLING, og Barnevernet er inne. Ahiv er ikke et ord."),
            vec![
                (Kind::Sensitive, "KREFTBEHANDLING"),
                (Kind::Sensitive, "Barnevernet")
            ]
        );
        assert_eq!(
            kinds("sjukemeldinga"),
            vec![(Kind::Sensitive, "sjukemeldinga")]
        );
    }

    #[test]
    fn kinds_are_named_as_the_cli_prints_them() {
        let names: Vec<String> = [
            Kind::Fodselsnummer,
            Kind::DNummer,
            Kind::Personnummer,
            Kind::Samordningsnummer,
            Kind::Kontonummer,
            Kind::Phone,
            Kind::Email,
            Kind::Sensitive,
        ]
        .iter()
        .map(|k| serde_json::to_string(k).expect("json"))
        .collect();
        assert_eq!(
            names.join(","),
            r#""fodselsnummer","d_nummer","personnummer","samordningsnummer","kontonummer","phone","email","sensitive""#
        );
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
        fn bytes_that_are_not_utf8_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            for f in find_in_bytes(&bytes) {
                prop_assert!(f.start < f.end && f.end <= bytes.len());
            }
        }

        #[test]
        fn valid_account_numbers_are_found(first10 in "[0-9]{10}") {
            let d: Vec<u8> = first10.bytes().map(|b| b - b'0').collect();
            let w = [5u32, 4, 3, 2, 7, 6, 5, 4, 3, 2];
            let sum: u32 = d.iter().zip(w).map(|(x, w)| u32::from(*x) * w).sum();
            let k = (11 - sum % 11) % 11;
            if k < 10 {
                let n = format!("{first10}{k}");
                let dotted = format!("{}.{}.{}", &n[..4], &n[4..6], &n[6..]);
                let f = find(&format!("konto {dotted} takk"));
                prop_assert_eq!(f.len(), 1);
                // An 11-digit number may also be a valid identity number, which comes first.
                prop_assert!(f[0].kind == Kind::Kontonummer || f[0].kind.is_identity());
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
