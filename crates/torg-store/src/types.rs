use jiff::Timestamp;
use serde::Serialize;
use torg_domain::{
    Channel, InquiryId, InquiryStatus, MessageKind, Priority, Reference, Role, TenantId, UnitId,
    UserId,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Municipality {
    pub id: TenantId,
    /// Short name used in URLs and CLI flags, e.g. `demo`.
    pub slug: String,
    pub name: String,
    /// IANA time zone, e.g. Europe/Oslo.
    pub time_zone: String,
    /// Interface and reply language: nb, nn, sv or en.
    pub language: String,
}

#[derive(Debug, Clone)]
pub struct NewMunicipality {
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub id: UnitId,
    pub tenant_id: TenantId,
    pub name: String,
    /// The service desk (servicetorget) gets what no routing rule claims.
    pub is_service_desk: bool,
    /// Health and social care and the like: only the unit's members see its inquiries.
    pub sensitive: bool,
}

impl Unit {
    pub fn access(&self) -> torg_domain::UnitAccess {
        torg_domain::UnitAccess {
            id: self.id,
            sensitive: self.sensitive,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub username: String,
    pub full_name: String,
    #[serde(skip)]
    pub password_hash: String,
    /// The administrator who set the current password, if one did (not the person themselves,
    /// nor the operator at the command line).
    pub password_set_by: Option<UserId>,
    pub role: Role,
    /// The user's home unit, used in the signature.
    pub unit_id: Option<UnitId>,
    /// The units whose inquiries the user works with (medlemskap), sorted.
    pub member_of: Vec<UnitId>,
    /// A deactivated user cannot log in.
    pub active: bool,
    /// Failed logins since the last successful one.
    pub failed_logins: i64,
    /// Locked out until then after repeated failed logins.
    pub locked_until: Option<Timestamp>,
    /// The user's subject at the identity provider, for single sign-on.
    pub external_subject: Option<String>,
    /// Where deadline warnings go.
    pub email: Option<String>,
}

impl User {
    /// What the user may see and do.
    pub fn access(&self) -> torg_domain::Access {
        torg_domain::Access::new(self.role, self.member_of.clone())
    }

    /// The first word of the full name, used to sign replies.
    pub fn first_name(&self) -> &str {
        self.full_name
            .split_whitespace()
            .next()
            .unwrap_or(&self.username)
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub full_name: String,
    pub password_hash: String,
    /// The administrator who gave the password, if one did.
    pub password_set_by: Option<UserId>,
    pub role: Role,
    pub unit_id: Option<UnitId>,
    /// Where deadline warnings go.
    pub email: Option<String>,
}

/// A change to a user by an administrator.
#[derive(Debug, Clone)]
pub struct UserUpdate {
    pub full_name: String,
    pub role: Role,
    pub unit_id: Option<UnitId>,
    pub active: bool,
    pub email: Option<String>,
}

/// An administrator's change to a user, written in one transaction: the fields, the unit
/// memberships, the lock and the password; the user's open sessions end when they lose
/// access or get a new password.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub update: UserUpdate,
    /// The units the user is a member of (replacing the old ones); `None` keeps them.
    pub memberships: Option<Vec<UnitId>>,
    /// Lift a lockout after failed logins.
    pub unlock: bool,
    /// A new password's hash, and the administrator who set it.
    pub password_hash: Option<(String, Option<UserId>)>,
}

/// Which audit entries to show, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Substring of the actor, e.g. `user:3`.
    pub actor: Option<String>,
    /// Prefix of the action, e.g. `inquiry.` or `login`.
    pub action: Option<String>,
    /// Substring of the object, e.g. `inquiry:42`.
    pub object: Option<String>,
    /// Only entries before this sequence number (the cursor of the next page).
    pub before_seq: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// Every form of the session carries this token (CSRF protection).
    pub csrf_token: String,
    pub expires_at: Timestamp,
    /// When it was last used (kept to the minute): unused for too long, it is over.
    pub last_seen_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub tenant_id: TenantId,
    pub name: String,
    /// The units whose inquiries it reaches; empty: every unit that is not sensitive.
    pub units: Vec<UnitId>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl ApiToken {
    /// Whether it may be used at `now`: not revoked, not expired.
    pub fn is_valid(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// A new API token (its hash; the token itself is shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    pub name: String,
    pub token_hash: String,
    pub units: Vec<UnitId>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CannedReply {
    pub id: i64,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentMeta {
    pub id: i64,
    pub inquiry_id: InquiryId,
    pub message_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone)]
pub struct NewInquiry {
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub topic: Option<String>,
    pub subject: Option<String>,
    pub citizen_name: String,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub language: String,
    pub unit_id: UnitId,
    pub priority: Priority,
    /// SHA-256 of the follow link's token; the token itself is never stored.
    pub follow_token_hash: String,
    pub body: String,
    pub attachments: Vec<NewAttachment>,
    pub received_at: Timestamp,
    /// The year of the reference, in the municipality's time zone.
    pub reference_year: i16,
    pub deadline_at: Timestamp,
    /// The connector's id of the message (e.g. Message-ID), for idempotent retries.
    pub external_id: Option<String>,
    /// A private conversation's key: later messages join the open inquiry that has it.
    pub thread_key: Option<String>,
    /// The automatic acknowledgement, written in the same transaction. `{referanse}` and
    /// `{id}` in its body are filled in by the store when the inquiry gets them.
    pub acknowledgement: Option<NewAcknowledgement>,
    /// Who created it and from where: the audit entry is written with the inquiry.
    pub origin: Origin,
}

/// The author of a change as the audit log records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// E.g. `citizen`, `api:<token name>`, `user:3`, `cli`.
    pub actor: String,
    /// The client's address, when known.
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct Created {
    pub inquiry: Inquiry,
    /// False when an inquiry with the same external id existed already.
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inquiry {
    pub id: InquiryId,
    pub tenant_id: TenantId,
    pub reference: Reference,
    pub channel: Channel,
    pub status: InquiryStatus,
    pub topic: Option<String>,
    pub subject: Option<String>,
    pub citizen_name: String,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub language: String,
    pub unit_id: UnitId,
    pub assignee_id: Option<UserId>,
    pub priority: Priority,
    pub preview: String,
    pub received_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub first_answer_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub deadline_at: Timestamp,
    pub updated_at: Timestamp,
    pub external_id: Option<String>,
    /// Merged by staff into this (older) inquiry of the same matter, whose thread shows this
    /// one's messages and whose status and deadline stand for both.
    pub merged_into: Option<InquiryId>,
}

/// A row of the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InquirySummary {
    pub id: InquiryId,
    pub reference: Reference,
    pub channel: Channel,
    pub status: InquiryStatus,
    pub topic: Option<String>,
    /// The email's subject line, or none.
    pub subject: Option<String>,
    pub citizen_name: String,
    pub unit_id: UnitId,
    pub assignee_id: Option<UserId>,
    pub priority: Priority,
    pub preview: String,
    pub received_at: Timestamp,
    pub deadline_at: Timestamp,
}

impl InquirySummary {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            deadline_at: self.deadline_at.as_millisecond(),
            received_at: self.received_at.as_millisecond(),
            id: self.id,
        }
    }
}

/// Which statuses to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Everything that is not closed (the default inbox).
    #[default]
    NotClosed,
    Only(InquiryStatus),
    Any,
}

#[derive(Debug, Clone, Default)]
pub struct InquiryFilter {
    pub unit_id: Option<UnitId>,
    pub status: StatusFilter,
    pub channel: Option<Channel>,
    pub assignee_id: Option<UserId>,
    /// The reference exactly, or words that must all be in the search index (name, contacts,
    /// subject, messages; `torg_domain::search` gives the word forms).
    pub search: Option<String>,
    /// Only inquiries of these units (what the staff member may see); `None` for all.
    pub visible_units: Option<Vec<UnitId>>,
}

/// Keyset position in the (deadline, received, id) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub deadline_at: i64,
    pub received_at: i64,
    pub id: InquiryId,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.deadline_at, self.received_at, self.id)
    }
    pub fn decode(s: &str) -> Option<Cursor> {
        let mut it = s.split('.');
        let c = Cursor {
            deadline_at: it.next()?.parse().ok()?,
            received_at: it.next()?.parse().ok()?,
            id: it.next()?.parse().ok()?,
        };
        it.next().is_none().then_some(c)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: i64,
    pub inquiry_id: InquiryId,
    pub kind: MessageKind,
    pub author_user_id: Option<UserId>,
    /// The citizen's name or the staff member's full name.
    pub author_name: String,
    pub body: String,
    pub created_at: Timestamp,
    pub attachments: Vec<AttachmentMeta>,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub kind: MessageKind,
    pub author_user_id: Option<UserId>,
    pub author_name: String,
    pub body: String,
    pub attachments: Vec<NewAttachment>,
    pub created_at: Timestamp,
    /// The email's Message-ID (inbound): a message with one already stored is not stored again.
    pub external_id: Option<String>,
    /// Send the message: an outbox entry written in the same transaction.
    pub outgoing: Option<NewOutgoing>,
}

