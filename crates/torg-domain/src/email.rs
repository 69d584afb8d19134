//! Rules about email that need no IO: which messages are automatic (auto-replies, bounces,
//! delivery reports) and must never be answered, and the Message-IDs Torg makes.

/// Why a message counts as automatic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automatic {
    /// An out-of-office or other automatic answer.
    AutoReply,
    /// A bounce or delivery status notification.
    Bounce,
    /// Mailing lists and bulk mail.
    Bulk,
}

/// The headers and subject that decide whether a message is automatic.
#[derive(Debug, Default, Clone)]
pub struct AutoSigns<'a> {
    pub auto_submitted: Option<&'a str>,
    pub precedence: Option<&'a str>,
    pub x_autoreply: bool,
    pub content_type: Option<&'a str>,
    pub from_address: Option<&'a str>,
    pub subject: Option<&'a str>,
}

/// Subject openings of common vacation and delivery messages (Norwegian, Swedish, English).
const AUTO_SUBJECTS: &[&str] = &[
    "automatic reply",
    "auto reply",
    "autoreply",
    "out of office",
    "autosvar",
    "automatisk svar",
    "fraværsmelding",
    "frånvaro",
    "frånvarande",
    "ferie:",
];
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "mail delivery failed",
    "returned mail",
    "kunne ikke leveres",
    "kunde inte levereras",
];

/// Whether a message is automatic, and why. Such messages are kept with their inquiry but
/// never acknowledged or answered (RFC 3834).
pub fn automatic(signs: &AutoSigns<'_>) -> Option<Automatic> {
    let lower = |s: Option<&str>| s.map(|s| s.trim().to_lowercase()).unwrap_or_default();
    let content_type = lower(signs.content_type);
    let from = lower(signs.from_address);
    if content_type.starts_with("multipart/report")
        || from.starts_with("mailer-daemon@")
        || from.starts_with("postmaster@")
    {
        return Some(Automatic::Bounce);
    }
    let subject = lower(signs.subject);
    if BOUNCE_SUBJECTS.iter().any(|s| subject.starts_with(s)) {
        return Some(Automatic::Bounce);
    }
    let auto_submitted = lower(signs.auto_submitted);
    if (!auto_submitted.is_empty() && auto_submitted != "no")
        || signs.x_autoreply
        || AUTO_SUBJECTS.iter().any(|s| subject.starts_with(s))
    {
        return Some(Automatic::AutoReply);
    }
    match lower(signs.precedence).as_str() {
        "auto_reply" => Some(Automatic::AutoReply),
        "bulk" | "junk" | "list" => Some(Automatic::Bulk),
        _ => None,
    }
}

