//! SMS: how many segments a text takes, and the code words (kodeord) citizens start a message
//! with. Pure.
//!
//! A text in the GSM 7-bit default alphabet (3GPP TS 23.038, with Norwegian and Swedish letters
//! æ ø å ä ö in it) takes 160 characters in one message, or 153 per segment when split; the
//! characters of the extension table (€ [ ] { } \ ^ ~ | and form feed) count twice and are
//! never split from their escape. Any other character makes the whole text UCS-2: 70 UTF-16
//! units in one message, or 67 per segment, a surrogate pair never split.

use serde::Serialize;

/// The GSM 7-bit default alphabet (the escape to the extension table left out).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Characters of the GSM extension table, two septets each.
const GSM7_EXTENSION: &str = "\u{000C}^{}\\[~]|€";

/// How a text is encoded for SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// What sending a text by SMS takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Messages the text is split into (0 for an empty text).
    pub count: usize,
    /// Septets (GSM-7) or UTF-16 units (UCS-2) the text takes.
    pub units: usize,
    /// What is left in the last segment before another is needed.
    pub left_in_last: usize,
}

/// The septets one character takes in GSM-7, or None if it is not in the alphabet.
fn gsm7_septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Packs items of the given sizes into segments of `per` units, never splitting an item.
fn pack(sizes: impl Iterator<Item = usize>, per: usize) -> (usize, usize) {
    let (mut count, mut used) = (1, 0);
    for size in sizes {
        if used + size > per {
            count += 1;
            used = 0;
        }
        used += size;
    }
    (count, per - used)
}

/// How many messages `text` takes, and in which encoding.
pub fn segments(text: &str) -> Segments {
    let gsm: Option<Vec<usize>> = text.chars().map(gsm7_septets).collect();
    let (encoding, sizes, single, per): (Encoding, Vec<usize>, usize, usize) = match gsm {
        Some(sizes) => (Encoding::Gsm7, sizes, 160, 153),
        None => (
            Encoding::Ucs2,
            text.chars().map(char::len_utf16).collect(),
            70,
            67,
        ),
    };
    let units: usize = sizes.iter().sum();
    if units == 0 {
        return Segments {
            encoding,
            count: 0,
            units,
            left_in_last: single,
        };
    }
    if units <= single {
        return Segments {
            encoding,
            count: 1,
            units,
            left_in_last: single - units,
        };
    }
    let (count, left_in_last) = pack(sizes.into_iter(), per);
    Segments {
        encoding,
        count,
        units,
        left_in_last,
    }
}

/// Text made to fit the GSM alphabet where a typographic character has a plain twin (– — →
/// -, ’ ‘ → ', “ ” « » → ", … → ..., non-breaking space → space), so that one dash does not
/// turn a message into UCS-2 and double its segments. Other characters are kept.
pub fn gsm_friendly(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '–' | '—' | '‐' | '−' => out.push('-'),
            '’' | '‘' | '´' | '`' => out.push('\''),
            '“' | '”' | '«' | '»' | '„' => out.push('"'),
            '…' => out.push_str("..."),
            '\u{a0}' | '\u{2009}' | '\u{202f}' => out.push(' '),
            other => out.push(other),
        }
    }
    out
}

/// A code word as it is compared: lower case, accents off (é → e, ü → u), but the Nordic
/// letters æ ø å ä ö kept as the letters they are.
pub fn fold_keyword(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

/// The first word of an SMS, folded ([`fold_keyword`]), and the rest of the text. Punctuation
/// right after the word ("VANN: lekkasje", "Stopp!") is not part of it.
pub fn first_word(text: &str) -> (String, &str) {
    let text = text.trim_start();
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let word = text[..end].trim_end_matches(|c: char| !c.is_alphanumeric());
    (fold_keyword(word), text[end..].trim())
}

/// What a citizen's message asks of their consent to SMS from the municipality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentWord {
    /// STOPP (STOP, SLUTA): no more messages to this number.
    Stop,
    /// START: messages again.
    Start,
}

/// Whether a message is a consent word: the whole message, in Norwegian, Swedish or English.
pub fn consent_word(text: &str) -> Option<ConsentWord> {
    let (word, rest) = first_word(text);
    if !rest.is_empty() {
        return None;
    }
    match word.as_str() {
        "stopp" | "stop" | "sluta" | "avslutt" => Some(ConsentWord::Stop),
        "start" | "starta" => Some(ConsentWord::Start),
        _ => None,
    }
}

/// Why a code word was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeWordError {
    #[error("a code word is one word of letters and digits, at most {MAX_CODE_WORD} characters")]
    NotOneWord,
    #[error("STOPP and START are kept for consent and cannot be code words")]
    Reserved,
}

/// The longest code word, in characters.
pub const MAX_CODE_WORD: usize = 20;

