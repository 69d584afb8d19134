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

#[cfg(test)]
mod tests {
    use super::*;

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