/// A message to deliver on its channel (email now; SMS and social media later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutgoing {
    pub channel: Channel,
    /// The address (email) or number (SMS) to send to.
    pub recipient: String,
    pub subject: String,
    /// The email's Message-ID, chosen once so that a retry is the same message.
    pub header_id: String,
    pub in_reply_to: Option<String>,
    /// Earlier Message-IDs of the thread, oldest first.
    pub references: Vec<String>,
    /// A picture to post with the text (a public https address), for the networks that take
    /// one; `None` for the rest.
    pub media: Option<String>,
}

/// An outbox entry claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub tenant_id: TenantId,
    /// None for a [`Notice`].
    pub inquiry_id: Option<InquiryId>,
    pub message_id: Option<i64>,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    /// The message's text, as stored.
    pub body: String,
    pub header_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// A picture to post with the text ([`NewOutgoing::media`]).
    pub media: Option<String>,
    /// For a subscriber's message: the one-step unsubscribe address (RFC 8058).
    pub unsubscribe: Option<String>,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// How the delivery of a message stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting to be sent, or to be tried again.
    Pending {
        attempts: i64,
        last_error: Option<String>,
    },
    Sent {
        at: Timestamp,
    },
    /// The phone network reported it delivered (SMS delivery report).
    Delivered {
        at: Timestamp,
    },
    /// The phone network reported it could not be delivered.
    Undelivered {
        report: String,
    },
    /// Given up: the server refused for good.
    Failed {
        attempts: i64,
        error: String,
    },
}

