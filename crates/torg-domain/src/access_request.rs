//! Requests for access (innsynskrav, begäran om allmän handling): an inquiry of its own kind,
//! marked by its topic, with its own short deadline and an answer that cites the law of the
//! municipality's country for any refusal and tells how to appeal — in Norway offentleglova
//! (§ 31: the provision named, § 32: appeal to the Statsforvalter), in Sweden
//! tryckfrihetsförordningen (2 kap.: anyone may ask, anonymously and without saying why, and is
//! answered "skyndsamt") and offentlighets- och sekretesslagen (6 kap. 7 §: appeal to the
//! kammarrätt).

use crate::archive::ScreeningBasis;
use crate::calendar::Country;
use crate::deadline::DeadlinePolicy;

/// The topic that makes an inquiry a request for access.
pub const TOPIC: &str = "access_request";

/// The deadline when a municipality has set none for the topic: three working days (the
/// Sivilombudet's guidance on "uten ugrunnet opphold").
pub const DEFAULT_POLICY: DeadlinePolicy = DeadlinePolicy::WithinWorkingDays { days: 3 };

/// In Sweden a request is answered "skyndsamt" (TF 2 kap. 15 §), which JO reads as the same
/// day or the next: one working day.
pub const SWEDISH_DEFAULT_POLICY: DeadlinePolicy = DeadlinePolicy::WithinWorkingDays { days: 1 };

/// The deadline of a request for access where the municipality has set none, by its country.
pub fn default_policy(country: Option<Country>) -> DeadlinePolicy {
    match country {
        Some(Country::Se) => SWEDISH_DEFAULT_POLICY,
        _ => DEFAULT_POLICY,
    }
}

/// The name an anonymous request for access is kept under (no name is needed to ask for
/// access, in Sweden by TF 2 kap. 18 §, in Norway by practice under offentleglova), in the
/// request's language.
pub fn anonymous_name(language: &str) -> &'static str {
    match language {
        "en" => "Anonymous",
        _ => "Anonym",
    }
}

/// A Swedish municipality's reply: the law cited is Swedish, the language the request's.
fn swedish_reply(language: &str, answer: AccessAnswer, cited: &str, document: &str) -> String {
    match (language, answer) {
        ("en", AccessAnswer::Granted) => format!(
            "Hello,\n\nYou may see {document}; the document is attached to this reply. You did not need to tell us who you are or why you asked (Chapter 2, Section 18 of the Freedom of the Press Act).\n"
        ),
        ("en", a) => format!(
            "Hello,\n\nThis is the municipality's decision on your request. {} {document} under {cited}.\n\nYou may appeal the decision to the Administrative Court of Appeal (kammarrätten), Chapter 6, Section 7 of the Public Access to Information and Secrecy Act. Send the appeal to us; it must reach us within three weeks of the day you were told of the decision. Say which decision you appeal and how you want it changed.\n",
            if a == AccessAnswer::Partly {
                "You may see part of"
            } else {
                "We cannot release"
            }
        ),
        (_, AccessAnswer::Granted) => format!(
            "Hej!\n\nDu får ta del av {document}. Handlingen bifogas detta svar. Du behövde inte tala om vem du är eller varför du ville ha den (2 kap. 18 § tryckfrihetsförordningen).\n"
        ),
        (_, a) => format!(
            "Hej!\n\nDetta är kommunens beslut om din begäran. {} {document} med stöd av {cited}.\n\nHur man överklagar: Du kan överklaga beslutet hos kammarrätten (6 kap. 7 § offentlighets- och sekretesslagen). Skicka överklagandet till oss. Det ska ha kommit in till oss inom tre veckor från den dag du fick del av beslutet. Skriv vilket beslut du överklagar och hur du vill att det ska ändras.\n",
            if a == AccessAnswer::Partly {
                "Du får ta del av delar av"
            } else {
                "Vi kan inte lämna ut"
            }
        ),
    }
}

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

