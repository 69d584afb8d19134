//! Social media (sosiale medier): where an answer goes on Facebook, Instagram or Mastodon,
//! how Mastodon's HTML becomes plain text, and when a webhook is too old to be believed.
//!
//! An inquiry from a social network keeps its thread in its external id,
//! `"{account}|{target}"`: the account is the page, Instagram account or Mastodon account
//! that received it; the target says where a reply goes. An outbox entry's recipient has the
//! same form, so the sender knows which account speaks and to whom.

use std::fmt;

/// Where a message goes on a social network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A public answer under a comment (Facebook or Instagram).
    Comment(String),
    /// A private message to the author of a comment (Meta's "private reply").
    PrivateReply(String),
    /// A private message to a person (Messenger PSID, Instagram-scoped id).
    Person(String),
    /// A Mastodon status to answer, by `acct`, with the status's visibility.
    Status {
        id: String,
        acct: String,
        visibility: Visibility,
    },
    /// A new public post of the municipality's own (a published message, by its id).
    Publish(String),
}

/// A Mastodon status's audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Unlisted,
    /// Followers only.
    Private,
    /// Only the people mentioned: Mastodon's direct message.
    Direct,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
    pub fn parse(s: &str) -> Option<Visibility> {
        Some(match s {
            "public" => Visibility::Public,
            "unlisted" => Visibility::Unlisted,
            "private" => Visibility::Private,
            "direct" => Visibility::Direct,
            _ => return None,
        })
    }
}

impl Target {
    /// Whether everybody can read an answer sent here.
    pub fn is_public(&self) -> bool {
        match self {
            Target::Comment(_) | Target::Publish(_) => true,
            Target::PrivateReply(_) | Target::Person(_) => false,
            Target::Status { visibility, .. } => {
                matches!(visibility, Visibility::Public | Visibility::Unlisted)
            }
        }
    }

    /// The same conversation, answered privately: a comment gets a private reply, a public
    /// Mastodon status a direct message; what is private stays as it is.
    pub fn privately(&self) -> Target {
        match self {
            Target::Comment(id) => Target::PrivateReply(id.clone()),
            Target::Status { id, acct, .. } => Target::Status {
                id: id.clone(),
                acct: acct.clone(),
                visibility: Visibility::Direct,
            },
            other => other.clone(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Comment(id) => write!(f, "comment:{id}"),
            Target::PrivateReply(id) => write!(f, "private:{id}"),
            Target::Person(id) => write!(f, "person:{id}"),
            Target::Status {
                id,
                acct,
                visibility,
            } => write!(f, "status:{}:{id}:{acct}", visibility.as_str()),
            Target::Publish(id) => write!(f, "publish:{id}"),
        }
    }
}

/// What went wrong reading an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a social-media address (account|comment:ID, person:ID, private:ID, status:VISIBILITY:ID:ACCT or publish:ID)"
)]
pub struct BadAddress(pub String);

/// An account and a target, as kept in an inquiry's external id and an outbox recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub account: String,
    pub target: Target,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.account, self.target)
    }
}

impl Address {
    /// Reads `"{account}|{target}"`; a Messenger thread's external id may carry the first
    /// message's id after the person (`person:PSID:MID`), which is ignored here.
    pub fn parse(s: &str) -> Result<Address, BadAddress> {
        let bad = || BadAddress(s.to_string());
        let (account, target) = s.split_once('|').ok_or_else(bad)?;
        let (kind, rest) = target.split_once(':').ok_or_else(bad)?;
        let nonempty = |v: &str| (!v.is_empty()).then(|| v.to_string()).ok_or_else(bad);
        let target = match kind {
            "comment" => Target::Comment(nonempty(rest)?),
            "private" => Target::PrivateReply(nonempty(rest)?),
            "person" => Target::Person(nonempty(rest.split(':').next().unwrap_or(""))?),
            "publish" => Target::Publish(nonempty(rest)?),
            "status" => {
                let mut parts = rest.splitn(3, ':');
                let visibility = parts.next().and_then(Visibility::parse).ok_or_else(bad)?;
                let id = nonempty(parts.next().unwrap_or(""))?;
                let acct = nonempty(parts.next().unwrap_or(""))?;
                Target::Status {
                    id,
                    acct,
                    visibility,
                }
            }
            _ => return Err(bad()),
        };
        if account.is_empty() {
            return Err(bad());
        }
        Ok(Address {
            account: account.to_string(),
            target,
        })
    }

    /// The external id that makes later messages of one person's Messenger or Instagram
    /// conversation join the same open inquiry: everything before the message id.
    pub fn thread_prefix(account: &str, person: &str) -> String {
        format!("{account}|person:{person}:")
    }
}

/// How long Meta goes on retrying a webhook (36 hours) and some slack: an event older than
/// this is a replay, not a retry.
pub const REPLAY_WINDOW_SECONDS: i64 = 48 * 3600;

/// Whether an event stamped `event_seconds` (Unix time) is too old, or too far ahead, to be
/// taken at `now_seconds`. Meta stamps in seconds or milliseconds; both are understood.
pub fn outside_replay_window(event_stamp: i64, now_seconds: i64) -> bool {
    let seconds = if event_stamp > 100_000_000_000 {
        event_stamp / 1000
    } else {
        event_stamp
    };
    seconds < now_seconds - REPLAY_WINDOW_SECONDS || seconds > now_seconds + 3600
}