/// A municipality's mailbox: read over IMAP, sent through SMTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAccount {
    /// The municipality's address, e.g. postmottak@nordby.kommune.no (From and Reply-To).
    pub address: String,
    pub display_name: String,
    pub imap: MailServer,
    pub imap_folder: String,
    pub smtp: MailServer,
    /// Larger messages are quarantined and get a polite answer.
    pub max_message_bytes: i64,
    /// Attachment file extensions not taken in (lower case, no dots); such a message is
    /// quarantined and gets a polite answer.
    pub blocked_extensions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailServer {
    pub host: String,
    pub port: u16,
    /// `tls`, `starttls` or `plain` (plain only for local tests).
    pub security: String,
    pub user: String,
    pub password: String,
}

impl MailAccount {
    /// What must never appear in an error text: both servers' passwords.
    pub fn secrets(&self) -> Vec<String> {
        vec![self.imap.password.clone(), self.smtp.password.clone()]
    }
}

/// A mail to keep aside, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuarantinedMail {
    pub message_id: String,
    pub sender: String,
    pub subject: String,
    pub reason: String,
    pub raw: Vec<u8>,
    /// An automatic answer to the sender, queued in the same transaction.
    pub notice: Option<Notice>,
}

/// An automatic message that belongs to no inquiry (e.g. "your message was too large"),
/// sent through the outbox like any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub out: NewOutgoing,
    pub body: String,
}

/// A mail that was not taken in, kept with the reason for staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedMail {
    pub id: i64,
    pub message_id: String,
    pub sender: String,
    pub subject: String,
    pub reason: String,
    pub size: i64,
    pub received_at: Timestamp,
}

/// A named area of a municipality (bydel, grend): its outline and the postcodes inside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Area {
    pub id: i64,
    pub name: String,
    /// The outline as (longitude, latitude) points, as GeoJSON has them.
    pub polygon: Vec<(f64, f64)>,
    pub postcodes: Vec<String>,
}

/// A topic citizens may subscribe to (vann og avløp, veg, skole…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub key: String,
    pub name: String,
}

/// A citizen's subscription: one address, what it chose, whether it is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscriber {
    pub id: i64,
    pub tenant_id: TenantId,
    pub medium: torg_domain::subscription::Medium,
    /// Lower-case email address or `+47…` number.
    pub address: String,
    /// The private link's token: the page where the citizen sees, changes and ends it.
    #[serde(skip)]
    pub token: String,
    /// Topic keys; empty: every topic.
    pub topics: Vec<String>,
    /// Area ids; empty: the whole municipality.
    pub areas: Vec<i64>,
    pub language: String,
    /// How consent was given ("portal", "sms", or what an import's file said).
    pub consent: String,
    pub confirmed_at: Option<Timestamp>,
    /// When a confirmation was last asked for, and how many times since the first.
    pub asked_at: Timestamp,
    pub asked_count: i64,
    /// Gets a drill's messages.
    pub test_recipient: bool,
}

