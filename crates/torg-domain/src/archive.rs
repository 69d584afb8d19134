//! The archive (arkiv): which inquiries must be kept as records (arkivverdig), how their
//! public journal entries are screened (skjerming), and when what is not a record is deleted
//! (sletting etter GDPR).
//!
//! Torg only *proposes* that an inquiry is archive-worthy and says why; an archivist decides.
//! The proposal follows the Norwegian three-part test (arkivforskriften § 9, offentleglova
//! § 4): a document is journalført when it (1) came in or went out, (2) is a case document of
//! the municipality, and (3) is subject to case handling or has value as documentation.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::str::FromStr;

/// Why Torg thinks an inquiry should be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorthinessReason {
    /// An application (søknad).
    Application,
    /// A complaint or appeal (klage).
    Complaint,
    /// A request for access (innsynskrav).
    AccessRequest,
    /// The municipality answered formally: a decision (vedtak) with right of appeal.
    FormalAnswer,
    /// Documents came with it.
    Attachments,
}

impl WorthinessReason {
    pub fn as_str(self) -> &'static str {
        match self {
            WorthinessReason::Application => "application",
            WorthinessReason::Complaint => "complaint",
            WorthinessReason::AccessRequest => "access_request",
            WorthinessReason::FormalAnswer => "formal_answer",
            WorthinessReason::Attachments => "attachments",
        }
    }
}

/// What the proposal looks at: the inquiry's topic and subject, the texts that came in and
/// went out, and whether documents were attached.
#[derive(Debug, Clone, Default)]
pub struct ArchiveFacts<'a> {
    pub topic: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// Texts from the citizen.
    pub inbound: Vec<&'a str>,
    /// Answers sent to the citizen (not acknowledgements, not internal notes).
    pub outbound: Vec<&'a str>,
    pub attachments: usize,
}

/// Torg's proposal and the three questions of the test, answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub worthy: bool,
    pub reasons: Vec<WorthinessReason>,
    /// (1) Something came in or went out.
    pub received_or_sent: bool,
    /// (2) and (3): a case document subject to case handling or with value as documentation.
    pub case_document: bool,
}

const APPLICATION_WORDS: &[&str] = &[
    "søknad",
    "søknaden",
    "søknader",
    "søkjer",
    "søknaden",
    "ansøkning",
    "ansökan",
    "ansöker",
    "application",
];
const COMPLAINT_WORDS: &[&str] = &[
    "klage",
    "klagen",
    "klager",
    "klagar",
    "påklage",
    "påklager",
    "overklage",
    "överklagande",
    "överklagar",
    "complaint",
    "appeal",
];
const ACCESS_WORDS: &[&str] = &[
    "innsyn",
    "innsynskrav",
    "innsynsbegjæring",
    "offentleglova",
    "offentlighetsloven",
    "allmän handling",
    "allmänna handlingar",
    "utlämnande",
    "freedom of information",
];
const FORMAL_WORDS: &[&str] = &[
    "vedtak",
    "vedtaket",
    "enkeltvedtak",
    "klagerett",
    "klageadgang",
    "beslut",
    "beslutet",
    "överklaga",
    "decision",
];

/// The lowercase words of a text, with the letters of the Nordic languages kept.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Whether `text` has one of `list` as a word, or as a phrase of words.
fn has_any(text: &str, list: &[&str]) -> bool {
    let ws: Vec<String> = words(text).collect();
    list.iter().any(|entry| {
        let phrase: Vec<&str> = entry.split(' ').collect();
        ws.windows(phrase.len())
            .any(|win| win.iter().zip(&phrase).all(|(a, b)| a == b))
    })
}

/// Torg's proposal for an inquiry.
pub fn propose(facts: &ArchiveFacts<'_>) -> Proposal {
    let citizen: Vec<&str> = facts.inbound.iter().copied().chain(facts.subject).collect();
    let mut reasons = Vec::new();
    if facts.topic == Some(crate::access_request::TOPIC)
        || citizen.iter().any(|t| has_any(t, ACCESS_WORDS))
    {
        reasons.push(WorthinessReason::AccessRequest);
    }
    if citizen.iter().any(|t| has_any(t, APPLICATION_WORDS)) {
        reasons.push(WorthinessReason::Application);
    }
    if citizen.iter().any(|t| has_any(t, COMPLAINT_WORDS)) {
        reasons.push(WorthinessReason::Complaint);
    }
    if facts.outbound.iter().any(|t| has_any(t, FORMAL_WORDS)) {
        reasons.push(WorthinessReason::FormalAnswer);
    }
    if facts.attachments > 0 {
        reasons.push(WorthinessReason::Attachments);
    }
    let received_or_sent = !facts.inbound.is_empty() || !facts.outbound.is_empty();
    let case_document = !reasons.is_empty();
    Proposal {
        worthy: received_or_sent && case_document,
        reasons,
        received_or_sent,
        case_document,
    }
}

