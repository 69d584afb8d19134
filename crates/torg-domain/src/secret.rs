//! Secrets kept out of what is stored and shown. A connector's error text (the HTTP client's
//! message with the request's address, a server's answer that echoes what it was sent) may
//! carry a password, a token or a key; [`redact`] takes each known secret out of such a text
//! before it becomes a message's last error, a connector's status or a log line — as written
//! and as it appears inside an address (percent- or form-encoded).

use aho_corasick::{AhoCorasick, MatchKind};

/// What stands in a text where a secret was.
pub const HIDDEN: &str = "[hidden]";

/// Secrets shorter than this are not searched for: replacing every "ab" would make the text
/// unreadable and hides nothing worth hiding.
pub const SHORTEST: usize = 3;

/// `text` with every occurrence of each of `secrets` — raw, percent-encoded or form-encoded —
/// replaced by [`HIDDEN`].
pub fn redact<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut forms: Vec<String> = vec![];
    for secret in secrets {
        let secret = secret.as_ref();
        if secret.chars().count() < SHORTEST {
            continue;
        }
        forms.push(secret.to_string());
        let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let spaces = form.replace('+', "%20");
        // Lower-case hex digits too, as some clients write them.
        forms.extend([lower_hex(&form), lower_hex(&spaces), form, spaces]);
    }
    forms.sort();
    forms.dedup();
    if forms.is_empty() {
        return text.to_string();
    }
    match AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .ascii_case_insensitive(false)
        .build(&forms)
    {
        Ok(ac) => ac.replace_all(text, &vec![HIDDEN; forms.len()]),
        // Too many or too long secrets to build a searcher: show nothing rather than risk it.
        Err(_) => HIDDEN.to_string(),
    }
}

/// `%2F` written as `%2f`.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for h in chars.by_ref().take(2) {
                out.push(h.to_ascii_lowercase());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hides_the_secret_as_written_and_inside_an_address() {
        let secret = "p@ss w/rd+1";
        let raw = format!("login failed for {secret}");
        assert_eq!(redact(&raw, &[secret]), "login failed for [hidden]");
        let url = "error sending request for url (http://gw/cgi-bin/sendsms?username=u&password=p%40ss+w%2Frd%2B1&to=47)";
        let shown = redact(url, &[secret]);
        assert!(!shown.contains("p%40ss"), "{shown}");
        assert!(shown.contains("password=[hidden]&to=47"), "{shown}");
        let percent = "password=p%40ss%20w%2frd%2b1";
        assert_eq!(redact(percent, &[secret]), "password=[hidden]");
    }

    #[test]
    fn leaves_text_without_secrets_alone() {
        assert_eq!(
            redact("550 no such user", &["hunter22"]),
            "550 no such user"
        );
        assert_eq!(redact("550 no such user", &[""; 0]), "550 no such user");
        // Too short to search for.
        assert_eq!(redact("a b", &["a"]), "a b");
    }

    #[test]
    fn the_longest_of_overlapping_secrets_wins() {
        let shown = redact("token=abcdef123", &["abcdef", "abcdef123"]);
        assert_eq!(shown, "token=[hidden]");
    }

    proptest! {
        #[test]
        fn a_secret_never_survives(
            before in "[ -~]{0,40}",
            after in "[ -~]{0,40}",
            secret in "[a-zA-Z0-9@#%&+/=?: æøåÆØÅ]{3,24}",
        ) {
            // The marker itself is no secret's hiding place.
            prop_assume!(!HIDDEN.contains(secret.as_str()));
            let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            for text in [
                format!("{before}{secret}{after}"),
                format!("{before}{encoded}{after}"),
            ] {
                let shown = redact(&text, &[&secret]);
                prop_assert!(!shown.contains(secret.as_str()), "{shown}");
                prop_assert!(!shown.contains(encoded.as_str()), "{shown}");
            }
        }
    }
}