/// A subscription as first asked for (or imported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscriber {
    pub medium: torg_domain::subscription::Medium,
    pub address: String,
    pub token: String,
    pub topics: Vec<String>,
    pub areas: Vec<i64>,
    pub language: String,
    pub consent: String,
    /// Confirmed already (an import whose file says how consent was given).
    pub confirmed: bool,
    pub test_recipient: bool,
}

/// A change of a subscription.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriberChange {
    pub topics: Option<Vec<String>>,
    pub areas: Option<Vec<i64>>,
    /// Confirmed now: the address's earlier "stop" is forgotten, since it asked again.
    pub confirm: bool,
    /// A new confirmation asked for now.
    pub asked: bool,
    pub test_recipient: Option<bool>,
}

/// A text for every confirmed subscriber who wants it, queued in the outbox as one entry each
/// that share the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast<'a> {
    pub medium: torg_domain::subscription::Medium,
    pub subject: &'a str,
    pub body: &'a str,
    /// Only subscribers of this topic (or of every topic); `None`: all.
    pub topic: Option<&'a str>,
    /// Only subscribers of one of these areas (or of the whole municipality); empty: all.
    pub areas: &'a [i64],
    /// Only the municipality's test recipients (a drill).
    pub test_only: bool,
    /// The entries' header ids start so and end with the subscriber's id (once each).
    pub header_prefix: &'a str,
    /// The address before the subscriber's token for the unsubscribe link
    /// (`https://…/k/demo/subscription/`); `…{token}/unsubscribe` follows.
    pub manage_base: &'a str,
    pub due_at: Timestamp,
}

/// How many subscribers a municipality has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SubscriberCounts {
    pub email: i64,
    pub sms: i64,
    /// Confirmed on the press list.
    pub press: i64,
    pub pending: i64,
    pub test_recipients: i64,
}

/// A declared crisis (or drill).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crisis {
    pub id: i64,
    pub tenant_id: TenantId,
    pub template: String,
    pub drill: bool,
    pub areas: Vec<i64>,
    pub all_subscribers: bool,
    pub started_by: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// A crisis to declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCrisis {
    pub template: String,
    pub drill: bool,
    pub areas: Vec<i64>,
    pub all_subscribers: bool,
    pub started_by: String,
}

/// One of a crisis's messages: the alert, an update, or the end (a CAP message each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrisisMessage {
    pub id: i64,
    pub crisis_id: i64,
    pub msg_type: torg_domain::crisis::MsgType,
    pub headline: String,
    pub text: String,
    pub instruction: String,
    pub sent_at: Timestamp,
    /// Subscribers it was queued for.
    pub recipients: i64,
}

/// A message to add to a crisis, with what it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCrisisMessage<'a> {
    pub msg_type: torg_domain::crisis::MsgType,
    pub headline: &'a str,
    pub text: &'a str,
    pub instruction: &'a str,
    pub at: Timestamp,
    /// Its SMS and emails to subscribers; their header prefix gets the message's id.
    pub broadcasts: Vec<Broadcast<'a>>,
    /// Notices of its own (staff told), queued with it.
    pub notices: Vec<Notice>,
    /// The log's line; `{n}` becomes the number of subscribers reached.
    pub log: String,
    pub actor: String,
}

/// A line of the crisis log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrisisLogEntry {
    pub id: i64,
    pub at: Timestamp,
    /// `auto` (stamped by Torg), `note`, `decision` or `press`.
    pub kind: String,
    pub text: String,
    pub actor: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            deadline_at: 1,
            received_at: -2,
            id: InquiryId(3),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("1.2"), None);
        assert_eq!(Cursor::decode("1.2.3.4"), None);
        assert_eq!(Cursor::decode("a.b.c"), None);
    }
}

/// A day the municipality closes (or, with `closes_at`, closes early).
/// One of the municipality's casework settings, by what identifies it (to remove it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyItem {
    RoutingRule(i64),
    CannedReply(i64),
    DeadlinePolicy(i64),
    ClosedDay(jiff::civil::Date),
    Peak(i64),
    /// A unit's or channel's own opening hours (they then follow the municipality's again).
    ScopedHours(torg_domain::calendar::HoursScope),
}

