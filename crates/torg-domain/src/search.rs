//! The search's one text analysis (søk), shared by what is indexed and what is asked: words
//! in lower case with accents folded (but not å, ä, ö, æ and ø, which are letters of their
//! own in Norwegian and Swedish), a light stemmer for bokmål, nynorsk and Swedish (so
//! "brøytet", "brøyta" and "brøyting" meet in "brøyt"), and compound words split against a
//! list of the words that begin and end compounds in Debian's Norwegian and Swedish word
//! lists (so "brøyting" finds "snøbrøyting"). Both stores index the terms this module gives
//! and look up the terms it gives for a query, so SQLite and PostgreSQL find the same.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The words that begin or end compounds (`scripts/compound-parts.py` writes the list).
const PARTS: &str = include_str!("../data/compound-parts.txt");

/// Words shorter than this are not stemmed.
const MIN_STEMMED: usize = 4;
/// A stem keeps at least this many letters.
const MIN_STEM: usize = 3;

/// Inflection and derivation endings of bokmål, nynorsk and Swedish, longest first: one is
/// taken off a word, if what is left keeps [`MIN_STEM`] letters.
const ENDINGS: &[&str] = &[
    "ingarna", "ingane", "ingene", "ingens", "heitene", "hetene", "heterna", "ingar", "ingen",
    "ingas", "heita", "heten", "heter", "arnas", "ernas", "ornas", "inga", "ings", "arna", "erna",
    "erne", "orna", "ande", "ende", "ane", "ene", "ens", "ets", "ers", "ade", "ing", "het", "en",
    "et", "er", "ar", "or", "as", "es", "te", "de", "ad", "at", "a", "e",
];

/// Lower case, with accents folded except on å, ä, ö, æ and ø.
pub fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            other => other,
        })
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The words of `text` with their byte ranges: runs of letters and digits.
pub fn words(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut start = None;
    let mut chars = text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')));
    std::iter::from_fn(move || {
        for (i, c) in chars.by_ref() {
            match (start, c.is_alphanumeric()) {
                (None, true) => start = Some(i),
                (Some(s), false) => {
                    start = None;
                    return Some((s, i, &text[s..i]));
                }
                _ => {}
            }
        }
        None
    })
}

/// A folded word's stem: up to two endings off ("rørleggeren", "rørleggere" and "rørlegger"
/// meet in "rørlegg"), each only if enough is left; numbers stay as they are.
pub fn stem(folded: &str) -> String {
    if folded.chars().any(|c| c.is_ascii_digit()) {
        return folded.to_string();
    }
    let mut word = folded;
    for _ in 0..2 {
        if word.chars().count() < MIN_STEMMED {
            break;
        }
        match ENDINGS.iter().find_map(|ending| {
            word.strip_suffix(ending)
                .filter(|rest| rest.chars().count() >= MIN_STEM)
        }) {
            Some(rest) => word = rest,
            None => break,
        }
    }
    word.to_string()
}

struct Lexicon {
    /// Compound parts as listed (heads are matched so: "snø", "barne").
    parts: HashSet<&'static str>,
    /// Their stems (tails are matched so: "brøyting" by "brøyt").
    stems: HashSet<String>,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let parts: HashSet<&'static str> = PARTS.lines().filter(|l| !l.is_empty()).collect();
        let stems = parts.iter().map(|p| stem(p)).collect();
        Lexicon { parts, stems }
    })
}

/// The most ways one word is split.
const MAX_SPLITS: usize = 3;

/// The ways a folded compound word splits into head and tail (none if it is not one): every
/// tail whose stem is a listed part, after a head that is one (or one with a linking s or e),
/// longest tail first. "gasslukt" splits as gass + lukt and as gas + slukt; both are kept,
/// since the list cannot tell which was meant.
pub fn split_compound(folded: &str) -> Vec<(&str, &str)> {
    let chars: Vec<(usize, char)> = folded.char_indices().collect();
    if chars.len() < 7 || folded.chars().any(|c| c.is_ascii_digit()) {
        return vec![];
    }
    let lex = lexicon();
    let mut splits = vec![];
    for &(at, _) in &chars[3..=chars.len() - 4] {
        let (head, tail) = folded.split_at(at);
        let head_ok = lex.parts.contains(head)
            || head
                .strip_suffix(['s', 'e'])
                .is_some_and(|h| h.chars().count() >= 3 && lex.parts.contains(h));
        if head_ok && lex.stems.contains(&stem(tail)) {
            splits.push((head, tail));
            if splits.len() == MAX_SPLITS {
                break;
            }
        }
    }
    splits
}

