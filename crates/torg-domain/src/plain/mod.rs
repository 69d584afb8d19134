//! Plain language (klarspråk) in bokmål, nynorsk and Swedish: a pure checker that gives advice,
//! never blocks. It measures LIX (words per sentence plus the percentage of words longer than
//! six letters) and marks sentences over a length, passive forms, words from a jargon list with
//! a plainer suggestion (a list per language, which a municipality may extend), and — where a
//! municipality writes one standard (målform) — words of the other standard with the form to
//! use. Offsets are byte offsets into the text, on character boundaries.
//!
//! One pass over the text for words, sentences, passives and the written standard, and one
//! Aho-Corasick scan for the jargon phrases; no allocation per word.

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;
use std::collections::HashMap;
use std::collections::HashSet;

/// The language of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Norwegian bokmål.
    Nb,
    /// Norwegian nynorsk.
    Nn,
    /// Swedish.
    Sv,
}

impl std::str::FromStr for Language {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "nb" | "no" => Ok(Language::Nb),
            "nn" => Ok(Language::Nn),
            "sv" => Ok(Language::Sv),
            other => Err(format!("{other:?} is not nb, nn or sv")),
        }
    }
}

/// The written standard (målform) a Norwegian municipality has chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Standard {
    Nb,
    Nn,
}

impl std::str::FromStr for Standard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "nb" => Ok(Standard::Nb),
            "nn" => Ok(Standard::Nn),
            other => Err(format!("{other:?} is not nb or nn")),
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    LongSentence,
    Passive,
    Jargon,
    WrittenStandard,
}

/// One piece of advice: `kind` at `start..end` (bytes), with a plainer form where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub suggestion: Option<String>,
}

impl Report {
    /// How hard the text reads by its LIX: easy (under 40), middling (40–50), hard (over 50).
    pub fn level(&self) -> &'static str {
        match self.lix {
            x if x < 40.0 => "easy",
            x if x <= 50.0 => "middling",
            _ => "hard",
        }
    }
}

/// The figures of a text and the advice on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// LIX: under 30 very easy, 30–40 easy, 40–50 middling, over 50 hard.
    pub lix: f64,
    pub words: usize,
    pub sentences: usize,
    /// Words longer than six letters.
    pub long_words: usize,
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// Sentences longer than this, in words, are marked (the klarspråk advice: 15–20 on average,
/// few over 25).
pub const MAX_SENTENCE_WORDS: usize = 25;

/// How to check: the language, the municipality's written standard (Norwegian only), the
/// longest sentence, and the municipality's own jargon (phrase, plainer form) beside the list.
#[derive(Debug, Clone)]
pub struct Settings {
    pub language: Language,
    pub standard: Option<Standard>,
    pub max_sentence_words: usize,
    pub extra_jargon: Vec<(String, String)>,
}

impl Settings {
    /// The settings for a municipality writing `language` (its code: nb, nn, sv): a nynorsk
    /// municipality has nynorsk as its written standard. `None` for a language the checker
    /// does not know (English).
    pub fn for_municipality(language: &str) -> Option<Settings> {
        let language: Language = language.parse().ok()?;
        let mut settings = Settings::new(language);
        if language == Language::Nn {
            settings.standard = Some(Standard::Nn);
        }
        Some(settings)
    }

    pub fn new(language: Language) -> Settings {
        Settings {
            language,
            standard: None,
            max_sentence_words: MAX_SENTENCE_WORDS,
            extra_jargon: vec![],
        }
    }
}

const JARGON_NB: &str = include_str!("jargon_nb.txt");
const JARGON_NN: &str = include_str!("jargon_nn.txt");
const JARGON_SV: &str = include_str!("jargon_sv.txt");
const NB_NN: &str = include_str!("nb_nn.txt");

/// `phrase = plainer` lines, comments and blanks skipped.
fn pairs(list: &str) -> impl Iterator<Item = (&str, &str)> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(a, b)| (a.trim(), b.trim()))
}