impl PolicyItem {
    /// The audit object, e.g. `rule:4`, `date:2026-12-24`.
    pub fn object(&self) -> String {
        match self {
            PolicyItem::RoutingRule(id) => format!("rule:{id}"),
            PolicyItem::CannedReply(id) => format!("canned:{id}"),
            PolicyItem::DeadlinePolicy(id) => format!("policy:{id}"),
            PolicyItem::ClosedDay(d) => format!("date:{d}"),
            PolicyItem::Peak(id) => format!("peak:{id}"),
            PolicyItem::ScopedHours(scope) => scope.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedDay {
    pub date: jiff::civil::Date,
    pub closes_at: Option<jiff::civil::Time>,
    pub note: String,
}

/// What an open inquiry's deadline is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineInput {
    pub id: InquiryId,
    pub channel: Channel,
    pub unit_id: UnitId,
    pub topic: Option<String>,
    pub received_at: Timestamp,
    pub deadline_at: Timestamp,
}

/// How a unit stands against its deadlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitDeadlineCounts {
    pub unit_id: UnitId,
    pub open: i64,
    /// Past the warning share of their time, not yet overdue.
    pub warning: i64,
    pub overdue: i64,
}

/// The acknowledgement of a new inquiry (see [`NewInquiry::acknowledgement`]).
#[derive(Debug, Clone)]
pub struct NewAcknowledgement {
    pub author_name: String,
    pub body: String,
    /// Send it on the inquiry's own channel (email).
    pub outgoing: Option<NewOutgoing>,
}

impl NewAcknowledgement {
    /// The body with the reference and id filled in.
    pub fn body_for(&self, reference: &str, id: InquiryId) -> String {
        self.body
            .replace("{referanse}", reference)
            .replace("{id}", &id.to_string())
    }
}

/// A municipality's identity provider for single sign-on (OpenID Connect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProvider {
    /// The issuer URL; its `/.well-known/openid-configuration` is read at login.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The ID token claim that carries roles or groups.
    pub role_claim: String,
    /// `claim-value=role, …` (see `torg_domain::access::parse_role_map`).
    pub role_map: String,
}

/// An official account of the municipality (kanaloversikt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelAccount {
    pub id: i64,
    pub channel: Channel,
    /// What people see, e.g. "Nordby kommune" (the Facebook page).
    pub name: String,
    /// Where it is: a page URL, a handle, a number, an address.
    pub address: String,
    /// The unit that answers for it.
    pub owner_unit_id: Option<UnitId>,
    pub purpose: String,
    pub ambition: torg_domain::registry::Ambition,
    pub opening_hours: String,
    pub status: torg_domain::registry::AccountStatus,
    pub proposed_by: Option<UserId>,
    /// Who approved or retired it, and when.
    pub decided_by: Option<UserId>,
    pub decided_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A proposed account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChannelAccount {
    pub channel: Channel,
    pub name: String,
    pub address: String,
    pub owner_unit_id: Option<UnitId>,
    pub purpose: String,
    pub ambition: torg_domain::registry::Ambition,
    pub opening_hours: String,
    pub proposed_by: Option<UserId>,
}

/// A municipality's SMS gateway: Kannel's sendsms HTTP interface out, its get-url callback in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsGateway {
    /// e.g. http://127.0.0.1:13013/cgi-bin/sendsms
    pub sendsms_url: String,
    pub username: String,
    /// Sealed at rest, like the mail passwords.
    pub password: String,
    /// The municipality's number or short code the messages come from.
    pub sender: String,
    /// The secret the gateway's callbacks carry (`key=`), so that nobody else can post SMS.
    pub inbound_key: String,
}

impl SmsGateway {
    /// What must never appear in an error text: the password and the callbacks' key.
    pub fn secrets(&self) -> Vec<String> {
        vec![self.password.clone(), self.inbound_key.clone()]
    }
}

/// A code word (kodeord): an SMS starting with it goes to a unit and/or is answered at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsKeyword {
    /// Folded as `torg_domain::sms::fold_keyword` does.
    pub keyword: String,
    pub unit_id: Option<UnitId>,
    /// An automatic answer; empty for none.
    pub reply: String,
}

