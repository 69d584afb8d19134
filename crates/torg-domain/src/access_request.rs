//! Requests for access (innsynskrav, begäran om allmän handling): an inquiry of its own kind,
//! marked by its topic, with its own short deadline and an answer that cites the law for any
//! refusal (offentleglova § 31: the refusal names the provision it rests on and tells how to
//! appeal).

use crate::archive::ScreeningBasis;
use crate::deadline::DeadlinePolicy;

/// The topic that makes an inquiry a request for access.
pub const TOPIC: &str = "access_request";

/// The deadline when a municipality has set none for the topic: three working days (the
/// Sivilombudet's guidance on "uten ugrunnet opphold").
pub const DEFAULT_POLICY: DeadlinePolicy = DeadlinePolicy::WithinWorkingDays { days: 3 };

/// Whether a citizen's text asks for access to documents (used when no topic was chosen).
pub fn looks_like(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "innsyn",
        "innsynskrav",
        "innsynsbegjæring",
        "begjærer innsyn",
        "ber om innsyn",
        "krav om innsyn",
        "allmän handling",
        "allmänna handlingar",
        "begär ut",
        "freedom of information",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// How the municipality answers a request for access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessAnswer {
    Granted,
    /// Access to part of the document; the rest is refused on the grounds given.
    Partly,
    Refused,
}

impl AccessAnswer {
    pub fn parse(s: &str) -> Option<AccessAnswer> {
        match s {
            "granted" => Some(AccessAnswer::Granted),
            "partly" => Some(AccessAnswer::Partly),
            "refused" => Some(AccessAnswer::Refused),
            _ => None,
        }
    }
}

/// The reply to a request for access in the inquiry's language, citing `grounds` for what is
/// refused and telling how to appeal. `document` names what was asked for.
pub fn reply_template(
    language: &str,
    answer: AccessAnswer,
    grounds: &[ScreeningBasis],
    document: &str,
) -> String {
    let cited = grounds
        .iter()
        .map(|g| g.citation())
        .collect::<Vec<_>>()
        .join("; ");
    let cited = if cited.is_empty() {
        ScreeningBasis::PersonalCircumstances.citation().to_string()
    } else {
        cited
    };
    match (language, answer) {
        ("sv", AccessAnswer::Granted) => {
            format!("Hej!\n\nDu får ta del av {document}. Handlingen bifogas detta svar.\n")
        }
        ("sv", a) => format!(
            "Hej!\n\n{} {document} med stöd av {cited}.\n\nDu kan överklaga beslutet till förvaltningsrätten. Skicka överklagandet till oss inom tre veckor från den dag du fick beslutet.\n",
            if a == AccessAnswer::Partly {
                "Du får ta del av delar av"
            } else {
                "Vi kan inte lämna ut"
            }
        ),
        ("en", AccessAnswer::Granted) => format!(
            "Hello,\n\nYou are granted access to {document}. The document is attached to this reply.\n"
        ),
        ("en", a) => format!(
            "Hello,\n\n{} {document} under {cited} (the Norwegian Freedom of Information Act).\n\nYou may appeal within three weeks of receiving this answer. Send the appeal to us; if we uphold the refusal, it goes to the Statsforvalter.\n",
            if a == AccessAnswer::Partly {
                "You are granted access to part of"
            } else {
                "We refuse access to"
            }
        ),
        ("nn", AccessAnswer::Granted) => {
            format!("Hei!\n\nDu får innsyn i {document}. Dokumentet ligg ved dette svaret.\n")
        }
        ("nn", a) => format!(
            "Hei!\n\n{} {document} med heimel i {cited}.\n\nDu kan klage på avslaget innan tre veker frå du fekk dette svaret, jf. offentleglova § 32. Send klaga til oss; held vi fast på avslaget, går klaga til Statsforvaltaren.\n",
            if a == AccessAnswer::Partly {
                "Du får delvis innsyn i"
            } else {
                "Vi avslår innsyn i"
            }
        ),
        (_, AccessAnswer::Granted) => {
            format!("Hei!\n\nDu får innsyn i {document}. Dokumentet ligger ved dette svaret.\n")
        }
        (_, a) => format!(
            "Hei!\n\n{} {document} med hjemmel i {cited}.\n\nDu kan klage på avslaget innen tre uker fra du fikk dette svaret, jf. offentleglova § 32. Send klagen til oss; opprettholder vi avslaget, går klagen til Statsforvalteren.\n",
            if a == AccessAnswer::Partly {
                "Du får delvis innsyn i"
            } else {
                "Vi avslår innsyn i"
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_requests_are_recognised_in_the_nordic_languages() {
        assert!(looks_like("Jeg ber om innsyn i byggesak 2026/14"));
        assert!(looks_like("Jag begär ut allmänna handlingar om skolan"));
        assert!(!looks_like("Når tømmes søpla i Storgata?"));
    }

    #[test]
    fn a_refusal_cites_its_grounds_and_tells_how_to_appeal() {
        let text = reply_template(
            "nb",
            AccessAnswer::Refused,
            &[
                ScreeningBasis::PersonalCircumstances,
                ScreeningBasis::InternalDocument,
            ],
            "sak 2026/14",
        );
        assert!(text.contains("Vi avslår innsyn i sak 2026/14"));
        assert!(
            text.contains("Offl. § 13 jf. fvl. § 13 første ledd nr. 1; Offl. § 14 første ledd")
        );
        assert!(text.contains("offentleglova § 32"));
        let partly = reply_template("nn", AccessAnswer::Partly, &[], "brevet");
        assert!(partly.contains("delvis innsyn"));
        assert!(
            partly.contains("Offl. § 13"),
            "a refusal always cites a provision"
        );
        let granted = reply_template("sv", AccessAnswer::Granted, &[], "protokollet");
        assert!(!granted.contains("Offl."));
        assert!(reply_template("en", AccessAnswer::Refused, &[], "x").contains("appeal"));
    }
}