/// A number's last eight digits are a term of their own (a phone number without its
/// country code).
fn number_tail(folded: &str) -> Option<&str> {
    (folded.len() > 8 && folded.bytes().all(|b| b.is_ascii_digit()))
        .then(|| &folded[folded.len() - 8..])
}

/// What a word is indexed by: its stem, and its compound parts' stems.
fn word_terms(word: &str, out: &mut Vec<String>) {
    let folded = fold(word);
    if let Some(tail) = number_tail(&folded) {
        out.push(tail.to_string());
    }
    for (head, tail) in split_compound(&folded) {
        let head = head
            .strip_suffix(['s', 'e'])
            .filter(|h| lexicon().parts.contains(h))
            .unwrap_or(head);
        out.push(stem(head));
        out.push(stem(tail));
    }
    out.push(stem(&folded));
}

/// The terms a text is indexed by, each once, in the order first seen.
pub fn terms(text: &str) -> Vec<String> {
    let mut all = Vec::new();
    for (_, _, word) in words(text) {
        word_terms(word, &mut all);
    }
    let mut seen = HashSet::new();
    all.retain(|t| seen.insert(t.clone()));
    all
}

/// What a search box's text asks the index for: its words, or none for an empty text or a
/// case reference (which is found exactly instead).
pub fn words_of(text: &str) -> Option<Query> {
    let text = text.trim();
    if text.parse::<crate::Reference>().is_ok() {
        return None;
    }
    Query::parse(text)
}

/// The most words a query takes.
pub const MAX_QUERY_WORDS: usize = 8;

/// PostgreSQL's `tsquery` of all of `terms`, each quoted.
pub fn tsquery_of<'a>(terms: impl IntoIterator<Item = &'a str>) -> String {
    terms
        .into_iter()
        .map(|t| format!("'{}'", t.replace(['\'', '\\'], "")))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// What a person searched for: each word as the term it must meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<String>,
    /// Each term's word as it was asked (folded), to rank a hit that has it as written.
    pub words: Vec<String>,
}

/// The most a word scores where it is found: in a hit's title (name, subject) 3, in the
/// text a list shows of it 2, elsewhere (a later message, a contact: the index found it
/// there) 1; half a point more where it is written as asked.
const WHERE_FOUND: [f64; 3] = [3.0, 2.0, 1.0];
const AS_ASKED: f64 = 0.5;
/// Recency adds up to one point: 1 today, ½ after this many days, ⅓ after twice as many.
const RECENT_DAYS: f64 = 30.0;

impl Query {
    /// The query of `input`: every word must be found (at most [`MAX_QUERY_WORDS`]); `None`
    /// when it has no word.
    pub fn parse(input: &str) -> Option<Query> {
        let (mut terms, mut asked): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        for (_, _, word) in words(input) {
            let folded = fold(word);
            let term = number_tail(&folded)
                .map(str::to_string)
                .unwrap_or_else(|| stem(&folded));
            if !terms.contains(&term) {
                terms.push(term);
                asked.push(folded);
            }
        }
        terms.truncate(MAX_QUERY_WORDS);
        asked.truncate(MAX_QUERY_WORDS);
        (!terms.is_empty()).then_some(Query {
            terms,
            words: asked,
        })
    }

