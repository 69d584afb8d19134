//! Outgoing webhooks: what an integration (a case-management system, an archive) is told when
//! something happens in Torg, and how each delivery is signed so the receiver can trust it.
//!
//! Events are read from the audit log, which every action writes in the same transaction as
//! its change: an event is sent only for what happened, and nothing that happened is missed.
//! Each delivery carries `Torg-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<body>">` under the integration's own secret; a receiver recomputes it and refuses a
//! timestamp older than a few minutes (a replay).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What an integration may ask to be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    InquiryCreated,
    InquiryReplied,
    InquiryAssigned,
    InquiryClosed,
    PublicationPublished,
    CrisisStarted,
    CrisisUpdated,
    CrisisEnded,
}

impl Event {
    pub const ALL: [Event; 8] = [
        Event::InquiryCreated,
        Event::InquiryReplied,
        Event::InquiryAssigned,
        Event::InquiryClosed,
        Event::PublicationPublished,
        Event::CrisisStarted,
        Event::CrisisUpdated,
        Event::CrisisEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::InquiryCreated => "inquiry.created",
            Event::InquiryReplied => "inquiry.replied",
            Event::InquiryAssigned => "inquiry.assigned",
            Event::InquiryClosed => "inquiry.closed",
            Event::PublicationPublished => "publication.published",
            Event::CrisisStarted => "crisis.started",
            Event::CrisisUpdated => "crisis.updated",
            Event::CrisisEnded => "crisis.ended",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s.trim())
    }

    /// The event an audit entry is, if any: its action, and for a status change whether it
    /// closed the inquiry (the entry's detail names the new status). A publication is
    /// published when it is approved for its time (`publication.approved`); a drill is not
    /// a crisis.
    pub fn of_audit(action: &str, detail: &str) -> Option<Event> {
        match action {
            "inquiry.created" => Some(Event::InquiryCreated),
            "inquiry.replied" => Some(Event::InquiryReplied),
            "inquiry.assigned" => Some(Event::InquiryAssigned),
            "inquiry.status" if detail.split_whitespace().any(|w| w.ends_with("closed")) => {
                Some(Event::InquiryClosed)
            }
            "publication.approved" => Some(Event::PublicationPublished),
            "crisis.started" => Some(Event::CrisisStarted),
            "crisis.updated" => Some(Event::CrisisUpdated),
            "crisis.ended" => Some(Event::CrisisEnded),
            _ => None,
        }
    }
}

/// Events as written in settings: comma-separated names.
pub fn parse_events(list: &str) -> Result<Vec<Event>, UnknownEvent> {
    let mut out = vec![];
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let e = Event::parse(name).ok_or_else(|| UnknownEvent(name.to_string()))?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out.sort();
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not an event; choose among inquiry.created, inquiry.replied, inquiry.assigned, inquiry.closed, publication.published, crisis.started, crisis.updated and crisis.ended"
)]
pub struct UnknownEvent(pub String);

/// Why an address cannot receive webhooks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} cannot receive webhooks: give an https address (http only to this machine), e.g. https://sak.kommune.no/torg-hendelser"
)]
pub struct BadUrl(pub String);

/// The receiver's host, if `url` may receive webhooks: https, or http to this machine (a
/// local integration); no user or password in it.
pub fn url_host(url: &str) -> Result<String, BadUrl> {
    let bad = || BadUrl(url.to_string());
    let parsed = url::Url::parse(url.trim()).map_err(|_| bad())?;
    let host = parsed.host_str().ok_or_else(bad)?.to_string();
    let local = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err(bad()),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad());
    }
    Ok(host)
}

/// The header's name.
pub const SIGNATURE_HEADER: &str = "Torg-Signature";
/// How old a signed timestamp a receiver should accept.
pub const TOLERANCE_SECONDS: i64 = 300;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Torg-Signature` value of `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        crate::hex(&mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Why a receiver refuses a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSignature {
    #[error("the signature header is missing or not t=…,v1=…")]
    Malformed,
    #[error("the timestamp is more than five minutes from now (a replay?)")]
    Stale,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a `Torg-Signature` header as a receiver does (in constant time), at `now` (Unix
/// seconds).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), BadSignature> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(BadSignature::Malformed);
    };
    if (now - t).abs() > TOLERANCE_SECONDS {
        return Err(BadSignature::Stale);
    }
    let bytes = (0..v1.len())
        .step_by(2)
        .map(|i| {
            v1.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or(BadSignature::Malformed)?;
    mac(secret, t, body)
        .verify_slice(&bytes)
        .map_err(|_| BadSignature::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn audit_entries_become_events() {
        assert_eq!(
            Event::of_audit("inquiry.created", "2026-000001"),
            Some(Event::InquiryCreated)
        );
        assert_eq!(
            Event::of_audit("inquiry.status", "closed"),
            Some(Event::InquiryClosed)
        );
        assert_eq!(Event::of_audit("inquiry.status", "open"), None);
        assert_eq!(Event::of_audit("crisis.drill_started", ""), None);
        assert_eq!(Event::of_audit("login.failed", ""), None);
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
    }

    #[test]
    fn only_https_or_this_machine_receives() {
        assert_eq!(
            url_host("https://sak.kommune.no/h"),
            Ok("sak.kommune.no".into())
        );
        assert_eq!(url_host("http://127.0.0.1:9000/h"), Ok("127.0.0.1".into()));
        assert!(url_host("http://sak.kommune.no/h").is_err());
        assert!(url_host("https://user:pw@sak.kommune.no/h").is_err());
        assert!(url_host("ftp://x").is_err());
        assert!(url_host("ikke en adresse").is_err());
    }

    #[test]
    fn event_lists_parse_with_a_clear_error() {
        assert_eq!(
            parse_events("inquiry.closed, inquiry.created,inquiry.closed"),
            Ok(vec![Event::InquiryCreated, Event::InquiryClosed])
        );
        let err = parse_events("inquiry.deleted").expect_err("unknown");
        assert!(err.to_string().contains("inquiry.created"));
    }

    #[test]
    fn a_signature_is_verified_and_a_forgery_or_replay_refused() {
        let body = br#"{"event":"inquiry.created"}"#;
        let header = sign("hemmelig", 1_800_000_000, body);
        assert!(header.starts_with("t=1800000000,v1="));
        assert_eq!(verify("hemmelig", &header, body, 1_800_000_010), Ok(()));
        assert_eq!(
            verify("annen", &header, body, 1_800_000_010),
            Err(BadSignature::Mismatch)
        );
        assert_eq!(
            verify("hemmelig", &header, b"{}", 1_800_000_010),
            Err(BadSignature::Mismatch)
        );
        assert_eq!(
            verify("hemmelig", &header, body, 1_800_001_000),
            Err(BadSignature::Stale)
        );
        assert_eq!(
            verify("hemmelig", "v1=00", body, 1_800_000_000),
            Err(BadSignature::Malformed)
        );
    }

    proptest! {
        #[test]
        fn any_body_signed_verifies_and_any_change_does_not(body in proptest::collection::vec(any::<u8>(), 0..200), flip in 0usize..200) {
            let header = sign("k", 100, &body);
            prop_assert_eq!(verify("k", &header, &body, 100), Ok(()));
            if !body.is_empty() {
                let mut changed = body.clone();
                let i = flip % changed.len();
                changed[i] ^= 1;
                prop_assert_eq!(verify("k", &header, &changed, 100), Err(BadSignature::Mismatch));
            }
        }
    }
}