/// How a connector of a municipality last went: the mailbox (`imap`), outgoing mail (`smtp`),
/// the SMS gateway (`sms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorStatus {
    pub tenant_id: TenantId,
    pub connector: String,
    pub ok: bool,
    /// What it did, or the error.
    pub detail: String,
    pub at: Timestamp,
}

/// A social-media account the municipality receives and answers from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialAccount {
    pub tenant_id: TenantId,
    /// Facebook, Instagram or Mastodon.
    pub channel: Channel,
    /// The page id, Instagram account id or Mastodon account id, as the network names it.
    pub account: String,
    /// e.g. https://graph.facebook.com/v21.0, or the Mastodon server https://mastodon.example
    pub api_base: String,
    /// Sealed at rest, like the mail passwords.
    pub access_token: String,
    /// Meta's app secret, which signs its webhooks (sealed); empty for Mastodon.
    pub app_secret: String,
    /// What Meta's webhook handshake must echo.
    pub verify_token: String,
    /// The account's address in the channel registry: only an approved one receives or sends.
    pub registry_address: String,
    /// Mastodon: the newest notification read.
    pub cursor: String,
    /// Whether the registry has it approved (read, never written).
    pub approved: bool,
}

impl SocialAccount {
    /// What must never appear in an error text: the access token, the app secret and the
    /// webhook handshake's token.
    pub fn secrets(&self) -> Vec<String> {
        vec![
            self.access_token.clone(),
            self.app_secret.clone(),
            self.verify_token.clone(),
        ]
    }
}

/// The archivist's decision on an inquiry (arkivvurdering) and what the public journal
/// screens of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveRecord {
    pub inquiry_id: InquiryId,
    pub decision: torg_domain::archive::ArchiveDecision,
    /// Torg's reasons when the decision was made, comma-separated (`application,attachments`).
    pub reasons: String,
    /// The archivist; `None` for decisions made outside the web (the demo data, the CLI).
    pub decided_by: Option<UserId>,
    pub decided_at: Timestamp,
    pub screening: torg_domain::archive::Screening,
}

/// An archive-worthy inquiry with the messages that went in and out (not internal notes, not
/// the automatic acknowledgement), each with its attachments' metadata.
#[derive(Debug, Clone)]
pub struct ArchiveCase {
    pub inquiry: Inquiry,
    pub record: ArchiveRecord,
    pub messages: Vec<Message>,
}

/// One line of the public journal (offentlig postliste): a message in or out of an inquiry the
/// archivist kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    pub message_id: i64,
    pub inquiry_id: InquiryId,
    pub reference: Reference,
    pub kind: MessageKind,
    pub date: Timestamp,
    pub subject: Option<String>,
    pub topic: Option<String>,
    pub preview: String,
    pub citizen_name: String,
    pub unit_id: UnitId,
    /// The staff member who wrote an outgoing message.
    pub author_name: String,
    pub attachments: i64,
    pub screening: torg_domain::archive::Screening,
}

/// A closed inquiry the retention job looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionCandidate {
    pub id: InquiryId,
    pub closed_at: Timestamp,
    /// What Torg's proposal needs besides the messages.
    pub topic: Option<String>,
    pub subject: Option<String>,
    pub decision: Option<torg_domain::archive::ArchiveDecision>,
}

/// What the retention job deleted: the reference, dates and counts, never the content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletionRecord {
    pub reference: String,
    pub channel: Channel,
    pub received_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub deleted_at: Timestamp,
    pub messages: i64,
    pub attachments: i64,
    pub reason: String,
}

/// An item of the annual wheel (årshjul).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelItem {
    pub id: i64,
    pub tenant_id: TenantId,
    pub item: NewWheelItem,
    pub created_at: Timestamp,
}

/// An item of the annual wheel as planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWheelItem {
    pub title: String,
    pub description: String,
    /// The unit it belongs to; `None`: the whole municipality.
    pub unit_id: Option<UnitId>,
    /// Who is responsible for it.
    pub responsible_user_id: Option<UserId>,
    pub target_group: String,
    pub area: String,
    pub mark: torg_domain::wheel::Mark,
    pub recurrence: torg_domain::wheel::Recurrence,
}