/// The jargon list of a language, as shipped.
pub fn jargon(language: Language) -> Vec<(String, String)> {
    let list = match language {
        Language::Nb => JARGON_NB,
        Language::Nn => JARGON_NN,
        Language::Sv => JARGON_SV,
    };
    pairs(list)
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Words before a full stop that does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "bl", "ca", "dvs", "eks", "etc", "evt", "ev", "f", "fr", "inkl", "jf", "kl", "mfl", "mm", "mv",
    "nr", "osv", "pga", "pr", "st", "tlf", "t", "d", "s", "o", "a", "ds", "resp", "bla", "mht",
    "vha", "iht", "ang", "gr", "kap", "jfr", "sk", "e", "m", "dr", "prof",
];

/// Modal verbs after which an s-form is a passive ("skal behandles", "kan skickas").
const MODALS_NO: &[&str] = &[
    "skal", "kan", "må", "bør", "vil", "skulle", "kunne", "måtte", "burde", "ville", "skal",
];
const MODALS_SV: &[&str] = &[
    "ska", "skall", "kan", "måste", "bör", "får", "skulle", "kunde", "borde", "måtte",
];
/// Auxiliaries of the periphrastic passive ("blir behandlet", "vart sendt", "blev skickad").
const AUX_NO: &[&str] = &[
    "blir", "ble", "blei", "blitt", "vert", "vart", "vorte", "bli",
];
const AUX_SV: &[&str] = &["blir", "blev", "blivit", "bli"];

/// A checker built once for a language and a municipality, then used on any number of texts.
pub struct Checker {
    settings: Settings,
    jargon: Option<AhoCorasick>,
    suggestions: Vec<String>,
    /// Words of the other standard → the form to use.
    standard: HashMap<String, String>,
    modals: HashSet<&'static str>,
    aux: HashSet<&'static str>,
    abbreviations: HashSet<&'static str>,
}

