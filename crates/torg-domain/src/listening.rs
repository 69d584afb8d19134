//! Listening (lytting): what is said about the municipality elsewhere — RSS and Atom feeds
//! (local news, the police, the power company), Mastodon hashtags and searches — checked against the
//! municipality's keywords with the search's word forms, so "gasslukt" also finds
//! "gasslukta" and "gasslukten". Pure: sources' checks, the keyword list, matching, backoff.

use crate::search::{Query, terms};
use jiff::SignedDuration;
use std::collections::HashSet;

/// Where listening reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// An RSS (0.9–2.0) or Atom feed at an https or http address.
    Feed,
    /// A Mastodon hashtag's public timeline: `address` is `instance#tag`.
    MastodonTag,
    /// A Mastodon full-text search of posts, made with the municipality's own account on
    /// that instance (Mastodon searches posts only for a signed-in account): `address` is
    /// `instance#words`.
    MastodonSearch,
    /// The public comments and mentions arriving on the municipality's own pages (they become
    /// inquiries; listening matches them as they come, and never reads this source).
    OwnPages,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Feed => "feed",
            SourceKind::MastodonTag => "mastodon-tag",
            SourceKind::MastodonSearch => "mastodon-search",
            SourceKind::OwnPages => "own-pages",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        match s {
            "feed" => Some(SourceKind::Feed),
            "mastodon-tag" => Some(SourceKind::MastodonTag),
            "mastodon-search" => Some(SourceKind::MastodonSearch),
            "own-pages" => Some(SourceKind::OwnPages),
            _ => None,
        }
    }
}

/// Why a source was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSource {
    #[error("a feed's address is an http or https address")]
    Address,
    #[error("a hashtag is letters, digits and _ (up to 100), on an https Mastodon instance")]
    Tag,
    #[error("a search is 1 to 100 characters of words, on an https Mastodon instance")]
    Search,
    #[error("a source's name is 1 to 100 characters")]
    Name,
}

/// A source as typed: its name, and for a feed its address; for a hashtag the instance's
/// address and the tag (with or without `#`); for a search the instance's address and the
/// words. Returns the stored address.
pub fn check_source(
    kind: SourceKind,
    name: &str,
    address: &str,
    tag: &str,
) -> Result<String, BadSource> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(BadSource::Name);
    }
    let address = address.trim();
    match kind {
        SourceKind::Feed => {
            let url = url::Url::parse(address).map_err(|_| BadSource::Address)?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(BadSource::Address);
            }
            Ok(url.to_string())
        }
        // Made by Torg itself, never typed.
        SourceKind::OwnPages => Err(BadSource::Address),
        SourceKind::MastodonTag | SourceKind::MastodonSearch => {
            let bad = if kind == SourceKind::MastodonTag {
                BadSource::Tag
            } else {
                BadSource::Search
            };
            let mut url = url::Url::parse(address).map_err(|_| bad.clone())?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(bad);
            }
            // The instance only: what follows `#` in the stored address is the tag or words.
            url.set_fragment(None);
            url.set_query(None);
            let what = if kind == SourceKind::MastodonTag {
                let tag = tag.trim().trim_start_matches('#');
                if tag.is_empty()
                    || tag.chars().count() > 100
                    || !tag.chars().all(|c| c.is_alphanumeric() || c == '_')
                {
                    return Err(bad);
                }
                tag.to_string()
            } else {
                let words = tag.split_whitespace().collect::<Vec<_>>().join(" ");
                if words.is_empty() || words.chars().count() > 100 {
                    return Err(bad);
                }
                words
            };
            Ok(format!("{}#{what}", url.as_str().trim_end_matches('/')))
        }
    }
}

/// The address of the own pages' source, and the guid of a match there (the inquiry's id).
pub const OWN_PAGES: &str = "own-pages";
pub fn own_guid(inquiry: crate::InquiryId) -> String {
    format!("inquiry:{inquiry}")
}

/// The inquiry a match of the own pages is about.
pub fn own_inquiry(guid: &str) -> Option<crate::InquiryId> {
    guid.strip_prefix("inquiry:")?
        .parse()
        .ok()
        .map(crate::InquiryId)
}

/// A source's address as pages show it: a password in it (`https://user:secret@…`) is left
/// out.
pub fn shown_address(address: &str) -> String {
    match url::Url::parse(address) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => address.to_string(),
    }
}