/// The reply to a request for access in the inquiry's language, citing `grounds` under the
/// law of the municipality's `country` for what is refused and telling how to appeal.
/// `document` names what was asked for.
pub fn reply_template(
    country: Option<Country>,
    language: &str,
    answer: AccessAnswer,
    grounds: &[ScreeningBasis],
    document: &str,
) -> String {
    if country == Some(Country::Se) {
        let cited = if grounds.is_empty() {
            ScreeningBasis::PersonalCircumstances
                .citation_in(country)
                .to_string()
        } else {
            grounds
                .iter()
                .map(|g| g.citation_in(country))
                .collect::<Vec<_>>()
                .join("; ")
        };
        return swedish_reply(language, answer, &cited, document);
    }
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
            "Hej!\n\n{} {document} med stöd av {cited} (den norska offentleglova).\n\nDu kan klaga på beslutet inom tre veckor från den dag du fick det (offentleglova § 32). Skicka klagan till oss; står vi fast vid beslutet, går klagan till Statsforvaltaren.\n",
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
            Some(Country::No),
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
        let partly = reply_template(None, "nn", AccessAnswer::Partly, &[], "brevet");
        assert!(partly.contains("delvis innsyn"));
        assert!(
            partly.contains("Offl. § 13"),
            "a refusal always cites a provision"
        );
        let granted = reply_template(
            Some(Country::No),
            "sv",
            AccessAnswer::Granted,
            &[],
            "protokollet",
        );
        assert!(!granted.contains("Offl."));
        assert!(reply_template(None, "en", AccessAnswer::Refused, &[], "x").contains("appeal"));
        let norwegian_in_swedish =
            reply_template(Some(Country::No), "sv", AccessAnswer::Refused, &[], "x");
        assert!(norwegian_in_swedish.contains("offentleglova § 32"));
        assert!(!norwegian_in_swedish.contains("kammarrätten"));
    }

    #[test]
    fn a_swedish_refusal_cites_swedish_law_and_the_appeal_to_the_kammarratt() {
        let se = Some(Country::Se);
        let text = reply_template(
            se,
            "sv",
            AccessAnswer::Refused,
            &[ScreeningBasis::Health],
            "journalen",
        );
        assert!(text.contains("Vi kan inte lämna ut journalen"));
        assert!(text.contains("25 kap. 1 § offentlighets- och sekretesslagen"));
        assert!(text.contains("kammarrätten"));
        assert!(text.contains("inom tre veckor"));
        assert!(!text.contains("Offl."), "no Norwegian law: {text}");
        let partly = reply_template(se, "sv", AccessAnswer::Partly, &[], "protokollet");
        assert!(partly.contains("delar av protokollet"));
        assert!(
            partly.contains("offentlighets- och sekretesslagen"),
            "always a provision"
        );
        let internal = reply_template(
            se,
            "sv",
            AccessAnswer::Refused,
            &[ScreeningBasis::InternalDocument],
            "utkastet",
        );
        assert!(internal.contains("tryckfrihetsförordningen"));
        let granted = reply_template(se, "sv", AccessAnswer::Granted, &[], "beslutet");
        assert!(granted.contains("2 kap. 18 § tryckfrihetsförordningen"));
        let english = reply_template(se, "en", AccessAnswer::Refused, &[], "x");
        assert!(english.contains("kammarrätten") && english.contains("three weeks"));
    }

    #[test]
    fn sweden_answers_requests_within_a_working_day_norway_within_three() {
        assert_eq!(
            default_policy(Some(Country::Se)),
            DeadlinePolicy::WithinWorkingDays { days: 1 }
        );
        assert_eq!(
            default_policy(Some(Country::No)),
            DeadlinePolicy::WithinWorkingDays { days: 3 }
        );
        assert_eq!(default_policy(None), DEFAULT_POLICY);
    }
}