impl Checker {
    pub fn new(settings: Settings) -> Checker {
        let mut phrases: Vec<String> = vec![];
        let mut suggestions = vec![];
        for (phrase, plain) in jargon(settings.language)
            .into_iter()
            .chain(settings.extra_jargon.iter().cloned())
        {
            let phrase = fold(phrase.trim());
            if phrase.is_empty() {
                continue;
            }
            phrases.push(phrase);
            suggestions.push(plain);
        }
        let jargon = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&phrases)
            .ok();
        let norwegian = settings.language != Language::Sv;
        let standard = match (norwegian, settings.standard) {
            (true, Some(Standard::Nn)) => pairs(NB_NN)
                .map(|(nb, nn)| (nb.to_string(), nn.to_string()))
                .collect(),
            (true, Some(Standard::Nb)) => pairs(NB_NN)
                .map(|(nb, nn)| (nn.to_string(), nb.to_string()))
                .collect(),
            _ => HashMap::new(),
        };
        let (modals, aux) = match settings.language {
            Language::Sv => (MODALS_SV, AUX_SV),
            _ => (MODALS_NO, AUX_NO),
        };
        Checker {
            jargon,
            suggestions,
            standard,
            modals: modals.iter().copied().collect(),
            aux: aux.iter().copied().collect(),
            abbreviations: ABBREVIATIONS.iter().copied().collect(),
            settings,
        }
    }

    /// The figures and the advice for `text`.
    pub fn check(&self, text: &str) -> Report {
        let folded = fold(text);
        let bytes = folded.as_bytes();
        let mut findings = vec![];
        let mut words = 0usize;
        let mut long_words = 0usize;
        let mut sentences = 0usize;
        // The sentence under way: its first word's start and its word count.
        let mut sentence: Option<(usize, usize)> = None;
        let mut previous: Option<&str> = None;
        let mut end_sentence =
            |sentence: &mut Option<(usize, usize)>, end: usize, findings: &mut Vec<Finding>| {
                if let Some((start, count)) = sentence.take() {
                    sentences += 1;
                    if count > self.settings.max_sentence_words {
                        findings.push(Finding {
                            kind: Kind::LongSentence,
                            start,
                            end,
                            suggestion: None,
                        });
                    }
                }
            };
        let mut i = 0;
        while i < folded.len() {
            let c = char_at(&folded, i);
            if is_word_char(c) {
                let start = i;
                let mut letters = 0usize;
                let mut j = i;
                while j < folded.len() {
                    let d = char_at(&folded, j);
                    if is_word_char(d) {
                        if d.is_alphabetic() {
                            letters += 1;
                        }
                        j += d.len_utf8();
                    } else if d == '-'
                        && j + 1 < folded.len()
                        && is_word_char(char_at(&folded, j + 1))
                    {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let word = &folded[start..j];
                words += 1;
                if letters > 6 {
                    long_words += 1;
                }
                match &mut sentence {
                    Some((_, count)) => *count += 1,
                    None => sentence = Some((start, 1)),
                }
                if let Some(form) = self.standard.get(word) {
                    findings.push(Finding {
                        kind: Kind::WrittenStandard,
                        start,
                        end: j,
                        suggestion: Some(keep_case(&text[start..j], form)),
                    });
                }
                if self.is_passive(previous, word) {
                    findings.push(Finding {
                        kind: Kind::Passive,
                        start,
                        end: j,
                        suggestion: None,
                    });
                }
                previous = Some(word);
                i = j;
                continue;
            }
            let len = c.len_utf8();
            match c {
                '.' | '!' | '?' => {
                    let next = folded[i + len..].chars().next();
                    let ends = next.is_none_or(|n| n.is_whitespace() || n == '"' || n == ')');
                    let abbreviation = c == '.'
                        && previous.is_some_and(|w| self.abbreviations.contains(w))
                        && i > 0
                        && is_word_char(char_at_before(&folded, i));
                    if ends && !abbreviation {
                        end_sentence(&mut sentence, i + len, &mut findings);
                        previous = None;
                    }
                }
                // A blank line ends a heading or a list item.
                '\n' if bytes.get(i + 1) == Some(&b'\n')
                    || (bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n')) =>
                {
                    end_sentence(&mut sentence, i, &mut findings);
                    previous = None;
                }
                _ => {}
            }
            i += len;
        }
        end_sentence(&mut sentence, folded.len(), &mut findings);
        if let Some(ac) = &self.jargon {
            for m in ac.find_iter(&folded) {
                let (s, e) = (m.start(), m.end());
                let before = s > 0 && is_word_char(char_at_before(&folded, s));
                let after = e < folded.len() && is_word_char(char_at(&folded, e));
                // A phrase ending in a full stop ("jf.") needs no boundary after it.
                if before || (after && !folded[..e].ends_with('.')) {
                    continue;
                }
                findings.push(Finding {
                    kind: Kind::Jargon,
                    start: s,
                    end: e,
                    suggestion: self.suggestions.get(m.pattern().as_usize()).cloned(),
                });
            }
        }
        findings.sort_by_key(|f| (f.start, f.end));
        let lix = if words == 0 {
            0.0
        } else {
            words as f64 / sentences.max(1) as f64 + 100.0 * long_words as f64 / words as f64
        };
        Report {
            lix: (lix * 10.0).round() / 10.0,
            words,
            sentences,
            long_words,
            findings,
        }
    }

    /// Whether `word`, after `previous`, is a passive form: an s-passive after a modal
    /// ("skal behandles", "ska skickas"), a Swedish -ades/-ats form, or a participle after
    /// blir/ble/vart/blev.
    fn is_passive(&self, previous: Option<&str>, word: &str) -> bool {
        let chars = word.chars().count();
        let after_modal = previous.is_some_and(|p| self.modals.contains(p));
        let after_aux = previous.is_some_and(|p| self.aux.contains(p));
        let participle =
            |endings: &[&str]| after_aux && chars >= 4 && endings.iter().any(|s| word.ends_with(s));
        match self.settings.language {
            Language::Sv => {
                let after_have = previous.is_some_and(|p| matches!(p, "har" | "hade" | "ha"));
                (after_modal && chars >= 5 && word.ends_with("as"))
                    || (chars >= 7 && word.ends_with("ades"))
                    || (after_have && chars >= 6 && word.ends_with("ats"))
                    || participle(&["ad", "at", "ade", "en", "d", "t"])
            }
            Language::Nb => {
                (after_modal && chars >= 5 && word.ends_with("es"))
                    || participle(&["et", "t", "d", "dd"])
            }
            Language::Nn => {
                (after_modal && chars >= 5 && word.ends_with("es"))
                    || participle(&["a", "t", "d", "dd", "e"])
            }
        }
    }
}

/// Checks `text` once with `settings` (build a [`Checker`] for many texts).
pub fn check(text: &str, settings: Settings) -> Report {
    Checker::new(settings).check(text)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

fn char_at(s: &str, i: usize) -> char {
    s[i..].chars().next().unwrap_or(' ')
}

fn char_at_before(s: &str, i: usize) -> char {
    s[..i].chars().next_back().unwrap_or(' ')
}

/// Lower case, character by character where that keeps the byte length (so offsets into the
/// folded text are offsets into the text); other characters as they are.
fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) if l.len_utf8() == c.len_utf8() => out.push(l),
            _ => out.push(c),
        }
    }
    out
}