/// The archivist's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveDecision {
    /// Kept as a record (journalført, arkivert) and exported to the records system.
    Archive,
    /// Not a record: deleted when the municipality's retention time has passed.
    NotArchive,
}

impl ArchiveDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveDecision::Archive => "archive",
            ArchiveDecision::NotArchive => "not_archive",
        }
    }
}

impl FromStr for ArchiveDecision {
    type Err = ArchiveError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "archive" => Ok(ArchiveDecision::Archive),
            "not_archive" => Ok(ArchiveDecision::NotArchive),
            _ => Err(ArchiveError::NoDecision),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("choose whether the inquiry is archive-worthy or not")]
    NoDecision,
    #[error("choose the legal basis for screening from the list")]
    UnknownBasis,
}

/// The legal basis of a screening (skjermingshjemmel) or of refusing access, with the law's
/// wording as the public journal and the refusal letter cite it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningBasis {
    /// Duty of confidentiality about personal circumstances.
    PersonalCircumstances,
    /// Business secrets.
    BusinessSecrets,
    /// An internal document.
    InternalDocument,
    /// Health information (helsepersonelloven).
    Health,
    /// Child welfare (barnevernsloven).
    ChildWelfare,
}

impl ScreeningBasis {
    pub const ALL: [ScreeningBasis; 5] = [
        ScreeningBasis::PersonalCircumstances,
        ScreeningBasis::BusinessSecrets,
        ScreeningBasis::InternalDocument,
        ScreeningBasis::Health,
        ScreeningBasis::ChildWelfare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScreeningBasis::PersonalCircumstances => "personal_circumstances",
            ScreeningBasis::BusinessSecrets => "business_secrets",
            ScreeningBasis::InternalDocument => "internal_document",
            ScreeningBasis::Health => "health",
            ScreeningBasis::ChildWelfare => "child_welfare",
        }
    }

    /// The access restriction code (tilgangsrestriksjon): 14 for an internal document, 13
    /// (duty of confidentiality) for the rest.
    pub fn access_code(self) -> &'static str {
        match self {
            ScreeningBasis::InternalDocument => "14",
            _ => "13",
        }
    }

    /// The citation as written in the journals of `country`: the Swedish provision
    /// (offentlighets- och sekretesslagen, or tryckfrihetsförordningen for what is not an
    /// official document) in a Swedish municipality, else the Norwegian one.
    pub fn citation_in(self, country: Option<crate::calendar::Country>) -> &'static str {
        if country != Some(crate::calendar::Country::Se) {
            return self.citation();
        }
        match self {
            ScreeningBasis::PersonalCircumstances | ScreeningBasis::ChildWelfare => {
                "26 kap. 1 § offentlighets- och sekretesslagen (2009:400)"
            }
            ScreeningBasis::BusinessSecrets => {
                "31 kap. 16 § offentlighets- och sekretesslagen (2009:400)"
            }
            // Not an official document: a working paper or a memorandum.
            ScreeningBasis::InternalDocument => "2 kap. 10 och 12 §§ tryckfrihetsförordningen",
            ScreeningBasis::Health => "25 kap. 1 § offentlighets- och sekretesslagen (2009:400)",
        }
    }

    /// The citation (skjermingshjemmel) as written in Norwegian journals.
    pub fn citation(self) -> &'static str {
        match self {
            ScreeningBasis::PersonalCircumstances => "Offl. § 13 jf. fvl. § 13 første ledd nr. 1",
            ScreeningBasis::BusinessSecrets => "Offl. § 13 jf. fvl. § 13 første ledd nr. 2",
            ScreeningBasis::InternalDocument => "Offl. § 14 første ledd",
            ScreeningBasis::Health => "Offl. § 13 jf. hpl. § 21",
            ScreeningBasis::ChildWelfare => "Offl. § 13 jf. bvl. § 13-1",
        }
    }
}

impl FromStr for ScreeningBasis {
    type Err = ArchiveError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScreeningBasis::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or(ArchiveError::UnknownBasis)
    }
}