/// Angle brackets around a Message-ID, as headers carry it.
pub fn bracketed(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

/// A new Message-ID for a message from `address`'s domain, around `random` (hex).
pub fn new_message_id(address: &str, random: &str) -> String {
    let domain = address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("torg.invalid");
    format!("<torg.{random}@{domain}>")
}

/// The subject of our answer: "Re: " once, and the reference so that replies find their way.
pub fn reply_subject(subject: Option<&str>, reference: &str) -> String {
    let subject = subject
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("Henvendelse");
    let base = if subject.to_lowercase().starts_with("re:") {
        subject.to_string()
    } else {
        format!("Re: {subject}")
    };
    if base.contains(reference) {
        base
    } else {
        format!("{base} [{reference}]")
    }
}

/// File types a municipality does not take in by default: programs and scripts that run when
/// opened, and disk images that carry them.
pub const DEFAULT_BLOCKED_EXTENSIONS: &str =
    "bat,cmd,com,cpl,dll,exe,hta,iso,jar,js,jse,lnk,msi,ps1,scr,vbe,vbs,wsf";

/// A list of file extensions as written by staff ("exe, .BAT;js") made plain: lower case,
/// without dots, sorted, once each.
pub fn extension_list(text: &str) -> Vec<String> {
    let mut list: Vec<String> = text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(|e| e.trim().trim_start_matches('.').to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    list.sort();
    list.dedup();
    list
}

/// The extension of `filename` when it is one of `blocked` (a plain list). Every extension of
/// the name counts, so "faktura.pdf.exe" and "faktura.exe.pdf" are both caught; trailing dots
/// and spaces (which Windows drops) do not hide one.
pub fn blocked_extension(filename: &str, blocked: &[String]) -> Option<String> {
    let name = filename.trim_end_matches(['.', ' ']).to_lowercase();
    name.split('.')
        .skip(1)
        .map(str::trim)
        .find(|ext| blocked.iter().any(|b| b == ext))
        .map(str::to_string)
}

/// Why a message was kept aside instead of taken in, as told to its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The message (or one attachment) is larger than the municipality takes in.
    TooLarge { bytes: u64, limit: u64 },
    /// An attachment is of a type the municipality does not take in.
    BlockedType { filename: String },
}

/// The polite automatic answer to a refused message, in the municipality's language (`nb`,
/// `nn`, `sv`, `en`; others get bokmål): (subject, text). It says what happened, that the
/// message is kept and a person will look at it, and what the sender can do.
pub fn refusal_notice(
    language: &str,
    municipality: &str,
    subject: &str,
    refusal: &Refusal,
) -> (String, String) {
    let mb = |bytes: u64| {
        let text = format!("{:.1}", bytes as f64 / 1_000_000.0);
        if language == "en" {
            text
        } else {
            text.replace('.', ",")
        }
    };
    let original = if subject.trim().is_empty() {
        ""
    } else {
        subject.trim()
    };
    let (title, what, kept, todo, auto, regards) = match (language, refusal) {
        ("nn", Refusal::TooLarge { bytes, limit }) => (
            "Meldinga di er for stor",
            format!(
                "Meldinga di til {municipality} er på {} MB, og vi tek imot meldingar på opptil {} MB.",
                mb(*bytes),
                mb(*limit)
            ),
            "Ho er ikkje registrert som ein førespurnad enno, men ho er teken vare på, og ein sakshandsamar vil sjå på ho.",
            "Om det hastar, kan du senda teksten på nytt utan store vedlegg, eller dela vedlegga på fleire meldingar.",
            "Dette er eit automatisk svar.",
            "Venleg helsing",
        ),
        ("nn", Refusal::BlockedType { filename }) => (
            "Vedlegget vart ikkje teke imot",
            format!(
                "Meldinga di til {municipality} har eit vedlegg av ein type vi ikkje tek imot av omsyn til tryggleiken: «{filename}»."
            ),
            "Ho er ikkje registrert som ein førespurnad enno, men ho er teken vare på, og ein sakshandsamar vil sjå på ho.",
            "Du kan senda dokumentet på nytt som PDF eller bilete.",
            "Dette er eit automatisk svar.",
            "Venleg helsing",
        ),
        ("sv", Refusal::TooLarge { bytes, limit }) => (
            "Ditt meddelande är för stort",
            format!(
                "Ditt meddelande till {municipality} är {} MB, och vi tar emot meddelanden på högst {} MB.",
                mb(*bytes),
                mb(*limit)
            ),
            "Det har inte registrerats som ett ärende ännu, men det har sparats och en handläggare kommer att titta på det.",
            "Om det är bråttom kan du skicka texten igen utan stora bilagor, eller dela upp bilagorna på flera meddelanden.",
            "Detta är ett automatiskt svar.",
            "Med vänliga hälsningar",
        ),
        ("sv", Refusal::BlockedType { filename }) => (
            "Bilagan togs inte emot",
            format!(
                "Ditt meddelande till {municipality} har en bilaga av en typ som vi av säkerhetsskäl inte tar emot: ”{filename}”."
            ),
            "Det har inte registrerats som ett ärende ännu, men det har sparats och en handläggare kommer att titta på det.",
            "Du kan skicka dokumentet igen som PDF eller bild.",
            "Detta är ett automatiskt svar.",
            "Med vänliga hälsningar",
        ),
        ("en", Refusal::TooLarge { bytes, limit }) => (
            "Your message is too large",
            format!(
                "Your message to {municipality} is {} MB, and we take in messages of up to {} MB.",
                mb(*bytes),
                mb(*limit)
            ),
            "It has not been registered as an inquiry yet, but it has been kept, and a member of staff will look at it.",
            "If it is urgent, you can send the text again without large attachments, or spread the attachments over several messages.",
            "This is an automatic reply.",
            "Kind regards",
        ),
        ("en", Refusal::BlockedType { filename }) => (
            "Your attachment was not taken in",
            format!(
                "Your message to {municipality} has an attachment of a type we do not take in, for security reasons: \"{filename}\"."
            ),
            "It has not been registered as an inquiry yet, but it has been kept, and a member of staff will look at it.",
            "You can send the document again as a PDF or a picture.",
            "This is an automatic reply.",
            "Kind regards",
        ),
        (_, Refusal::TooLarge { bytes, limit }) => (
            "Meldingen din er for stor",
            format!(
                "Meldingen din til {municipality} er på {} MB, og vi tar imot meldinger på opptil {} MB.",
                mb(*bytes),
                mb(*limit)
            ),
            "Den er ikke registrert som en henvendelse ennå, men den er tatt vare på, og en saksbehandler vil se på den.",
            "Hvis det haster, kan du sende teksten på nytt uten store vedlegg, eller dele vedleggene på flere meldinger.",
            "Dette er et automatisk svar.",
            "Vennlig hilsen",
        ),
        (_, Refusal::BlockedType { filename }) => (
            "Vedlegget ble ikke tatt imot",
            format!(
                "Meldingen din til {municipality} har et vedlegg av en type vi ikke tar imot av sikkerhetshensyn: «{filename}»."
            ),
            "Den er ikke registrert som en henvendelse ennå, men den er tatt vare på, og en saksbehandler vil se på den.",
            "Du kan sende dokumentet på nytt som PDF eller bilde.",
            "Dette er et automatisk svar.",
            "Vennlig hilsen",
        ),
    };
    let subject = if original.is_empty() {
        title.to_string()
    } else {
        format!("{title}: {original}")
    };
    let body = format!("{what}\n\n{kept}\n\n{todo}\n\n{auto}\n\n{regards}\n{municipality}");
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_notices_say_what_happened_in_the_municipalitys_language() {
        let big = Refusal::TooLarge {
            bytes: 31_400_000,
            limit: 25_000_000,
        };
        let (subject, body) = refusal_notice("nb", "Nordby kommune", "Byggesøknad", &big);
        assert_eq!(subject, "Meldingen din er for stor: Byggesøknad");
        assert!(
            body.contains("31,4 MB") && body.contains("25,0 MB"),
            "{body}"
        );
        assert!(body.contains("saksbehandler vil se på den"));
        assert!(body.ends_with("Vennlig hilsen\nNordby kommune"));
        let exe = Refusal::BlockedType {
            filename: "faktura.exe".into(),
        };
        let (subject, body) = refusal_notice("sv", "Norrby kommun", "", &exe);
        assert_eq!(subject, "Bilagan togs inte emot");
        assert!(body.contains("”faktura.exe”") && body.contains("handläggare"));
        let (_, body) = refusal_notice("en", "Nordby", "x", &big);
        assert!(body.contains("31.4 MB"));
        let (_, nn) = refusal_notice("nn", "Nordby kommune", "x", &exe);
        assert!(nn.contains("sakshandsamar"));
        // An unknown language gets bokmål.
        assert_eq!(
            refusal_notice("de", "N", "x", &exe),
            refusal_notice("nb", "N", "x", &exe)
        );
    }

    #[test]
    fn extension_lists_are_made_plain() {
        assert_eq!(
            extension_list(" .EXE, bat;js  exe"),
            vec!["bat", "exe", "js"]
        );
        assert!(extension_list("").is_empty());
        assert!(extension_list(DEFAULT_BLOCKED_EXTENSIONS).contains(&"exe".to_string()));
    }

    #[test]
    fn blocked_attachments_are_found_by_any_of_their_extensions() {
        let blocked = extension_list("exe,js");
        assert_eq!(
            blocked_extension("virus.exe", &blocked).as_deref(),
            Some("exe")
        );
        assert_eq!(
            blocked_extension("Faktura.PDF.EXE", &blocked).as_deref(),
            Some("exe")
        );
        assert_eq!(
            blocked_extension("faktura.exe.pdf", &blocked).as_deref(),
            Some("exe")
        );
        assert_eq!(
            blocked_extension("skjema.js. . ", &blocked).as_deref(),
            Some("js")
        );
        assert_eq!(blocked_extension("søknad.pdf", &blocked), None);
        assert_eq!(blocked_extension("exe", &blocked), None);
        assert_eq!(blocked_extension("bilde.jpg", &[]), None);
    }

    fn signs(subject: &str) -> AutoSigns<'_> {
        AutoSigns {
            subject: Some(subject),
            from_address: Some("ola@example.no"),
            ..Default::default()
        }
    }

    #[test]
    fn automatic_messages_are_recognised() {
        assert_eq!(automatic(&signs("Spørsmål om vann")), None);
        assert_eq!(
            automatic(&signs("Fraværsmelding: Ola er på ferie")),
            Some(Automatic::AutoReply)
        );
        assert_eq!(
            automatic(&signs("Automatic reply: Re: Vann")),
            Some(Automatic::AutoReply)
        );
        assert_eq!(
            automatic(&signs("Undeliverable: Re: Vann")),
            Some(Automatic::Bounce)
        );
        let auto = AutoSigns {
            auto_submitted: Some("auto-replied"),
            ..signs("Re: Vann")
        };
        assert_eq!(automatic(&auto), Some(Automatic::AutoReply));
        let human = AutoSigns {
            auto_submitted: Some("no"),
            ..signs("Re: Vann")
        };
        assert_eq!(automatic(&human), None);
        let report = AutoSigns {
            content_type: Some("multipart/report; report-type=delivery-status"),
            ..signs("x")
        };
        assert_eq!(automatic(&report), Some(Automatic::Bounce));
        let daemon = AutoSigns {
            from_address: Some("MAILER-DAEMON@mx.example.no"),
            ..signs("x")
        };
        assert_eq!(automatic(&daemon), Some(Automatic::Bounce));
        let bulk = AutoSigns {
            precedence: Some("bulk"),
            ..signs("Nyhetsbrev")
        };
        assert_eq!(automatic(&bulk), Some(Automatic::Bulk));
        let x = AutoSigns {
            x_autoreply: true,
            ..signs("Re: Vann")
        };
        assert_eq!(automatic(&x), Some(Automatic::AutoReply));
    }

    #[test]
    fn message_ids_and_subjects() {
        assert_eq!(bracketed("abc@x"), "<abc@x>");
        assert_eq!(bracketed(" <abc@x> "), "<abc@x>");
        assert_eq!(
            new_message_id("postmottak@nordby.kommune.no", "ab12"),
            "<torg.ab12@nordby.kommune.no>"
        );
        assert_eq!(
            reply_subject(Some("Vannlekkasje"), "2026-000001"),
            "Re: Vannlekkasje [2026-000001]"
        );
        assert_eq!(
            reply_subject(Some("RE: Vann [2026-000001]"), "2026-000001"),
            "RE: Vann [2026-000001]"
        );
        assert_eq!(
            reply_subject(None, "2026-000001"),
            "Re: Henvendelse [2026-000001]"
        );
    }
}