/// A message for publishing (written once; here for the portal's news and the staff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub id: i64,
    pub tenant_id: TenantId,
    pub title: String,
    pub body: String,
    pub language: String,
    pub state: torg_domain::publish::PubState,
    pub author_id: UserId,
    pub approved_by: Option<UserId>,
    /// The hash of the text as approved ([`torg_domain::publish::text_hash`]).
    pub approved_hash: Option<String>,
    /// When the public sees it (staff a while before).
    pub publish_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The annual wheel's item it is planned on.
    pub wheel_item_id: Option<i64>,
    /// Its picture (a public https address): shown with the news, posted with it on Facebook,
    /// needed for Instagram.
    pub image_url: Option<String>,
    /// News or a press release.
    pub kind: torg_domain::publish::Kind,
}

/// A message's text, picture and time as changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicationEdit<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub image_url: Option<&'a str>,
    pub publish_at: Timestamp,
    /// The networks' own texts ([`NewPublication::variants`]), replacing the old ones.
    pub variants: &'a [(Channel, String)],
}

/// An entry of the media log (medielogg).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaEntry {
    pub id: i64,
    pub kind: torg_domain::press::MediaKind,
    /// When the contact was (for a flagged story: when it was flagged).
    pub at: Timestamp,
    pub outlet: String,
    pub person: String,
    pub topic: String,
    pub notes: String,
    /// The inquiry a flagged story is about.
    pub inquiry_id: Option<InquiryId>,
    /// Who wrote the entry.
    pub by_user: UserId,
}

/// A message in another language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationVersion {
    /// ISO 639 code, e.g. `fi`, `en`, `nn`.
    pub language: String,
    pub title: String,
    pub body: String,
}

/// One of a message's posts on another channel, and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationPost {
    pub channel: Channel,
    /// The account it goes out from (`account|publish:ID`).
    pub recipient: String,
    pub state: DeliveryState,
    /// Where the network put it, once it took it (the post's address or id).
    pub address: Option<String>,
}

/// A new message, as its author wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPublication {
    pub title: String,
    pub body: String,
    pub language: String,
    pub author_id: UserId,
    pub publish_at: Timestamp,
    /// The annual wheel's item it is planned on.
    pub wheel_item_id: Option<i64>,
    /// Its picture ([`Publication::image_url`]).
    pub image_url: Option<String>,
    /// News or a press release.
    pub kind: torg_domain::publish::Kind,
    /// Its own text for a network, where the writer gave one (read with
    /// `Publishing::publication_variants`).
    pub variants: Vec<(Channel, String)>,
}

/// A municipality's publishing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishingSettings {
    /// Nobody approves their own text.
    pub four_eyes: bool,
    /// How long before the public staff see a message.
    pub staff_lead_minutes: u32,
}

impl Default for PublishingSettings {
    fn default() -> Self {
        PublishingSettings {
            four_eyes: true,
            staff_lead_minutes: 30,
        }
    }
}

/// Which inquiries an evaluation counts: received in `[from, to)`, of one unit or channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluationFilter {
    pub from: Timestamp,
    pub to: Timestamp,
    pub unit: Option<UnitId>,
    pub channel: Option<Channel>,
}

/// A period's inquiries of one channel in one unit, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChannelUnitCount {
    pub channel: Channel,
    pub unit_id: UnitId,
    pub received: i64,
    /// Answered (a first answer by staff) at all, and by the deadline.
    pub answered: i64,
    pub answered_in_time: i64,
    pub closed: i64,
    /// Closed when received (calls answered on the phone at once).
    pub closed_at_once: i64,
    /// Answered by staff within a day.
    pub answered_in_a_day: i64,
    /// Not answered, and past the deadline.
    pub unanswered_late: i64,
}

/// What the store counts for an evaluation (aggregated in SQL; `torg_domain::evaluation`
/// turns it into figures).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvaluationCounts {
    pub by_channel_unit: Vec<ChannelUnitCount>,
    /// (hour since the epoch, inquiries received in it).
    pub by_hour: Vec<(i64, i64)>,
    /// (duration bucket, count) of the time to the first answer and to closing.
    pub first_answer: Vec<(i64, i64)>,
    pub to_close: Vec<(i64, i64)>,
    /// Emails received; answered within a day; (hour received, hour answered, count) of
    /// those answered between one and fourteen days.
    pub emails: i64,
    pub emails_fast: i64,
    pub emails_slow: Vec<(i64, i64, i64)>,
    /// Open now and past their deadline (whenever received).
    pub overdue_now: i64,
    /// Survey questions asked about inquiries closed in the period, answers by score 1–5.
    pub surveys_sent: i64,
    pub scores: [i64; 5],
}

/// A survey answer with its comment, for the evaluation page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveyComment {
    pub score: i64,
    pub comment: String,
    pub channel: Channel,
    pub answered_at: Timestamp,
}

