//! One email in: parsed with `mail-parser` (MIME, charsets, transfer encodings, RFC 2047
//! headers, HTML turned into text), then either a new inquiry, a message in the thread it
//! answers, an automatic message kept with its inquiry, a duplicate, or quarantined with the
//! reason. Nothing is sent back for automatic messages.

use jiff::Timestamp;
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};
use torg_core::intake::{
    Acknowledger, InquiryInput, IntakeError, IntakeLimits, TenantConfig, receive,
};
use torg_domain::InquiryId;
use torg_domain::email::{
    AutoSigns, Automatic, Refusal, automatic, blocked_extension, bracketed, new_message_id,
    refusal_notice, reply_subject,
};
use torg_domain::{Channel, MessageKind};
use torg_store::{
    MailAccount, NewAttachment, NewMessage, NewOutgoing, NewQuarantinedMail, Notice, Origin, Store,
    StoreError,
};

/// What became of a mail let out of quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// Taken in: a new inquiry, or a message on the one it answers.
    Inquiry { inquiry_id: InquiryId },
    /// It was taken in before; now it is out of quarantine.
    Duplicate,
    /// Still not acceptable (e.g. no sender to answer): it stays.
    StillQuarantined,
    /// Not (or no longer) in quarantine.
    Gone,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new inquiry (acknowledged by email).
    Created { inquiry_id: InquiryId },
    /// An answer from the citizen, added to the inquiry's thread.
    Threaded { inquiry_id: InquiryId },
    /// An auto-reply or bounce, kept with its inquiry as a note and not answered.
    Automatic { inquiry_id: InquiryId },
    /// Taken in before (fetched again after a crash, say).
    Duplicate,
    /// Kept aside for staff, with the reason.
    Quarantined { reason: String },
}

/// What taking in mail for one municipality needs.
pub struct Mailroom<'a> {
    pub store: &'a dyn Store,
    pub config: &'a TenantConfig,
    pub account: &'a MailAccount,
    pub limits: IntakeLimits,
    pub acknowledger: Option<&'a Acknowledger>,
}

/// Whether a raw message answers another (In-Reply-To or References), looking at the headers
/// only: cheap enough to sort a fetched batch.
pub fn answers_something(raw: &[u8]) -> bool {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    head.contains("\nin-reply-to:")
        || head.contains("\nreferences:")
        || head.starts_with("in-reply-to:")
        || head.starts_with("references:")
}

/// A random hex string for Message-IDs.
pub fn random_hex() -> String {
    torg_core::secrets::new_token()[..24].to_string()
}

/// The signs by which a message is told to be automatic.
fn automatic_kind(
    msg: &mail_parser::Message<'_>,
    sender: &str,
    subject: &str,
) -> Option<Automatic> {
    automatic(&AutoSigns {
        auto_submitted: msg.header_raw("Auto-Submitted"),
        precedence: msg.header_raw("Precedence"),
        x_autoreply: msg.header_raw("X-Autoreply").is_some()
            || msg.header_raw("X-Autorespond").is_some(),
        content_type: msg.header_raw("Content-Type"),
        from_address: Some(sender),
        subject: Some(subject),
    })
}

/// A mail to keep aside, without a notice to its sender.
fn aside(
    message_id: &str,
    sender: &str,
    subject: &str,
    reason: String,
    raw: &[u8],
) -> NewQuarantinedMail {
    NewQuarantinedMail {
        message_id: message_id.to_string(),
        sender: sender.to_string(),
        subject: subject.to_string(),
        reason,
        raw: raw.to_vec(),
        notice: None,
    }
}