/// A code word (kodeord) as staff type it, folded as incoming messages are ([`first_word`]):
/// one word of letters and digits, and not one of the consent words.
pub fn code_word(input: &str) -> Result<String, CodeWordError> {
    let word = fold_keyword(input.trim());
    if word.is_empty()
        || word.chars().count() > MAX_CODE_WORD
        || !word.chars().all(char::is_alphanumeric)
    {
        return Err(CodeWordError::NotOneWord);
    }
    if consent_word(&word).is_some() {
        return Err(CodeWordError::Reserved);
    }
    Ok(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn code_words_are_one_folded_word_and_never_a_consent_word() {
        assert_eq!(code_word(" Vann ").as_deref(), Ok("vann"));
        assert_eq!(code_word("BRØYTING").as_deref(), Ok("brøyting"));
        assert_eq!(code_word("Café").as_deref(), Ok("cafe"));
        assert_eq!(code_word("vei 2"), Err(CodeWordError::NotOneWord));
        assert_eq!(code_word(""), Err(CodeWordError::NotOneWord));
        assert_eq!(code_word("vann!"), Err(CodeWordError::NotOneWord));
        assert_eq!(code_word(&"a".repeat(21)), Err(CodeWordError::NotOneWord));
        assert_eq!(code_word("STOPP"), Err(CodeWordError::Reserved));
        assert_eq!(code_word("start"), Err(CodeWordError::Reserved));
    }

    proptest! {
        /// What staff save is what an incoming message starting with that word folds to.
        #[test]
        fn a_saved_code_word_matches_messages_that_start_with_it(word in "[A-Za-zÆØÅæøåÉé0-9]{1,20}", rest in "[ a-z]{0,30}") {
            if let Ok(saved) = code_word(&word) {
                let text = format!("{word} {rest}");
                let (first, _) = first_word(&text);
                prop_assert_eq!(first, saved);
            }
        }
    }

    #[test]
    fn norwegian_text_is_gsm7_and_fits_160() {
        let s = segments(
            "Hei! Vi har mottatt meldingen din om vannlekkasjen i Øvre gate. Mvh Nordby kommune",
        );
        assert_eq!((s.encoding, s.count), (Encoding::Gsm7, 1));
        let s = segments(&"æ".repeat(160));
        assert_eq!((s.count, s.left_in_last), (1, 0));
        let s = segments(&"å".repeat(161));
        assert_eq!((s.encoding, s.count, s.units), (Encoding::Gsm7, 2, 161));
        assert_eq!(segments(&"a".repeat(306)).count, 2);
        assert_eq!(segments(&"a".repeat(307)).count, 3);
        assert_eq!(segments("").count, 0);
    }

    #[test]
    fn extension_characters_count_twice_and_stay_whole() {
        let s = segments("Pris: 50 €");
        assert_eq!((s.encoding, s.units), (Encoding::Gsm7, 11));
        assert_eq!(segments(&"€".repeat(80)).count, 1);
        assert_eq!(segments(&"€".repeat(81)).count, 2);
        // 152 plain septets and a euro: the euro does not fit in the first segment's last slot.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        let s = segments(&text);
        assert_eq!((s.units, s.count), (164, 2));
        assert_eq!(s.left_in_last, 153 - 12);
    }

    #[test]
    fn other_characters_make_it_ucs2() {
        let s = segments("Hei 👋");
        assert_eq!((s.encoding, s.units, s.count), (Encoding::Ucs2, 6, 1));
        assert_eq!(segments(&"ł".repeat(70)).count, 1);
        assert_eq!(segments(&"ł".repeat(71)).count, 2);
        assert_eq!(segments(&"ł".repeat(134)).count, 2);
        assert_eq!(segments(&"ł".repeat(135)).count, 3);
        // 66 units and an emoji (2 units): the pair goes whole to the next segment.
        let text = format!("{}👋{}", "ł".repeat(66), "ł".repeat(10));
        assert_eq!(segments(&text).count, 2);
    }

    #[test]
    fn typographic_characters_are_made_gsm_friendly() {
        let text = "Åpent 08.00–15.30 «i dag» … velkommen";
        assert_eq!(segments(text).encoding, Encoding::Ucs2);
        let plain = gsm_friendly(text);
        assert_eq!(plain, "Åpent 08.00-15.30 \"i dag\" ... velkommen");
        assert_eq!(segments(&plain).encoding, Encoding::Gsm7);
        assert_eq!(gsm_friendly("Hei 👋"), "Hei 👋", "what has no twin is kept");
    }

    #[test]
    fn code_words_are_the_first_word_without_case_or_accents() {
        assert_eq!(
            first_word("  VANN lekkasje i Storgata"),
            ("vann".into(), "lekkasje i Storgata")
        );
        assert_eq!(first_word("Barnehage: søknad").0, "barnehage");
        assert_eq!(first_word("Bárnehage").0, "barnehage");
        assert_eq!(first_word("SKOLE").0, "skole");
        assert_eq!(first_word("Åpningstider?").0, "åpningstider");
        assert_eq!(first_word("").0, "");
        assert_eq!(consent_word("STOPP"), Some(ConsentWord::Stop));
        assert_eq!(consent_word(" stopp! "), Some(ConsentWord::Stop));
        assert_eq!(consent_word("Start"), Some(ConsentWord::Start));
        assert_eq!(
            consent_word("stopp lekkasjen, takk"),
            None,
            "a sentence is not a consent word"
        );
        assert_eq!(consent_word("VANN"), None);
    }

    proptest! {
        #[test]
        fn segments_hold_the_text(text in "\\PC{0,500}") {
            let s = segments(&text);
            let (single, per) = match s.encoding {
                Encoding::Gsm7 => (160, 153),
                Encoding::Ucs2 => (70, 67),
            };
            if s.units == 0 {
                prop_assert_eq!(s.count, 0);
            } else if s.units <= single {
                prop_assert_eq!(s.count, 1);
            } else {
                // Enough room, and not more than one segment wasted per split item.
                prop_assert!(s.count * per >= s.units);
                prop_assert!((s.count - 1) * per < s.units + s.count);
            }
        }

        #[test]
        fn adding_text_never_takes_fewer_segments(a in "[a-zæøå €]{0,400}", b in "[a-zæøå €]{0,50}") {
            let longer = format!("{a}{b}");
            prop_assert!(segments(&longer).count >= segments(&a).count);
        }
    }
}