/// The instance and the tag (or a search's words) of a stored Mastodon source's address.
pub fn split_tag(address: &str) -> Option<(&str, &str)> {
    address.split_once('#')
}

/// How long after a good check a source is read again.
pub const CHECK_EVERY: SignedDuration = SignedDuration::from_mins(5);

/// How long to wait after `failures` failed checks in a row: five minutes doubling, at
/// most six hours (a feed that is down is not hammered).
pub fn backoff(failures: u32) -> SignedDuration {
    let minutes = 5i64 << failures.min(7).saturating_sub(1);
    SignedDuration::from_mins(minutes.min(360))
}

/// The most keywords a municipality keeps, and the longest.
pub const MAX_KEYWORDS: usize = 500;
pub const MAX_KEYWORD_CHARS: usize = 60;

/// Why a keyword list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadKeywords {
    #[error("at most {MAX_KEYWORDS} keywords")]
    TooMany,
    #[error("a keyword is a word or a few, up to {MAX_KEYWORD_CHARS} characters: {0}")]
    Keyword(String),
}

/// The keywords of a list typed one per line (or separated by commas): trimmed, each once.
pub fn parse_keywords(typed: &str) -> Result<Vec<String>, BadKeywords> {
    let mut out: Vec<String> = vec![];
    for k in typed
        .split(['\n', ','])
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        if k.chars().count() > MAX_KEYWORD_CHARS || Query::parse(k).is_none() {
            return Err(BadKeywords::Keyword(
                k.chars().take(MAX_KEYWORD_CHARS).collect(),
            ));
        }
        if !out.iter().any(|o| o.to_lowercase() == k.to_lowercase()) {
            out.push(k.to_string());
        }
    }
    if out.len() > MAX_KEYWORDS {
        return Err(BadKeywords::TooMany);
    }
    Ok(out)
}

/// A keyword list made ready for matching: each keyword as the terms all of which a text
/// must hold.
#[derive(Debug, Clone, Default)]
pub struct Keywords {
    lists: Vec<(String, Query)>,
}

impl Keywords {
    pub fn new(words: &[String]) -> Keywords {
        Keywords {
            lists: words
                .iter()
                .filter_map(|w| Query::parse(w).map(|q| (w.clone(), q)))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// The keywords `text` meets, in the list's order.
    pub fn matched(&self, text: &str) -> Vec<String> {
        if self.lists.is_empty() {
            return vec![];
        }
        let found: HashSet<String> = terms(text).into_iter().collect();
        self.lists
            .iter()
            .filter(|(_, q)| q.terms.iter().all(|t| found.contains(t)))
            .map(|(w, _)| w.clone())
            .collect()
    }
}

/// An item read from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The source's own id of the item (a feed's guid or link, a status's id): an item is
    /// matched once.
    pub guid: String,
    pub title: String,
    pub link: String,
    pub summary: String,
    pub published: Option<jiff::Timestamp>,
}

/// The longest title and summary kept of an item, in characters.
pub const MAX_TITLE: usize = 300;
pub const MAX_SUMMARY: usize = 1000;

impl Item {
    /// The item with its texts cut to what is kept.
    pub fn trimmed(mut self) -> Item {
        let cut = |s: &str, n: usize| -> String {
            let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if s.chars().count() > n {
                let mut t: String = s.chars().take(n - 1).collect();
                t.push('…');
                t
            } else {
                s
            }
        };
        self.title = cut(&self.title, MAX_TITLE);
        self.summary = cut(&self.summary, MAX_SUMMARY);
        self.guid = self.guid.chars().take(500).collect();
        self.link = self.link.chars().take(2000).collect();
        self
    }
}

/// A match's state on the listening page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchState {
    New,
    Dismissed,
    /// Turned into an inquiry.
    Inquiry,
    /// Linked to a crisis (in its log).
    Crisis,
}