/// What the archivist marked for the public journal: the legal basis, whether the names of
/// private persons are screened, and the title to show instead of the real one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Screening {
    pub basis: Option<ScreeningBasis>,
    pub names: bool,
    pub public_title: Option<String>,
}

/// How a screened field is shown in a public journal.
pub const SCREENED: &str = "*****";

impl Screening {
    /// The title for the public journal.
    pub fn title<'a>(&'a self, title: &'a str) -> &'a str {
        match (&self.public_title, self.basis) {
            (Some(t), _) => t,
            (None, Some(_)) => SCREENED,
            (None, None) => title,
        }
    }

    /// The title the public journal shows of a case titled `title`: the archivist's public
    /// title, else `*****` when screened, else the title with personal data masked.
    pub fn public_title(&self, title: &str) -> String {
        self.title(&mask_personal_data(title)).to_string()
    }

    /// A private person's name for the public journal.
    pub fn name<'a>(&self, name: &'a str) -> &'a str {
        if self.names { SCREENED } else { name }
    }
}

/// `text` with every finding of the personal-data guard (identity numbers, account and phone
/// numbers, email addresses, health and social-care words) replaced by [`SCREENED`]: what a
/// public journal shows of a title nobody screened by hand.
pub fn mask_personal_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in crate::personal_data::find(text) {
        if f.start < at {
            continue;
        }
        out.push_str(&text[at..f.start]);
        out.push_str(SCREENED);
        at = f.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The title of an inquiry as a case (sakstittel): its subject, else the start of its text.
pub fn case_title(subject: Option<&str>, preview: &str) -> String {
    let title = subject
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(preview.trim());
    let mut cut: String = title.chars().take(120).collect();
    if cut.len() < title.len() {
        cut.push('…');
    }
    if cut.is_empty() {
        "Henvendelse".into()
    } else {
        cut
    }
}

/// Personal names in the public journal can be searched for a year after the entry's date,
/// then not (offentleglovforskrifta § 7): the entry stays, the name is no longer found.
pub fn name_searchable(journal_date: Timestamp, now: Timestamp) -> bool {
    now.duration_since(journal_date) < SignedDuration::from_hours(24 * 365)
}

/// Whether a closed inquiry is to be deleted now: it is not a record (the archivist said so,
/// or nobody decided and Torg does not propose keeping it) and the retention time since it
/// was closed has passed. Open inquiries and records are never deleted.
pub fn due_for_deletion(
    closed_at: Option<Timestamp>,
    decision: Option<ArchiveDecision>,
    proposed_worthy: bool,
    retention_days: u32,
    now: Timestamp,
) -> bool {
    let Some(closed) = closed_at else {
        return false;
    };
    let not_a_record = match decision {
        Some(ArchiveDecision::Archive) => false,
        Some(ArchiveDecision::NotArchive) => true,
        None => !proposed_worthy,
    };
    not_a_record
        && now.duration_since(closed) >= SignedDuration::from_hours(24 * i64::from(retention_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts<'a>(inbound: &[&'a str], outbound: &[&'a str]) -> ArchiveFacts<'a> {
        ArchiveFacts {
            inbound: inbound.to_vec(),
            outbound: outbound.to_vec(),
            ..ArchiveFacts::default()
        }
    }

    #[test]
    fn a_plain_question_is_not_proposed() {
        let p = propose(&facts(
            &["Når er søknadsfristen for barnehageplass til høsten?"],
            &["Fristen er 1. mars."],
        ));
        assert!(!p.worthy);
        assert!(p.reasons.is_empty());
        assert!(p.received_or_sent);
    }

    #[test]
    fn applications_complaints_and_access_requests_are_proposed_with_their_reasons() {
        let p = propose(&facts(
            &["Jeg sender herved søknad om skjenkebevilling."],
            &[],
        ));
        assert_eq!(p.reasons, vec![WorthinessReason::Application]);
        assert!(p.worthy);
        let p = propose(&facts(&["Vi klager på vedtaket om parkering."], &[]));
        assert_eq!(p.reasons, vec![WorthinessReason::Complaint]);
        let p = propose(&facts(&["Jeg ber om innsyn i postlisten for uke 12."], &[]));
        assert_eq!(p.reasons, vec![WorthinessReason::AccessRequest]);
        let p = propose(&facts(&["Jag begär ut allmänna handlingar."], &[]));
        assert_eq!(p.reasons, vec![WorthinessReason::AccessRequest]);
    }

    #[test]
    fn a_formal_answer_and_attachments_count() {
        let p = propose(&facts(&["Hei"], &["Vedtaket kan påklages innen tre uker."]));
        assert_eq!(p.reasons, vec![WorthinessReason::FormalAnswer]);
        let p = propose(&ArchiveFacts {
            attachments: 2,
            ..facts(&["Se vedlagte tegninger"], &[])
        });
        assert_eq!(p.reasons, vec![WorthinessReason::Attachments]);
        assert!(p.worthy);
    }

    #[test]
    fn the_access_topic_is_an_access_request_and_nothing_in_or_out_is_not_a_record() {
        let p = propose(&ArchiveFacts {
            topic: Some(crate::access_request::TOPIC),
            ..ArchiveFacts::default()
        });
        assert_eq!(p.reasons, vec![WorthinessReason::AccessRequest]);
        assert!(!p.received_or_sent);
        assert!(!p.worthy, "no document came in or went out");
    }

    #[test]
    fn screening_replaces_what_the_archivist_marked() {
        let none = Screening::default();
        assert_eq!(none.title("Søknad om støtte"), "Søknad om støtte");
        assert_eq!(none.name("Kari Nordmann"), "Kari Nordmann");
        let marked = Screening {
            basis: Some(ScreeningBasis::PersonalCircumstances),
            names: true,
            public_title: None,
        };
        assert_eq!(marked.title("Søknad om støtte"), SCREENED);
        assert_eq!(marked.name("Kari Nordmann"), SCREENED);
        let titled = Screening {
            public_title: Some("Søknad om ***** støtte".into()),
            ..marked
        };
        assert_eq!(
            titled.title("Søknad om sosial støtte"),
            "Søknad om ***** støtte"
        );
        assert_eq!(
            "health".parse::<ScreeningBasis>(),
            Ok(ScreeningBasis::Health)
        );
        assert!("nope".parse::<ScreeningBasis>().is_err());
    }

    #[test]
    fn personal_data_in_titles_is_masked() {
        assert_eq!(
            mask_personal_data("Søknad for 01017000027, ring 41234567"),
            "Søknad for *****, ring *****"
        );
        assert_eq!(
            mask_personal_data("Brøyting av Storgata"),
            "Brøyting av Storgata"
        );
        assert_eq!(case_title(Some("  "), "Hei på deg"), "Hei på deg");
        assert_eq!(case_title(Some("Søknad"), "x"), "Søknad");
        assert_eq!(case_title(None, &"a".repeat(200)).chars().count(), 121);
        assert_eq!(case_title(None, ""), "Henvendelse");
    }

    #[test]
    fn names_are_searchable_for_a_year() {
        let day = Timestamp::from_second(1_767_225_600).expect("time");
        let later = |days: i64| day + SignedDuration::from_hours(24 * days);
        assert!(name_searchable(day, later(364)));
        assert!(!name_searchable(day, later(365)));
    }

    #[test]
    fn only_closed_non_records_past_their_time_are_deleted() {
        let closed = Timestamp::from_second(1_767_225_600).expect("time");
        let after = |days: i64| closed + SignedDuration::from_hours(24 * days);
        use ArchiveDecision::*;
        assert!(!due_for_deletion(
            None,
            Some(NotArchive),
            false,
            30,
            after(400)
        ));
        assert!(!due_for_deletion(
            Some(closed),
            Some(Archive),
            false,
            30,
            after(400)
        ));
        assert!(!due_for_deletion(
            Some(closed),
            Some(NotArchive),
            false,
            30,
            after(29)
        ));
        assert!(due_for_deletion(
            Some(closed),
            Some(NotArchive),
            true,
            30,
            after(30)
        ));
        assert!(due_for_deletion(Some(closed), None, false, 30, after(31)));
        assert!(!due_for_deletion(Some(closed), None, true, 30, after(31)));
    }

    proptest! {
        #[test]
        fn a_record_is_never_deleted(days in 0u32..5000, age in 0i64..10_000, proposed: bool) {
            let closed = Timestamp::from_second(1_767_225_600).expect("time");
            let now = closed + SignedDuration::from_hours(24 * age);
            prop_assert!(!due_for_deletion(Some(closed), Some(ArchiveDecision::Archive), proposed, days, now));
        }

        #[test]
        fn the_proposal_never_panics_and_reasons_imply_a_case_document(text in "\\PC{0,200}") {
            let p = propose(&facts(&[&text], &[&text]));
            prop_assert_eq!(p.case_document, !p.reasons.is_empty());
            prop_assert!(p.received_or_sent);
        }
    }
}