    /// SQLite FTS5's match expression: every term, each quoted.
    pub fn fts5(&self) -> String {
        self.terms
            .iter()
            .map(|t| format!("\"{}\"", t.replace('"', "")))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// PostgreSQL's `tsquery`: every term, each quoted.
    pub fn tsquery(&self) -> String {
        tsquery_of(self.terms.iter().map(String::as_str))
    }

    /// How well a hit of the index meets the query, to rank hits by relevance and recency:
    /// the mean over the query's words of where each is found (`title` 3, `shown` 2, else 1,
    /// and ½ more where written as asked), plus 1 / (1 + days / 30) for its age. Where a
    /// word is found decides first; among hits found alike, the newer is first.
    pub fn score(&self, title: &str, shown: &str, age_days: f64) -> f64 {
        let fields = [title, shown];
        let mut found: [HashSet<String>; 2] = Default::default();
        let mut literal: HashSet<String> = HashSet::new();
        for (field, set) in fields.iter().zip(found.iter_mut()) {
            let mut scratch = Vec::new();
            for (_, _, word) in words(field) {
                scratch.clear();
                word_terms(word, &mut scratch);
                set.extend(scratch.drain(..));
                literal.insert(fold(word));
            }
        }
        let relevance: f64 = self
            .terms
            .iter()
            .zip(&self.words)
            .map(|(term, asked)| {
                let place = found.iter().position(|set| set.contains(term)).unwrap_or(2);
                let as_asked = if literal.contains(asked) {
                    AS_ASKED
                } else {
                    0.0
                };
                WHERE_FOUND[place] + as_asked
            })
            .sum::<f64>()
            / self.terms.len().max(1) as f64;
        relevance + 1.0 / (1.0 + age_days.max(0.0) / RECENT_DAYS)
    }

    /// The byte ranges of the words in `text` that meet the query, to be marked.
    pub fn matches(&self, text: &str) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        let mut scratch = Vec::new();
        for (start, end, word) in words(text) {
            scratch.clear();
            word_terms(word, &mut scratch);
            if scratch.iter().any(|t| self.terms.contains(t)) {
                found.push((start, end));
            }
        }
        found
    }