/// The text of a Mastodon status's HTML content: paragraphs and line breaks kept, tags
/// dropped, character references decoded. Mastodon's content is sanitised to a handful of
/// tags, so a tag reader that knows quotes is enough.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let tag_and_after = &rest[lt..];
        let end = tag_end(tag_and_after);
        let tag = &tag_and_after[..end];
        let name = tag
            .trim_start_matches('<')
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if name == "br" {
            out.push('\n');
        } else if name == "p" && tag.starts_with("</") {
            out.push_str("\n\n");
        }
        rest = &tag_and_after[end..];
    }
    out.push_str(&decode_entities(rest));
    out.trim().to_string()
}

/// The length of the tag at the start of `s` (through its `>`, or all of `s`).
fn tag_end(s: &str) -> usize {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = &after[1..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A mention's text without the leading `@account` words (ours and others'), which carry no
/// question.
pub fn without_leading_mentions(text: &str) -> &str {
    let mut rest = text.trim_start();
    while rest.starts_with('@') {
        match rest.find(char::is_whitespace) {
            Some(space) => rest = rest[space..].trim_start(),
            None => return "",
        }
    }
    rest
}

/// The most characters a Mastodon status may have on a default server.
pub const MASTODON_STATUS_CHARS: usize = 500;

/// Cuts `text` into parts of at most `limit` characters, at a line break or space where one
/// is near the end, so that a long answer can go out as a short thread. Nothing is lost:
/// the parts joined with what was cut at give back the text's words in order.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > limit {
        let cut = rest
            .char_indices()
            .nth(limit)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let head = &rest[..cut];
        // Prefer a break in the last third of the part.
        let min = head.len() * 2 / 3;
        let at = head
            .rfind('\n')
            .filter(|&i| i >= min)
            .or_else(|| head.rfind(' ').filter(|&i| i >= min))
            .unwrap_or(cut);
        let (part, next) = rest.split_at(at);
        parts.push(part.trim_end().to_string());
        rest = next.trim_start();
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_round_trip() {
        for target in [
            Target::Comment("123_456".into()),
            Target::PrivateReply("123_456".into()),
            Target::Person("6543".into()),
            Target::Status {
                id: "1099".into(),
                acct: "ola@mastodon.example".into(),
                visibility: Visibility::Direct,
            },
        ] {
            let a = Address {
                account: "998877".into(),
                target,
            };
            assert_eq!(Address::parse(&a.to_string()), Ok(a));
        }
    }

    #[test]
    fn a_messenger_thread_id_reads_as_the_person() {
        let a = Address::parse("998877|person:6543:m_abc").expect("parses");
        assert_eq!(a.target, Target::Person("6543".into()));
        assert!("998877|person:6543:m_abc".starts_with(&Address::thread_prefix("998877", "6543")));
    }

    #[test]
    fn nonsense_is_refused() {
        for s in [
            "",
            "x",
            "|comment:1",
            "a|comment:",
            "a|letter:1",
            "a|status:loud:1:x",
            "a|status:public:1",
        ] {
            assert!(Address::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn public_answers_are_known_and_can_go_private() {
        let c = Target::Comment("1".into());
        assert!(c.is_public());
        assert_eq!(c.privately(), Target::PrivateReply("1".into()));
        assert!(!c.privately().is_public());
        let s = Target::Status {
            id: "9".into(),
            acct: "ola".into(),
            visibility: Visibility::Public,
        };
        assert!(s.is_public());
        assert!(!s.privately().is_public());
        assert!(!Target::Person("1".into()).is_public());
    }

    #[test]
    fn long_answers_split_at_spaces() {
        let text = "Hei! ".repeat(150);
        let parts = split_text(&text, MASTODON_STATUS_CHARS);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.ends_with('!')));
        assert_eq!(split_text("kort", 500), ["kort"]);
    }

    #[test]
    fn replay_window() {
        let now = 1_800_000_000;
        assert!(!outside_replay_window(now - 60, now));
        assert!(!outside_replay_window((now - 60) * 1000, now));
        assert!(outside_replay_window(now - REPLAY_WINDOW_SECONDS - 1, now));
        assert!(outside_replay_window(now + 7200, now));
    }

    #[test]
    fn mastodon_html_becomes_text() {
        let html = r#"<p><span class="h-card"><a href="https://m.example/@nordby" class="u-url mention">@<span>nordby</span></a></span> Når tømmes søpla i Storgata?<br>Mvh Ola &amp; Kari</p><p>&lt;script&gt; &#228;&#x263A;</p>"#;
        let text = html_to_text(html);
        assert_eq!(
            text,
            "@nordby Når tømmes søpla i Storgata?\nMvh Ola & Kari\n\n<script> ä☺"
        );
        assert_eq!(
            without_leading_mentions(&text),
            "Når tømmes søpla i Storgata?\nMvh Ola & Kari\n\n<script> ä☺"
        );
        assert_eq!(html_to_text("a &bogus; b & c"), "a &bogus; b & c");
        assert_eq!(html_to_text(r#"<a title="x>y">lenke</a>"#), "lenke");
    }

    proptest! {
        #[test]
        fn html_to_text_never_panics(s in ".{0,200}") {
            let _ = html_to_text(&s);
            let _ = without_leading_mentions(&s);
            let _ = Address::parse(&s);
        }

        #[test]
        fn split_parts_fit_and_keep_every_word(s in "[a-zæøå \\n]{0,600}", limit in 5usize..120) {
            let parts = split_text(&s, limit);
            for p in &parts {
                prop_assert!(p.chars().count() <= limit);
            }
            let joined: Vec<&str> = parts.iter().flat_map(|p| p.split_whitespace()).collect();
            let words: Vec<&str> = s.split_whitespace().collect();
            prop_assert_eq!(joined.concat(), words.concat());
        }

        #[test]
        fn plain_text_without_markup_is_kept(s in "[a-zA-Z0-9æøåÆØÅ ,.!?]{0,80}") {
            prop_assert_eq!(html_to_text(&s), s.trim());
        }
    }
}