/// `form` with the first letter upper case when `original`'s is.
fn keep_case(original: &str, form: &str) -> String {
    match original.chars().next() {
        Some(c) if c.is_uppercase() => {
            let mut chars = form.chars();
            match chars.next() {
                Some(f) => f.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        }
        _ => form.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kinds(r: &Report, text: &str) -> Vec<(Kind, String)> {
        r.findings
            .iter()
            .map(|f| (f.kind, text[f.start..f.end].to_string()))
            .collect()
    }

    #[test]
    fn lix_counts_words_sentences_and_long_words() {
        // 9 words, 2 sentences, 2 long words ("søknaden", "kommunen"): 4.5 + 22.2.
        let text = "Vi har fått søknaden. Kommunen svarer snart i dag.";
        let r = check(text, Settings::new(Language::Nb));
        assert_eq!((r.words, r.sentences, r.long_words), (9, 2, 2));
        assert_eq!(r.lix, 26.7);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn abbreviations_and_numbers_do_not_end_sentences() {
        let text = "Vi trenger bl.a. navn, f.eks. Ola, og kl. 12.30 i morgen. Takk.";
        let r = check(text, Settings::new(Language::Nb));
        assert_eq!(r.sentences, 2);
    }

    #[test]
    fn long_sentences_are_marked_from_first_word_to_full_stop() {
        let long = format!("{}slutt.", "ord ".repeat(30));
        let text = format!("Kort setning. {long} Kort igjen.");
        let r = check(&text, Settings::new(Language::Nb));
        let found = kinds(&r, &text);
        assert_eq!(found, vec![(Kind::LongSentence, long)]);
    }

    #[test]
    fn passives_in_each_language() {
        let nb = "Søknaden skal behandles raskt. Saken ble sendt i går. Vi sender svar.";
        let r = check(nb, Settings::new(Language::Nb));
        let found: Vec<_> = kinds(&r, nb)
            .into_iter()
            .filter(|(k, _)| *k == Kind::Passive)
            .map(|(_, w)| w)
            .collect();
        assert_eq!(found, vec!["behandles", "sendt"]);
        let nn = "Søknaden vert handsama no. Saka skal sendes.";
        let r = check(nn, Settings::new(Language::Nn));
        assert_eq!(
            r.findings
                .iter()
                .filter(|f| f.kind == Kind::Passive)
                .count(),
            2
        );
        let sv = "Ansökan ska behandlas snabbt. Beslutet fattades i går. Vi svarar.";
        let r = check(sv, Settings::new(Language::Sv));
        let found: Vec<_> = kinds(&r, sv)
            .into_iter()
            .filter(|(k, _)| *k == Kind::Passive)
            .map(|(_, w)| w)
            .collect();
        assert_eq!(found, vec!["behandlas", "fattades"]);
    }

    #[test]
    fn jargon_is_found_as_whole_words_with_a_plainer_form() {
        let text = "I henhold til loven, og vedrørende søknaden: se samtidig.";
        let r = check(text, Settings::new(Language::Nb));
        let jargon: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Jargon)
            .map(|f| (&text[f.start..f.end], f.suggestion.as_deref()))
            .collect();
        // "samt" inside "samtidig" is no match.
        assert_eq!(
            jargon,
            vec![("I henhold til", Some("etter")), ("vedrørende", Some("om"))]
        );
        let sv = "Beträffande ansökan: den torde komma.";
        let r = check(sv, Settings::new(Language::Sv));
        assert_eq!(
            r.findings.iter().filter(|f| f.kind == Kind::Jargon).count(),
            2
        );
    }

    #[test]
    fn a_municipality_adds_its_own_jargon() {
        let mut settings = Settings::new(Language::Nb);
        settings.extra_jargon = vec![("NAV-kontoret".into(), "Nav-kontoret".into())];
        let text = "Kontakt NAV-kontoret.";
        let r = check(text, settings);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(
            &text[r.findings[0].start..r.findings[0].end],
            "NAV-kontoret"
        );
    }

    #[test]
    fn the_written_standard_marks_the_other_forms() {
        let text = "Jeg vet ikke hva du mener, men kommunen svarer fra neste uke.";
        let mut settings = Settings::new(Language::Nn);
        settings.standard = Some(Standard::Nn);
        let r = check(text, settings);
        let marked: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.kind == Kind::WrittenStandard)
            .map(|f| {
                (
                    &text[f.start..f.end],
                    f.suggestion.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            marked,
            vec![
                ("Jeg", "Eg".to_string()),
                ("ikke", "ikkje".to_string()),
                ("hva", "kva".to_string()),
                ("fra", "frå".to_string()),
                ("uke", "veke".to_string()),
            ]
        );
        // The other way round for a bokmål municipality; none without a standard.
        let nn = "Eg veit ikkje kva du meiner.";
        let mut settings = Settings::new(Language::Nb);
        settings.standard = Some(Standard::Nb);
        assert_eq!(check(nn, settings).findings.len(), 3);
        assert!(check(nn, Settings::new(Language::Nb)).findings.is_empty());
    }

    #[test]
    fn offsets_survive_letters_whose_lower_case_is_longer() {
        // 'İ' lowers to two characters: kept as it is, so offsets stay those of the text.
        let text = "İstanbul. Vedrørende saken.";
        let r = check(text, Settings::new(Language::Nb));
        let f = r
            .findings
            .iter()
            .find(|f| f.kind == Kind::Jargon)
            .expect("found");
        assert_eq!(&text[f.start..f.end], "Vedrørende");
    }

    proptest! {
        #[test]
        fn any_text_gives_findings_inside_it_on_character_boundaries(text in "\\PC{0,400}") {
            let mut settings = Settings::new(Language::Nb);
            settings.standard = Some(Standard::Nn);
            let r = check(&text, settings);
            prop_assert!(r.long_words <= r.words);
            prop_assert!(r.lix >= 0.0);
            for f in &r.findings {
                prop_assert!(f.start < f.end && f.end <= text.len());
                prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            }
        }

        #[test]
        fn norwegian_like_text_never_confuses_the_counts(
            words in proptest::collection::vec("[a-zæøå]{1,12}", 1..200),
            every in 1usize..30,
        ) {
            prop_assume!(!words.iter().any(|w| ABBREVIATIONS.contains(&w.as_str())));
            let text: String = words
                .iter()
                .enumerate()
                .map(|(i, w)| if (i + 1) % every == 0 { format!("{w}. ") } else { format!("{w} ") })
                .collect();
            let r = check(&text, Settings::new(Language::Nb));
            prop_assert_eq!(r.words, words.len());
            prop_assert_eq!(r.sentences, words.len().div_ceil(every));
        }
    }
}