impl Mailroom<'_> {
    async fn quarantine(
        &self,
        mail: NewQuarantinedMail,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        tracing::warn!(municipality = %self.config.municipality.slug, message_id = %mail.message_id, reason = %mail.reason, "mail quarantined");
        self.store
            .quarantine_mail(self.config.municipality.id, &mail, now)
            .await?;
        Ok(Outcome::Quarantined {
            reason: mail.reason,
        })
    }

    /// Keeps a message that breaks a limit aside and answers its sender politely, unless the
    /// message is automatic or has no sender (or is the municipality's own).
    async fn refuse(
        &self,
        mut mail: NewQuarantinedMail,
        automatic: bool,
        refusal: Refusal,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        let sender = mail.sender.as_str();
        if !sender.is_empty() && !automatic && !sender.eq_ignore_ascii_case(&self.account.address) {
            let m = &self.config.municipality;
            let (subject, body) = refusal_notice(&m.language, &m.name, &mail.subject, &refusal);
            mail.notice = Some(Notice {
                out: NewOutgoing {
                    media: None,
                    channel: Channel::Email,
                    recipient: sender.to_string(),
                    subject,
                    header_id: new_message_id(&self.account.address, &random_hex()),
                    in_reply_to: Some(mail.message_id.clone()),
                    references: vec![mail.message_id.clone()],
                },
                body,
            });
        }
        self.quarantine(mail, now).await
    }

    /// Takes one raw message in. Store errors are returned (the message stays on the server and
    /// is fetched again); everything about the message itself ends in an [`Outcome`].
    pub async fn take_in(&self, raw: &[u8], now: Timestamp) -> Result<Outcome, StoreError> {
        self.receive(raw, now, true).await
    }

    /// Takes in a message staff let out of quarantine: the size and attachment-type limits
    /// no longer apply (a person has looked at it); everything else does.
    pub async fn take_in_released(
        &self,
        raw: &[u8],
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        self.receive(raw, now, false).await
    }

    /// Staff let quarantined mail `id` out (`actor`, who looked at it): it is taken in as
    /// [`take_in_released`](Self::take_in_released) does, and leaves quarantine with its audit
    /// entry only once it is taken in (or was already, as a duplicate).
    pub async fn release(
        &self,
        actor: &torg_core::actor::Actor,
        id: i64,
        now: Timestamp,
    ) -> Result<Released, StoreError> {
        let tenant = self.config.municipality.id;
        let Some(raw) = self.store.quarantined_raw(tenant, id).await? else {
            return Ok(Released::Gone);
        };
        let inquiry = match self.take_in_released(&raw, now).await? {
            Outcome::Created { inquiry_id }
            | Outcome::Threaded { inquiry_id }
            | Outcome::Automatic { inquiry_id } => Some(inquiry_id),
            Outcome::Duplicate => None,
            Outcome::Quarantined { .. } => return Ok(Released::StillQuarantined),
        };
        let entry = actor.entry(
            "mail.released",
            inquiry.map(|i| format!("inquiry:{i}")).unwrap_or_default(),
            format!("quarantine:{id}"),
        );
        match self.store.remove_quarantined(tenant, id, Some(entry)).await {
            // Released twice at once: the mail is stored once (its Message-ID), and gone here.
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        Ok(match inquiry {
            Some(inquiry_id) => Released::Inquiry { inquiry_id },
            None => Released::Duplicate,
        })
    }

    async fn receive(
        &self,
        raw: &[u8],
        now: Timestamp,
        limits: bool,
    ) -> Result<Outcome, StoreError> {
        let tenant = self.config.municipality.id;
        let checks = limits.then_some(Checks {
            max_message_bytes: self.account.max_message_bytes,
            max_attachment_bytes: self.limits.max_attachment_bytes,
            blocked_extensions: &self.account.blocked_extensions,
        });
        let Mail {
            message_id,
            subject,
            sender,
            sender_name,
            auto,
            body,
            attachments,
            thread_ids,
        } = match read(raw, checks) {
            Reading::Mail(m) => m,
            Reading::Aside(a) => {
                let mail = aside(&a.message_id, &a.sender, &a.subject, a.reason, raw);
                return match a.refusal {
                    Some((refusal, automatic)) => self.refuse(mail, automatic, refusal, now).await,
                    None => self.quarantine(mail, now).await,
                };
            }
        };
        let mut inquiry_id = None;
        for id in thread_ids.iter().rev() {
            if let Some(found) = self.store.inquiry_by_mail_id(tenant, id).await? {
                inquiry_id = Some(found);
                break;
            }
        }
        // Or one that quotes its reference, from the same address.
        if inquiry_id.is_none()
            && let Some(reference) = torg_domain::reference::find_in(&subject)
            && let Some(found) = self
                .store
                .inquiry_by_reference(tenant, &reference.to_string())
                .await?
            && let Some(inquiry) = self.store.inquiry(tenant, found).await?
            && inquiry
                .contact_email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&sender))
        {
            inquiry_id = Some(found);
        }

        if let Some(inquiry_id) = inquiry_id {
            let kind = if auto.is_some() {
                MessageKind::Note
            } else {
                MessageKind::Inbound
            };
            let body = match auto {
                Some(_) => format!("Automatisk svar fra {sender}: {subject}\n\n{body}"),
                None => body,
            };
            let new = NewMessage {
                kind,
                author_user_id: None,
                author_name: sender_name,
                body: truncate(&body, self.limits.text.max_text_bytes),
                attachments,
                created_at: now,
                external_id: Some(message_id),
                outgoing: None,
            };
            return match self.store.add_message(tenant, inquiry_id, new, None).await {
                Ok(_) if auto.is_some() => Ok(Outcome::Automatic { inquiry_id }),
                Ok(_) => Ok(Outcome::Threaded { inquiry_id }),
                Err(StoreError::Conflict(_)) => Ok(Outcome::Duplicate),
                Err(e) => Err(e),
            };
        }
        if let Some(kind) = auto {
            let reason = format!("an automatic message ({kind:?}) that answers no inquiry");
            let mail = aside(&message_id, &sender, &subject, reason, raw);
            return self.quarantine(mail, now).await;
        }

        let acknowledge_by = NewOutgoing {
            media: None,
            channel: Channel::Email,
            recipient: sender.clone(),
            subject: reply_subject(Some(&subject), "{referanse}"),
            header_id: new_message_id(&self.account.address, &random_hex()),
            in_reply_to: Some(message_id.clone()),
            references: vec![message_id.clone()],
        };
        let input = InquiryInput {
            citizen_name: truncate(&sender_name, 200),
            email: Some(sender.clone()),
            subject: Some(truncate(&subject, 200)).filter(|s| !s.is_empty()),
            body: truncate(&body, self.limits.text.max_text_bytes),
            external_id: Some(message_id.clone()),
            attachments,
            origin: Origin {
                actor: "email".into(),
                source: sender.clone(),
            },
            acknowledge_by: Some(acknowledge_by),
            ..Default::default()
        };
        let intake_limits = if limits {
            self.limits
        } else {
            IntakeLimits {
                max_attachment_bytes: usize::MAX,
                ..self.limits
            }
        };
        match receive(
            self.store,
            self.config,
            Channel::Email,
            input,
            intake_limits,
            now,
            self.acknowledger,
        )
        .await
        {
            Ok(r) if r.created.created => Ok(Outcome::Created {
                inquiry_id: r.created.inquiry.id,
            }),
            Ok(_) => Ok(Outcome::Duplicate),
            Err(IntakeError::Store(e)) => Err(e),
            Err(e) => {
                let reason = format!("not accepted: {e}");
                let mail = aside(&message_id, &sender, &subject, reason, raw);
                self.quarantine(mail, now).await
            }
        }
    }
}