    /// A piece of `text` of about `width` characters around its first match (the start of
    /// the text if none), with the matches in it as byte ranges of the piece.
    pub fn snippet(&self, text: &str, width: usize) -> (String, Vec<(usize, usize)>) {
        let hits = self.matches(text);
        let first = hits.first().map_or(0, |h| h.0);
        // Start a little before the first match, on a character boundary.
        let before: usize = text[..first]
            .chars()
            .rev()
            .take(width / 4)
            .map(char::len_utf8)
            .sum();
        let start = first - before;
        let end = start
            + text[start..]
                .chars()
                .take(width)
                .map(char::len_utf8)
                .sum::<usize>();
        let piece = text[start..end].to_string();
        let marks = hits
            .into_iter()
            .filter(|(s, e)| *s >= start && *e <= end)
            .map(|(s, e)| (s - start, e - start))
            .collect();
        (piece, marks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn finds(query: &str, text: &str) -> bool {
        let q = Query::parse(query).expect("a query");
        let t = terms(text);
        q.terms.iter().all(|term| t.contains(term))
    }

    #[test]
    fn word_forms_meet() {
        assert!(finds("brøytet", "Når blir veien brøyting ferdig?"));
        assert!(finds("brøyting", "Veien er ikke brøytet"));
        assert!(finds("brøyting", "Vegen vart ikkje brøyta i dag"));
        assert!(finds("kommunen", "Kommunar og kommune"));
        assert!(finds("skolen", "Skoler i Nordby"));
        assert!(finds("plogade", "Vägen plogas inte"));
        assert!(finds("rørlegger", "Rørleggeren kommer"));
        assert!(finds("rørleggerne", "Vi trenger en rørlegger"));
        assert!(!finds("brøyting", "Søppelet ble ikke hentet"));
    }

    #[test]
    fn compound_words_are_split() {
        assert!(split_compound("snøbrøyting").contains(&("snø", "brøyting")));
        assert!(finds("brøyting", "Snøbrøytingen i Storgata"));
        assert!(finds("snøbrøyting", "Snøbrøytingen i Storgata"));
        assert!(finds("lukt", "Det er sterk gasslukt her"));
        assert!(finds("hage", "Barnehagen stenger"));
        assert!(finds("gasslukt", "Gasslukta kjem frå kjellaren"));
        assert!(split_compound("vannet").is_empty(), "too short to split");
    }

    #[test]
    fn case_and_accents_fold_but_nordic_letters_stay() {
        assert_eq!(fold("CAFÉ"), "cafe");
        assert_eq!(fold("Ærlig"), "ærlig");
        assert_eq!(fold("ØL-Åpen"), "ølåpen", "only letters and digits");
        assert_eq!(fold("Översvämning"), "översvämning");
        assert!(finds("cafe", "Kaféen på Café Müller"));
        assert!(!finds("sar", "Ett sår på handen"), "å is not a");
        assert!(!finds("for", "för"), "ö is not o");
    }

    #[test]
    fn phone_numbers_are_found_without_country_code() {
        assert!(finds("91234567", "Ring meg på +4791234567"));
        assert!(finds("4791234567", "Ring meg på 91234567"));
    }

    #[test]
    fn queries_are_quoted_for_both_stores() {
        let q = Query::parse("\"brøyting\" O'Brien").expect("query");
        assert_eq!(q.fts5(), "\"brøyt\" AND \"o\" AND \"bri\"");
        assert_eq!(q.tsquery(), "'brøyt' & 'o' & 'bri'");
        assert_eq!(Query::parse("  ... !!! "), None);
        assert_eq!(
            Query::parse("a b c d e f g h i j")
                .expect("query")
                .terms
                .len(),
            MAX_QUERY_WORDS
        );
    }

    #[test]
    fn the_matched_words_are_marked() {
        let q = Query::parse("brøyting").expect("query");
        let text = "Hei! Veien ble ikke brøytet, og snøbrøytingen kom aldri.";
        let marks = q.matches(text);
        let marked: Vec<&str> = marks.iter().map(|(s, e)| &text[*s..*e]).collect();
        assert_eq!(marked, vec!["brøytet", "snøbrøytingen"]);
        let (piece, marks) = q.snippet(text, 30);
        assert!(piece.contains("brøytet"), "{piece}");
        assert_eq!(&piece[marks[0].0..marks[0].1], "brøytet");
    }

    #[test]
    fn hits_rank_by_where_the_words_are_then_by_age() {
        let q = Query::parse("brøyting Storgata").expect("query");
        let title = q.score("Brøyting i Storgata", "", 10.0);
        let shown = q.score("Ola Nordmann", "Når blir Storgata brøytet?", 10.0);
        let elsewhere = q.score("Ola Nordmann", "Hei", 0.0);
        assert!(
            title > shown && shown > elsewhere,
            "{title} {shown} {elsewhere}"
        );
        // Where the words are decides before age: a year-old title beats today's body.
        assert!(q.score("Brøyting i Storgata", "", 365.0) > q.score("Ola", "Hei", 0.0));
        // As asked beats a word form of it.
        assert!(q.score("", "brøyting i Storgata", 1.0) > q.score("", "brøytet i Storgata", 1.0));
        // Among hits found alike, the newer first.
        assert!(q.score("", "brøytet Storgata", 1.0) > q.score("", "brøytet Storgata", 40.0));
    }

    proptest! {
        #[test]
        fn a_score_is_bounded_and_falls_with_age(
            title in "\\PC{0,60}", shown in "\\PC{0,60}", asked in "[a-zæøå ]{1,30}",
            age in 0.0f64..5000.0, later in 0.0f64..100.0,
        ) {
            if let Some(q) = Query::parse(&asked) {
                let s = q.score(&title, &shown, age);
                prop_assert!((1.0..=4.5).contains(&s), "{s}");
                prop_assert!(q.score(&title, &shown, age + later) <= s);
            }
        }
    }

    proptest! {
        #[test]
        fn any_text_is_analysed_without_panic(text in "\\PC{0,200}") {
            let t = terms(&text);
            for term in &t {
                prop_assert!(!term.is_empty());
                prop_assert!(term.chars().all(char::is_alphanumeric));
            }
            if let Some(q) = Query::parse(&text) {
                let (piece, marks) = q.snippet(&text, 40);
                for (s, e) in marks {
                    prop_assert!(piece.is_char_boundary(s) && piece.is_char_boundary(e));
                }
            }
        }

        #[test]
        fn a_text_finds_itself(text in "[a-zæøåäö ]{1,80}") {
            if let Some(q) = Query::parse(&text) {
                let t = terms(&text);
                prop_assert!(q.terms.iter().all(|term| t.contains(term)));
            }
        }
    }
}