/// A satisfaction question due to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSurvey {
    pub id: i64,
    pub tenant_id: TenantId,
    pub inquiry_id: InquiryId,
    pub channel: Channel,
    pub due_at: Timestamp,
}

/// A satisfaction question as the citizen's link or follow page finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    pub id: i64,
    pub tenant_id: TenantId,
    pub inquiry_id: Option<InquiryId>,
    pub channel: Channel,
    pub score: Option<i64>,
}

/// What a municipality chose for its evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationSettings {
    pub costs: torg_domain::evaluation::Costs,
    /// The tables shown on the public statistics page and as open data.
    pub published: Vec<torg_domain::evaluation::Table>,
    pub licence: String,
    /// Whether citizens are asked the satisfaction question after closing.
    pub surveys: bool,
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        EvaluationSettings {
            costs: Default::default(),
            published: vec![],
            licence: torg_domain::evaluation::LICENCES[0].0.to_string(),
            surveys: true,
        }
    }
}

/// A published message and how often its portal page was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reach {
    pub publication_id: i64,
    pub title: String,
    pub publish_at: Timestamp,
    pub views: i64,
    /// The networks it went to, with the address of each post.
    pub posts: Vec<String>,
    /// What the networks last said of its posts, summed: reactions (likes, favourites),
    /// comments (replies), shares (boosts).
    pub reactions: i64,
    pub comments: i64,
    pub shares: i64,
}

/// A published message's post on a network, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPost {
    /// The outbox entry that sent it.
    pub outbox_id: i64,
    pub tenant_id: TenantId,
    pub channel: torg_domain::Channel,
    /// The account it went out from (the page, Instagram or Mastodon account id).
    pub account: String,
    /// Where the network put it: the post's address, or its id.
    pub address: String,
}

/// What a network said of one post's reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostReading {
    pub outbox_id: i64,
    pub reactions: i64,
    pub comments: i64,
    pub shares: i64,
}

/// A source listening reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListeningSource {
    pub id: i64,
    pub tenant_id: TenantId,
    pub kind: torg_domain::listening::SourceKind,
    pub name: String,
    pub address: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub cursor: Option<String>,
    pub next_check_at: Timestamp,
    pub failures: u32,
    pub last_error: Option<String>,
    pub last_checked_at: Option<Timestamp>,
}

/// How a source's check went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceChecked {
    /// `None`: it answered (new items or not modified); `Some`: why not.
    pub error: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub cursor: Option<String>,
    pub next_check_at: Timestamp,
}

/// An item that met a keyword, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewListeningMatch {
    pub item: torg_domain::listening::Item,
    pub keywords: Vec<String>,
}

/// A match on the listening page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListeningMatch {
    pub id: i64,
    pub tenant_id: TenantId,
    pub source_id: i64,
    pub source_name: String,
    pub item: torg_domain::listening::Item,
    pub keywords: Vec<String>,
    pub found_at: Timestamp,
    pub state: torg_domain::listening::MatchState,
    pub inquiry_id: Option<InquiryId>,
    pub crisis_id: Option<i64>,
    pub decided_by: Option<String>,
}

/// What was decided about a listening match, and by whom (`user:ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchDecision<'a> {
    pub state: torg_domain::listening::MatchState,
    pub inquiry: Option<InquiryId>,
    pub crisis: Option<i64>,
    /// A line for the crisis's log, written with the decision (the crisis must be the
    /// municipality's and going on, else `NotFound` and nothing is written).
    pub crisis_log: Option<&'a str>,
    pub by: &'a str,
}

/// Which node holds a job that runs once per installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobHolder {
    pub job: String,
    pub holder: String,
    /// Since when this holder has had it.
    pub taken_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An integration told of events (outgoing webhook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub tenant_id: TenantId,
    pub url: String,
    pub events: Vec<torg_domain::webhook::Event>,
    /// Sealed with the installation's key.
    pub secret: String,
    /// Audit entries up to this one are queued (or were before it was added).
    pub after_seq: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<torg_domain::webhook::Event>,
    pub secret_sealed: String,
    pub created_at: Timestamp,
}

/// One delivery of a webhook as the outbox has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookDelivery {
    pub event: String,
    /// pending, sent or failed.
    pub status: String,
    pub attempts: i64,
    /// The receiver's last answer when it was not a success (or why it could not be reached).
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}