/// The limits a message is read against (none for one staff let out of quarantine).
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    pub max_message_bytes: i64,
    pub max_attachment_bytes: usize,
    pub blocked_extensions: &'a [String],
}

/// A readable message, as the mailroom takes it in.
#[derive(Debug, Clone)]
pub struct Mail {
    pub message_id: String,
    pub subject: String,
    pub sender: String,
    pub sender_name: String,
    pub auto: Option<Automatic>,
    pub body: String,
    pub attachments: Vec<NewAttachment>,
    /// In-Reply-To and References, oldest first.
    pub thread_ids: Vec<String>,
}

/// A message kept aside, with the reason; with a refusal (and whether it is automatic) when
/// its sender is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aside {
    pub message_id: String,
    pub sender: String,
    pub subject: String,
    pub reason: String,
    pub refusal: Option<(Refusal, bool)>,
}

/// What reading a raw message gave.
#[derive(Debug, Clone)]
pub enum Reading {
    Mail(Mail),
    Aside(Aside),
}

/// Reads one raw message (MIME, charsets, transfer encodings, RFC 2047 headers) against
/// `checks`: pure, so any bytes at all give a [`Reading`], never a panic (`torg-bench fuzz`).
pub fn read(raw: &[u8], checks: Option<Checks<'_>>) -> Reading {
    // A message without a Message-ID is named by its content, so a refetch is still known.
    let content_id = || {
        let hex = torg_domain::hex(&Sha256::digest(raw)[..16]);
        format!("<{hex}@no-message-id.invalid>")
    };
    let put_aside = |message_id: &str, sender: &str, subject: &str, reason: String, refusal| {
        Reading::Aside(Aside {
            message_id: message_id.to_string(),
            sender: sender.to_string(),
            subject: subject.to_string(),
            reason,
            refusal,
        })
    };
    if let Some(c) = checks
        && raw.len() as i64 > c.max_message_bytes
    {
        // Kept whole (the mail server took it in, so its own limit bounds it), so that staff
        // can still take it in; its headers say whom to answer.
        let reason = format!(
            "the message is {} bytes; the limit is {} bytes",
            raw.len(),
            c.max_message_bytes
        );
        let head = MessageParser::default().parse_headers(raw);
        let message_id = head
            .as_ref()
            .and_then(|h| h.message_id())
            .map(bracketed)
            .unwrap_or_else(content_id);
        let subject = head
            .as_ref()
            .and_then(|h| h.subject())
            .unwrap_or("")
            .trim()
            .to_string();
        let sender = head
            .as_ref()
            .and_then(|h| h.from()?.first()?.address())
            .unwrap_or("")
            .to_string();
        let auto = head
            .as_ref()
            .is_some_and(|h| automatic_kind(h, &sender, &subject).is_some());
        let refusal = Refusal::TooLarge {
            bytes: raw.len() as u64,
            limit: c.max_message_bytes.max(0) as u64,
        };
        return put_aside(
            &message_id,
            &sender,
            &subject,
            reason,
            Some((refusal, auto)),
        );
    }
    let Some(msg) = MessageParser::default().parse(raw) else {
        return put_aside(
            &content_id(),
            "",
            "",
            "not a readable email message".into(),
            None,
        );
    };
    let message_id = msg.message_id().map(bracketed).unwrap_or_else(content_id);
    let subject = msg.subject().unwrap_or("").trim().to_string();
    let from = msg.from().and_then(|f| f.first());
    let Some(sender) = from.and_then(|a| a.address()).map(str::to_string) else {
        let reason = "the message has no sender address".to_string();
        return put_aside(&message_id, "", &subject, reason, None);
    };
    let auto = automatic_kind(&msg, &sender, &subject);
    let sender_name = from
        .and_then(|a| a.name())
        .map(str::to_string)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| sender.split('@').next().unwrap_or(&sender).to_string());
    let text = msg
        .body_text(0)
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let mut attachments = vec![];
    for part in msg.attachments() {
        let data = part.contents().to_vec();
        let filename = part.attachment_name().unwrap_or("vedlegg").to_string();
        if let Some(c) = checks
            && data.len() > c.max_attachment_bytes
        {
            let reason = format!(
                "the attachment {filename:?} is {} bytes; the limit is {} bytes",
                data.len(),
                c.max_attachment_bytes
            );
            let refusal = Refusal::TooLarge {
                bytes: data.len() as u64,
                limit: c.max_attachment_bytes as u64,
            };
            return put_aside(
                &message_id,
                &sender,
                &subject,
                reason,
                Some((refusal, auto.is_some())),
            );
        }
        if let Some(c) = checks
            && let Some(ext) = blocked_extension(&filename, c.blocked_extensions)
        {
            let reason = format!("the attachment {filename:?} is of a blocked type (.{ext})");
            let refusal = Refusal::BlockedType { filename };
            return put_aside(
                &message_id,
                &sender,
                &subject,
                reason,
                Some((refusal, auto.is_some())),
            );
        }
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{sub}", c.ctype()),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        attachments.push(NewAttachment {
            filename,
            content_type,
            data,
        });
    }
    let body = if text.is_empty() && !attachments.is_empty() {
        format!("({} vedlegg)", attachments.len())
    } else {
        text
    };
    if body.is_empty() {
        return put_aside(
            &message_id,
            &sender,
            &subject,
            "the message has no text".into(),
            None,
        );
    }
    // An answer to one of ours, or to an earlier message of the thread.
    let mut thread_ids: Vec<String> = vec![];
    for header in [msg.in_reply_to(), msg.references()] {
        if let Some(list) = header.as_text_list() {
            thread_ids.extend(list.iter().map(|s| bracketed(s)));
        } else if let Some(one) = header.as_text() {
            thread_ids.push(bracketed(one));
        }
    }
    Reading::Mail(Mail {
        message_id,
        subject,
        sender,
        sender_name,
        auto,
        body,
        attachments,
        thread_ids,
    })
}

/// At most `max` bytes, cut at a character boundary.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_told_from_new_conversations_by_their_headers() {
        assert!(answers_something(
            b"From: a@b\r\nIn-Reply-To: <x@y>\r\n\r\nHei"
        ));
        assert!(answers_something(b"References: <x@y>\nFrom: a@b\n\nHei"));
        assert!(!answers_something(
            b"From: a@b\r\nSubject: Hei\r\n\r\nIn-Reply-To: in the body"
        ));
        assert!(!answers_something(b""));
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("grøft", 3), "gr");
        assert_eq!(truncate("grøft", 4), "grø");
        assert_eq!(truncate("kort", 100), "kort");
    }
}