impl MatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchState::New => "new",
            MatchState::Dismissed => "dismissed",
            MatchState::Inquiry => "inquiry",
            MatchState::Crisis => "crisis",
        }
    }

    pub fn parse(s: &str) -> Option<MatchState> {
        [
            MatchState::New,
            MatchState::Dismissed,
            MatchState::Inquiry,
            MatchState::Crisis,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_forms_and_compounds_match() {
        let k = Keywords::new(&[
            "gasslukt".into(),
            "strømbrudd".into(),
            "vann lekkasje".into(),
        ]);
        assert_eq!(
            k.matched("Det er sterk gasslukta i Storgata"),
            vec!["gasslukt"]
        );
        assert_eq!(
            k.matched("Gasslukten kjennes i hele sentrum"),
            vec!["gasslukt"]
        );
        assert_eq!(
            k.matched("Strømbruddet på Nes varer til kveld"),
            vec!["strømbrudd"]
        );
        // Every word of a keyword must be there.
        assert!(k.matched("Vannet er brunt").is_empty());
        assert_eq!(
            k.matched("Lekkasje: vannet renner ut"),
            vec!["vann lekkasje"]
        );
        assert!(k.matched("Konsert i parken").is_empty());
        assert!(Keywords::new(&[]).matched("gasslukt").is_empty());
    }

    #[test]
    fn keyword_lists_are_checked() {
        assert_eq!(
            parse_keywords("gasslukt\n Strømbrudd ,strømbrudd\n\n"),
            Ok(vec!["gasslukt".to_string(), "Strømbrudd".to_string()])
        );
        assert!(parse_keywords(&"x".repeat(61)).is_err());
        assert!(parse_keywords("!!!").is_err());
        let many = (0..501)
            .map(|i| format!("ord{i}"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(parse_keywords(&many), Err(BadKeywords::TooMany));
    }

    #[test]
    fn sources_are_checked() {
        assert_eq!(
            check_source(
                SourceKind::Feed,
                "Politiet",
                "https://politiet.example/rss",
                ""
            ),
            Ok("https://politiet.example/rss".to_string())
        );
        assert_eq!(
            check_source(SourceKind::Feed, "x", "javascript:alert(1)", ""),
            Err(BadSource::Address)
        );
        assert_eq!(
            check_source(SourceKind::Feed, "", "https://a.example/", ""),
            Err(BadSource::Name)
        );
        let tag = check_source(
            SourceKind::MastodonTag,
            "Nordby",
            "https://social.example/",
            "#nordby",
        )
        .expect("tag");
        assert_eq!(tag, "https://social.example#nordby");
        assert_eq!(split_tag(&tag), Some(("https://social.example", "nordby")));
        assert_eq!(
            check_source(
                SourceKind::MastodonTag,
                "x",
                "https://social.example",
                "a b"
            ),
            Err(BadSource::Tag)
        );
        // A search keeps its words (spaces and # too) after the instance alone.
        let search = check_source(
            SourceKind::MastodonSearch,
            "Gass",
            "https://social.example/?x=1#frag",
            "  gasslukt   #Nordby ",
        )
        .expect("search");
        assert_eq!(search, "https://social.example#gasslukt #Nordby");
        assert_eq!(
            split_tag(&search),
            Some(("https://social.example", "gasslukt #Nordby"))
        );
        for words in ["", "   ", &"x".repeat(101)] {
            assert_eq!(
                check_source(SourceKind::MastodonSearch, "x", "https://s.example", words),
                Err(BadSource::Search)
            );
        }
        assert_eq!(
            SourceKind::parse(SourceKind::MastodonSearch.as_str()),
            Some(SourceKind::MastodonSearch)
        );
    }

    #[test]
    fn own_pages_matches_name_their_inquiry() {
        let id = crate::InquiryId(42);
        assert_eq!(own_inquiry(&own_guid(id)), Some(id));
        assert_eq!(own_inquiry("gass-1"), None);
        assert!(check_source(SourceKind::OwnPages, "x", "own-pages", "").is_err());
    }

    #[test]
    fn a_password_in_an_address_is_not_shown() {
        assert_eq!(
            shown_address("https://ola:hemmelig@avisa.example/rss"),
            "https://ola@avisa.example/rss"
        );
        assert_eq!(
            shown_address("https://avisa.example/rss"),
            "https://avisa.example/rss"
        );
    }

    #[test]
    fn backoff_doubles_to_six_hours() {
        assert_eq!(backoff(1), SignedDuration::from_mins(5));
        assert_eq!(backoff(2), SignedDuration::from_mins(10));
        assert_eq!(backoff(5), SignedDuration::from_mins(80));
        assert_eq!(backoff(30), SignedDuration::from_mins(320));
    }

    #[test]
    fn items_are_cut_to_size() {
        let i = Item {
            guid: "g".into(),
            title: "a  b\n c".into(),
            link: String::new(),
            summary: "y".repeat(2000),
            published: None,
        }
        .trimmed();
        assert_eq!(i.title, "a b c");
        assert_eq!(i.summary.chars().count(), MAX_SUMMARY);
        assert!(i.summary.ends_with('…'));
    }
}
