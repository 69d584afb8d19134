//! The storage contract of Torg, by capability: [`Directory`], [`ChannelSettings`], [`Outbox`],
//! [`Policies`], [`AuditLog`], [`Inquiries`] and [`Archive`] (none over about 40 methods), and
//! [`Store`], all of them together, implemented for SQLite (the default) and PostgreSQL in
//! `torg-store-sql`. A connector takes only the capabilities it needs.
//!
//! Architecture invariant: every method that touches tenant data takes the municipality
//! (`tenant`) and every implementation filters by it, so one municipality can never read or
//! change another's rows, even with a guessed id.

pub mod conformance;
mod types;

pub use types::*;

use async_trait::async_trait;
use torg_domain::{InquiryId, TenantId, UnitId, UserId};

/// Errors every store reports in the same way.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint was hit, e.g. a username that exists.
    #[error("already exists: {0}")]
    Conflict(String),
    /// A referenced row does not exist in this municipality.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The database failed; the cause is kept for the log, never shown to users.
    #[error("database error: {0}")]
    Database(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The largest payload a [`NodeBus`] carries, in bytes (PostgreSQL's NOTIFY takes less than
/// 8,000).
pub const NODE_BUS_MAX_PAYLOAD: usize = 7_900;

/// A search of words counts its hits up to this many, and says "this many or more" at it: as
/// many as are ranked together (`torg_core::search::RANK_WINDOW`), so that the first window of
/// hits is also their count. A person refines a search of more; counting a common word's
/// thousands costs a read of each.
pub const SEARCH_COUNT_CAP: i64 = 200;

/// What a node bus's receiver is given after its connection was lost and made again: an
/// empty payload (no sender sends one), meaning "read afresh what you keep".
pub const NODE_BUS_LOST: &str = "";

/// What a node bus's receiver is given as soon as its connection is lost (before
/// [`NODE_BUS_LOST`] when it is made again): "what you keep may go stale unseen; do not
/// rely on it meanwhile". No sender sends it (a control character leads).
pub const NODE_BUS_DOWN: &str = "\u{1}down";

/// Live events between the nodes (servers) that share one database, such as chat messages and
/// typing. Nothing is kept: a node that is not listening misses what is sent, and pages catch
/// up from the store.
#[async_trait]
pub trait NodeBus: Send + Sync {
    /// Sends `payload` (at most [`NODE_BUS_MAX_PAYLOAD`] bytes) on `topic` to every node
    /// listening, this one included.
    async fn send(&self, topic: &str, payload: &str) -> Result<()>;
    /// What is sent on `topic` from now on, as it comes. When the connection is lost the
    /// receiver is given [`NODE_BUS_DOWN`]; it is made again, and the receiver is then given
    /// [`NODE_BUS_LOST`] (what was sent meanwhile is missed).
    async fn listen(&self, topic: &str) -> Result<tokio::sync::mpsc::Receiver<String>>;
}

/// The directory: municipalities (the tenants), their units, staff users with their memberships and lockouts, login sessions, API tokens and single sign-on.
#[async_trait]
pub trait Directory: Send + Sync {
    async fn create_municipality(&self, new: NewMunicipality) -> Result<Municipality>;
    async fn municipality(&self, id: TenantId) -> Result<Option<Municipality>>;
    async fn municipality_by_slug(&self, slug: &str) -> Result<Option<Municipality>>;
    async fn list_municipalities(&self) -> Result<Vec<Municipality>>;
    /// Creates a unit; `audit` in the same transaction (its object becomes the new unit).
    async fn create_unit(
        &self,
        tenant: TenantId,
        name: &str,
        is_service_desk: bool,
        sensitive: bool,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Unit>;
    async fn list_units(&self, tenant: TenantId) -> Result<Vec<Unit>>;
    /// Renames a unit and marks it sensitive or not; `audit` in the same transaction.
    async fn update_unit(
        &self,
        tenant: TenantId,
        id: UnitId,
        name: &str,
        sensitive: bool,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Unit>;
    /// Creates a user (a member of their home unit), with `audit` in the same transaction.
    async fn create_user(
        &self,
        tenant: TenantId,
        new: NewUser,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<User>;
    async fn user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>>;
    async fn user_by_username(&self, tenant: TenantId, username: &str) -> Result<Option<User>>;
    async fn list_users(&self, tenant: TenantId) -> Result<Vec<User>>;
    /// The user of a single sign-on subject.
    async fn user_by_subject(&self, tenant: TenantId, subject: &str) -> Result<Option<User>>;
    async fn update_user(
        &self,
        tenant: TenantId,
        id: UserId,
        update: UserUpdate,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<User>;
    /// An administrator's change to a user and its `audit` entry in one transaction; ends the
    /// user's sessions when they are deactivated, change role or get a new password.
    async fn change_user(
        &self,
        tenant: TenantId,
        id: UserId,
        change: UserChange,
        audit: torg_domain::audit::NewAuditEntry,
    ) -> Result<User>;
    /// A password the person (or the operator) chose, with its audit entry: forgets which
    /// administrator set the last one, and ends the user's sessions but `keep_session` (the
    /// one the person changed it in).
    async fn set_password(
        &self,
        tenant: TenantId,
        id: UserId,
        password_hash: &str,
        keep_session: Option<&str>,
        audit: torg_domain::audit::NewAuditEntry,
    ) -> Result<()>;
    async fn set_external_subject(
        &self,
        tenant: TenantId,
        id: UserId,
        subject: Option<&str>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Replaces the units the user is a member of.
    async fn set_memberships(
        &self,
        tenant: TenantId,
        user_id: UserId,
        units: &[UnitId],
    ) -> Result<()>;
    /// Counts a failed login and returns the failures since the last success.
    async fn count_failed_login(&self, tenant: TenantId, user_id: UserId) -> Result<i64>;
    /// Locks the user out until `until`, or lifts the lock and clears the count (`None`).
    async fn set_locked_until(
        &self,
        tenant: TenantId,
        user_id: UserId,
        until: Option<jiff::Timestamp>,
    ) -> Result<()>;
    /// Ends every session of a user (deactivated, role changed, password changed).
    async fn delete_user_sessions(&self, tenant: TenantId, user_id: UserId) -> Result<()>;
    /// Sets (or, with `None`, removes) the municipality's identity provider.
    /// Sets (or, with `None`, removes) the municipality's identity provider, with its audit
    /// entry.
    async fn set_sso_provider(
        &self,
        tenant: TenantId,
        provider: Option<SsoProvider>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    async fn sso_provider(&self, tenant: TenantId) -> Result<Option<SsoProvider>>;
    async fn create_session(&self, session: Session) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Marks the session used at `at`.
    async fn touch_session(&self, token_hash: &str, at: jiff::Timestamp) -> Result<()>;
    /// Creates an API token (its units checked to be the municipality's), with `audit`.
    async fn create_api_token(
        &self,
        tenant: TenantId,
        token: NewApiToken,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<ApiToken>;
    /// The token with this hash, revoked and expired ones included.
    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiToken>>;
    /// The municipality's tokens, newest first.
    async fn list_api_tokens(&self, tenant: TenantId) -> Result<Vec<ApiToken>>;
    /// Revokes token `id` at `at`, with `audit`. NotFound if it is not the municipality's.
    async fn revoke_api_token(
        &self,
        tenant: TenantId,
        id: i64,
        at: jiff::Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
}

/// Each channel's settings: the mailbox (and its quarantine), the SMS gateway with code words and consent, social-media accounts and the channel registry.
#[async_trait]
pub trait ChannelSettings: Send + Sync {
    /// Sets (or with `None` removes) the mailbox, with `audit` in the same transaction.
    async fn set_mail_account(
        &self,
        tenant: TenantId,
        account: Option<MailAccount>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    async fn mail_account(&self, tenant: TenantId) -> Result<Option<MailAccount>>;
    /// Sets (or with `None` removes) the SMS gateway, with `audit` in the same transaction.
    async fn set_sms_gateway(
        &self,
        tenant: TenantId,
        gateway: Option<SmsGateway>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// The municipality's gateway, if it has one.
    async fn sms_gateway(&self, tenant: TenantId) -> Result<Option<SmsGateway>>;
    /// Every municipality's gateway, for the sender.
    async fn sms_gateways(&self) -> Result<Vec<(TenantId, SmsGateway)>>;
    async fn sms_keywords(&self, tenant: TenantId) -> Result<Vec<SmsKeyword>>;
    /// Adds or replaces a code word.
    async fn set_sms_keyword(
        &self,
        tenant: TenantId,
        keyword: &SmsKeyword,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Removes a code word with its audit entry; false (and nothing logged) when there was
    /// none.
    async fn delete_sms_keyword(
        &self,
        tenant: TenantId,
        keyword: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool>;
    /// Records STOPP (`stopped`) or START for a number.
    async fn set_sms_consent(
        &self,
        tenant: TenantId,
        phone: &str,
        stopped: bool,
        at: jiff::Timestamp,
    ) -> Result<()>;
    /// Whether the number has sent STOPP (and not START since).
    async fn sms_stopped(&self, tenant: TenantId, phone: &str) -> Result<bool>;
    async fn channel_accounts(&self, tenant: TenantId) -> Result<Vec<ChannelAccount>>;
    /// Proposes an account; Conflict if the channel and address are registered already.
    async fn propose_channel_account(
        &self,
        tenant: TenantId,
        new: &NewChannelAccount,
        at: jiff::Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<ChannelAccount>;
    /// Moves an account to `status` (checked by the caller with `registry::may_move`).
    async fn decide_channel_account(
        &self,
        tenant: TenantId,
        id: i64,
        status: torg_domain::registry::AccountStatus,
        by_user: UserId,
        at: jiff::Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<ChannelAccount>;
    /// Whether `address` on `channel` is an approved account: connectors receive and send
    /// only for those.
    async fn channel_account_approved(
        &self,
        tenant: TenantId,
        channel: torg_domain::Channel,
        address: &str,
    ) -> Result<bool>;
    /// Sets (adds or replaces) a social-media account, with `audit` in the same transaction.
    async fn set_social_account(
        &self,
        account: &SocialAccount,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// The social-media accounts of one municipality or (None) all, each with whether the
    /// channel registry has approved it.
    async fn social_accounts(&self, tenant: Option<TenantId>) -> Result<Vec<SocialAccount>>;
    /// Remembers how far an account's notifications have been read.
    async fn set_social_cursor(
        &self,
        tenant: TenantId,
        channel: torg_domain::Channel,
        account: &str,
        cursor: &str,
    ) -> Result<()>;
    /// Every municipality's mailbox, for the connector.
    async fn mail_accounts(&self) -> Result<Vec<(TenantId, MailAccount)>>;
    /// Keeps a mail that was not taken in; the same Message-ID again changes nothing.
    async fn quarantine_mail(
        &self,
        tenant: TenantId,
        mail: &NewQuarantinedMail,
        at: jiff::Timestamp,
    ) -> Result<()>;
    async fn quarantined_mail(&self, tenant: TenantId, limit: u32) -> Result<Vec<QuarantinedMail>>;
    /// One quarantined mail as received (raw bytes).
    async fn quarantined_raw(&self, tenant: TenantId, id: i64) -> Result<Option<Vec<u8>>>;
    /// Takes a mail out of quarantine (taken in by staff, or discarded). NotFound if it is gone.
    /// Takes a mail out of quarantine (released or discarded), with its audit entry.
    async fn remove_quarantined(
        &self,
        tenant: TenantId,
        id: i64,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
}

/// The outbox: every outgoing message, claimed with a lease, marked sent, retried or failed; and how each connector did.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Records how a connector last went (one row per municipality and connector).
    async fn set_connector_status(&self, status: &ConnectorStatus) -> Result<()>;
    /// The connectors' last states, of one municipality or (None) all.
    async fn connector_statuses(&self, tenant: Option<TenantId>) -> Result<Vec<ConnectorStatus>>;
    /// Claims up to `limit` entries of `channel` that are due, for `lease`: nobody else gets
    /// them until then. Counts the attempt.
    async fn claim_outbox(
        &self,
        channel: torg_domain::Channel,
        now: jiff::Timestamp,
        lease: jiff::SignedDuration,
        limit: u32,
    ) -> Result<Vec<OutboxItem>>;
    /// Marks entries sent, all in one transaction (one commit for a batch of sends).
    async fn outbox_sent(&self, ids: &[i64], at: jiff::Timestamp) -> Result<()>;
    /// When the next pending entry of `channel` falls due after `after` (the earliest
    /// `next_attempt_at` later than it), so that an idle sender waits for exactly that long;
    /// `None` when nothing is scheduled.
    async fn outbox_next_due(
        &self,
        channel: torg_domain::Channel,
        after: jiff::Timestamp,
    ) -> Result<Option<jiff::Timestamp>>;
    /// Marks one entry sent, with the address the network gave what was posted.
    async fn outbox_posted(&self, id: i64, address: &str, at: jiff::Timestamp) -> Result<()>;
    /// Try again at `next_at`, remembering the server's answer.
    async fn outbox_retry(&self, id: i64, next_at: jiff::Timestamp, error: &str) -> Result<()>;
    /// The gateway says it handed the entry to the network (Kannel's DLR 8): an entry still
    /// claimed and not yet marked is sent from now on, so that a sender that died before its
    /// marking batch leaves nothing to send again when the lease runs out. A no-op for an
    /// entry already marked; NotFound if the entry is not this municipality's.
    async fn outbox_taken(&self, tenant: TenantId, id: i64, at: jiff::Timestamp) -> Result<()>;
    /// Records a delivery report: delivered, or not with the network's word. An entry whose
    /// sender has not marked it yet is sent (the report proves it went). NotFound if the
    /// entry is not this municipality's or was never handed to the gateway.
    async fn outbox_delivery_report(
        &self,
        tenant: TenantId,
        id: i64,
        delivered: bool,
        report: &str,
        at: jiff::Timestamp,
    ) -> Result<()>;
    /// Give up for good.
    async fn outbox_failed(&self, id: i64, error: &str) -> Result<()>;
    /// (message id, delivery state) of an inquiry's outgoing messages.
    async fn deliveries(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
    ) -> Result<Vec<(i64, DeliveryState)>>;
    /// Queues messages of their own (a chat transcript, a notice) in the outbox, in one
    /// transaction.
    async fn queue_notices(
        &self,
        tenant: TenantId,
        inquiry_id: Option<InquiryId>,
        notices: &[Notice],
        at: jiff::Timestamp,
    ) -> Result<()>;
}

/// How inquiries are handled (each write takes its audit entry, written in the same
/// transaction; `None` only for tests and demo data): routing rules, canned replies, deadline policies, the working calendar (opening hours, closed days), acknowledgement texts, planned peaks and the duty rota.
#[async_trait]
pub trait Policies: Send + Sync {
    async fn create_routing_rule(
        &self,
        tenant: TenantId,
        rule: torg_domain::routing::RoutingRule,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64>;
    /// (id, rule) in the order they are tried.
    async fn list_routing_rules(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<(i64, torg_domain::routing::RoutingRule)>>;
    /// Gives the rules new positions (id, position) in one transaction; `NotFound` when an id
    /// is not one of the municipality's rules.
    async fn set_routing_rule_positions(
        &self,
        tenant: TenantId,
        positions: &[(i64, i64)],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Changes a canned reply's title and text; false when the municipality has no such reply.
    async fn update_canned_reply(
        &self,
        tenant: TenantId,
        id: i64,
        title: &str,
        body: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool>;
    /// Removes a rule, reply, policy, closed day, peak or unit/channel hours; false (and no
    /// audit entry) when there was nothing to remove.
    async fn remove_policy_item(
        &self,
        tenant: TenantId,
        item: &PolicyItem,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool>;
    async fn create_canned_reply(
        &self,
        tenant: TenantId,
        title: &str,
        body: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<CannedReply>;
    async fn list_canned_replies(&self, tenant: TenantId) -> Result<Vec<CannedReply>>;
    async fn create_deadline_policy(
        &self,
        tenant: TenantId,
        rule: torg_domain::deadline::PolicyRule,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64>;
    /// (id, policy) in the order they were added.
    async fn list_deadline_policies(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<(i64, torg_domain::deadline::PolicyRule)>>;
    async fn set_opening_hours(
        &self,
        tenant: TenantId,
        weekly: &[torg_domain::calendar::DayHours; 7],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    async fn opening_hours(
        &self,
        tenant: TenantId,
    ) -> Result<Option<[torg_domain::calendar::DayHours; 7]>>;
    /// Opening hours of one unit or channel where they differ from the municipality's.
    async fn set_scoped_opening_hours(
        &self,
        tenant: TenantId,
        scope: torg_domain::calendar::HoursScope,
        weekly: &[torg_domain::calendar::DayHours; 7],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    async fn scoped_opening_hours(
        &self,
        tenant: TenantId,
    ) -> Result<
        Vec<(
            torg_domain::calendar::HoursScope,
            [torg_domain::calendar::DayHours; 7],
        )>,
    >;
    /// Adds or replaces a closed (or, with `closes_at`, shortened) day.
    async fn set_closed_day(
        &self,
        tenant: TenantId,
        day: ClosedDay,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    async fn list_closed_days(&self, tenant: TenantId) -> Result<Vec<ClosedDay>>;
    async fn set_acknowledgement_template(
        &self,
        tenant: TenantId,
        language: &str,
        body: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// (language, body) of every template the municipality has set.
    async fn acknowledgement_templates(&self, tenant: TenantId) -> Result<Vec<(String, String)>>;
    async fn create_peak(
        &self,
        tenant: TenantId,
        peak: torg_domain::deadline::PlannedPeak,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64>;
    /// Peaks that have not ended by `after`, by start.
    async fn peaks(
        &self,
        tenant: TenantId,
        after: jiff::Timestamp,
    ) -> Result<Vec<torg_domain::deadline::PlannedPeak>>;
    async fn create_shift(
        &self,
        tenant: TenantId,
        group: &str,
        user_id: UserId,
        starts_at: jiff::Timestamp,
        ends_at: jiff::Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<torg_domain::duty::Shift>;
    /// Shifts that overlap [from, to), by start.
    async fn shifts(
        &self,
        tenant: TenantId,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<Vec<torg_domain::duty::Shift>>;
    async fn set_handover_note(
        &self,
        tenant: TenantId,
        shift_id: i64,
        note: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
}

/// The audit log (revisjonslogg): a hash chain per municipality.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends an entry to the municipality's hash chain.
    async fn append_audit(
        &self,
        tenant: TenantId,
        entry: torg_domain::audit::NewAuditEntry,
        at: jiff::Timestamp,
    ) -> Result<torg_domain::audit::AuditEntry>;
    /// Entries that match `query`, newest first.
    async fn search_audit(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
        limit: u32,
    ) -> Result<Vec<torg_domain::audit::AuditEntry>>;
    /// Entries after `after_seq`, oldest first.
    async fn audit_entries(
        &self,
        tenant: TenantId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<torg_domain::audit::AuditEntry>>;
}

/// Inquiries (henvendelser) and their messages, attachments, deadlines and warnings.
#[async_trait]
pub trait Inquiries: Send + Sync {
    /// The newest inquiry on `channel` that is not closed and has `thread_key` (one person's
    /// conversation with a page), as (id, external id).
    async fn open_inquiry_by_thread(
        &self,
        tenant: TenantId,
        channel: torg_domain::Channel,
        thread_key: &str,
    ) -> Result<Option<(InquiryId, Option<String>)>>;
    /// Stores a new inquiry with its first message and attachments, durably, and gives it
    /// the next reference of its municipality and year. When `external_id` is set and an
    /// inquiry with the same channel and external id exists, that one is returned instead
    /// (`created == false`): connectors may retry safely.
    async fn create_inquiry(&self, new: NewInquiry) -> Result<Created>;
    async fn inquiry(&self, tenant: TenantId, id: InquiryId) -> Result<Option<Inquiry>>;
    /// The inquiry of a follow link: its id and the hash of the link's secret must both match.
    async fn inquiry_by_follow_token(
        &self,
        tenant: TenantId,
        id: InquiryId,
        token_hash: &str,
    ) -> Result<Option<Inquiry>>;
    /// The inquiry with this reference (e.g. `2026-000123`), for replies that quote it.
    async fn inquiry_by_reference(
        &self,
        tenant: TenantId,
        reference: &str,
    ) -> Result<Option<InquiryId>>;
    /// The inquiry an email Message-ID belongs to: one we sent, or one we received.
    async fn inquiry_by_mail_id(
        &self,
        tenant: TenantId,
        header_id: &str,
    ) -> Result<Option<InquiryId>>;
    /// Makes the inquiry's follow link stop working.
    async fn revoke_follow_token(
        &self,
        tenant: TenantId,
        id: InquiryId,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Lists inquiries ordered by deadline, then age, then id; `after` is the keyset cursor. A
    /// search of words lists its hits newest first instead (the cursor's id is where the next
    /// page starts).
    async fn list_inquiries(
        &self,
        tenant: TenantId,
        filter: &InquiryFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<InquirySummary>>;
    /// How many inquiries `filter` finds (its search, status, unit, channel, visible units);
    /// a search of words is counted up to [`SEARCH_COUNT_CAP`] (that many or more).
    async fn count_matching(&self, tenant: TenantId, filter: &InquiryFilter) -> Result<i64>;
    async fn count_inquiries(&self, tenant: TenantId) -> Result<i64>;
    /// Rebuilds the search index of up to `limit` inquiries with ids above `after` (every one,
    /// or only those not in the index), each from its texts, in one transaction: how many,
    /// and the last id (0 when there were none).
    async fn reindex_search(
        &self,
        after: i64,
        limit: u32,
        only_missing: bool,
    ) -> Result<(u64, i64)>;
    /// Per unit: open inquiries, those past `warn_permille`/1000 of their time, and those
    /// overdue at `now` (escalation).
    async fn deadline_counts(
        &self,
        tenant: TenantId,
        now: jiff::Timestamp,
        warn_permille: i64,
    ) -> Result<Vec<UnitDeadlineCounts>>;
    /// Open inquiries past `warn_permille`/1000 of their time at `now` whose warning has not
    /// gone out, soonest deadline first.
    async fn inquiries_to_warn(
        &self,
        tenant: TenantId,
        now: jiff::Timestamp,
        warn_permille: i64,
        limit: u32,
    ) -> Result<Vec<InquirySummary>>;
    /// Marks the inquiry warned and queues the warning emails, in one transaction; false (and
    /// nothing queued) if it was warned already.
    async fn mark_warned(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        notices: &[Notice],
        at: jiff::Timestamp,
    ) -> Result<bool>;
    /// What deadlines are computed from, for every inquiry not closed.
    async fn open_deadline_inputs(&self, tenant: TenantId) -> Result<Vec<DeadlineInput>>;
    /// Sets new deadlines (after a policy or calendar change); returns how many changed.
    async fn set_deadlines(
        &self,
        tenant: TenantId,
        deadlines: &[(InquiryId, jiff::Timestamp)],
    ) -> Result<u64>;
    /// Merges `others` into `primary` (the oldest of the matter), in one transaction with the
    /// audit entries: they point to it and are closed; the primary takes the earliest
    /// deadline of those still open, and is open again when one of them was. Inquiries merged
    /// into one of `others` follow it. `notices` (messages to the citizen, with their outbox
    /// entries) are written in the same transaction. `Conflict` when one is merged already or
    /// is the primary; `NotFound` when one is not the municipality's.
    async fn merge_inquiries(
        &self,
        tenant: TenantId,
        primary: InquiryId,
        others: &[InquiryId],
        at: jiff::Timestamp,
        notices: Vec<(InquiryId, NewMessage)>,
        audit: Vec<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Moves the citizen's message `message_id` out of `from` into a new inquiry made from
    /// `new` (its text and files are the message's, its acknowledgement as at intake), in one
    /// transaction with `notice` on `from` (`{referanse}` and `{id}` filled in as the new
    /// inquiry's) and
    /// the audit entries; both inquiries' search rows follow. `NotFound` when the message is
    /// not a citizen's message of `from`; `Conflict` when it is the only one.
    async fn split_message(
        &self,
        from: InquiryId,
        message_id: i64,
        new: NewInquiry,
        notice: NewMessage,
        audit: Vec<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Inquiry>;
    /// The inquiries merged into `primary`, oldest first.
    async fn merged_into(&self, tenant: TenantId, primary: InquiryId) -> Result<Vec<InquiryId>>;
    /// The thread, oldest first; internal notes only when `include_notes`.
    async fn messages(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        include_notes: bool,
    ) -> Result<Vec<Message>>;
    /// The citizens' and staff's messages (no internal notes) of several inquiries, oldest
    /// first, with their attachments' metadata; one read for a page of inquiries. Ids of other
    /// municipalities are left out.
    async fn threads(
        &self,
        tenant: TenantId,
        inquiry_ids: &[InquiryId],
    ) -> Result<std::collections::HashMap<InquiryId, Vec<Message>>>;
    /// Adds a message and updates the inquiry's status and timestamps in one transaction,
    /// with `audit` appended to the municipality's audit log in the same transaction.
    async fn add_message(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        new: NewMessage,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Message>;
    /// Moves an inquiry to a unit and/or person. `assignee` of `None` clears the person.
    /// `audit` is written in the same transaction.
    async fn assign(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        unit_id: UnitId,
        assignee_id: Option<UserId>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Gives the inquiry to `user_id` (keeping its unit) and opens it if it was new, with
    /// `audit`, in one transaction: a staff member taking a live chat over.
    async fn take_over(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        user_id: UserId,
        at: jiff::Timestamp,
        audit: torg_domain::audit::NewAuditEntry,
    ) -> Result<()>;
    /// Sets the status; `audit` is written in the same transaction.
    async fn set_status(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        status: torg_domain::InquiryStatus,
        at: jiff::Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    async fn attachments(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
    ) -> Result<Vec<AttachmentMeta>>;
    async fn attachment_data(
        &self,
        tenant: TenantId,
        attachment_id: i64,
    ) -> Result<Option<(AttachmentMeta, Vec<u8>)>>;
}

/// The archive (arkiv): the archivist's decisions, extract pages, the public journal, journal numbers, moderation keywords and retention.
#[async_trait]
pub trait Archive: Send + Sync {
    /// The journal sequence numbers (journalsekvensnummer) of messages, given by `wanted`
    /// as (message id, journal year): a message numbered before keeps its number; the others
    /// get the next ones of their year, in the order asked. A number is never given twice.
    async fn journal_numbers(
        &self,
        tenant: TenantId,
        wanted: &[(i64, i16)],
    ) -> Result<std::collections::HashMap<i64, u64>>;
    /// Records or replaces the archivist's decision on an inquiry.
    async fn set_archive_record(
        &self,
        tenant: TenantId,
        record: &ArchiveRecord,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    async fn archive_record(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
    ) -> Result<Option<ArchiveRecord>>;
    /// Inquiries kept as records, received in `from..to`, after id `after_id`, in id order, at
    /// most `limit`: the pages of an archive extract.
    async fn archive_cases(
        &self,
        tenant: TenantId,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
        after_id: InquiryId,
        limit: u32,
    ) -> Result<Vec<ArchiveCase>>;
    /// How many inquiries kept as records were received in `from..to` (the extract's size).
    async fn count_archive_cases(
        &self,
        tenant: TenantId,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<i64>;
    /// Public journal lines dated in `from..to`, newest first, at most `limit`.
    async fn journal_entries(
        &self,
        tenant: TenantId,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<JournalEntry>>;
    /// Closed inquiries nobody has decided on yet, most recently received first: the
    /// archivist's worklist.
    async fn undecided_closed(&self, tenant: TenantId, limit: u32) -> Result<Vec<InquirySummary>>;
    async fn moderation_keywords(&self, tenant: TenantId) -> Result<Vec<String>>;
    async fn set_moderation_keywords(
        &self,
        tenant: TenantId,
        words: &[String],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Days a closed inquiry that is not a record is kept (default 365).
    async fn retention_days(&self, tenant: TenantId) -> Result<u32>;
    async fn set_retention_days(
        &self,
        tenant: TenantId,
        days: u32,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Closed inquiries closed before `closed_before` that are not decided as records, after
    /// id `after_id`, at most `limit`.
    async fn retention_candidates(
        &self,
        tenant: TenantId,
        closed_before: jiff::Timestamp,
        after_id: InquiryId,
        limit: u32,
    ) -> Result<Vec<RetentionCandidate>>;
    /// Deletes the inquiries with everything they hold, and logs each in the deletion log, in
    /// one transaction. Inquiries decided as records are left alone.
    async fn delete_inquiries(
        &self,
        tenant: TenantId,
        ids: &[InquiryId],
        reason: &str,
        at: jiff::Timestamp,
    ) -> Result<Vec<DeletionRecord>>;
    /// The deletion log, newest first.
    async fn deletion_log(&self, tenant: TenantId, limit: u32) -> Result<Vec<DeletionRecord>>;
}

/// The annual wheel (årshjul) and its calendar feeds. Each write takes its audit entry.
#[async_trait]
pub trait Wheel: Send + Sync {
    /// Adds items (one, or a whole imported file) in one transaction; their ids in order.
    async fn create_wheel_items(
        &self,
        tenant: TenantId,
        items: &[NewWheelItem],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Vec<i64>>;
    /// The municipality's items (with `unit`, that unit's and the whole municipality's), by
    /// first date.
    async fn wheel_items(&self, tenant: TenantId, unit: Option<UnitId>) -> Result<Vec<WheelItem>>;
    /// Removes an item; false when there was none.
    async fn delete_wheel_item(
        &self,
        tenant: TenantId,
        id: i64,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool>;
    /// Sets the private feed link of the municipality (`unit` `None`) or of a unit, replacing
    /// the one before (only its hash is kept).
    async fn set_wheel_feed(
        &self,
        tenant: TenantId,
        unit: Option<UnitId>,
        token_hash: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Whose feed a link's hash opens: (municipality, unit).
    async fn wheel_feed(&self, token_hash: &str) -> Result<Option<(TenantId, Option<UnitId>)>>;
}

/// Publishing: messages written once, approved, shown at their time. Writes take their audit
/// entry.
#[async_trait]
pub trait Publishing: Send + Sync {
    async fn create_publication(
        &self,
        tenant: TenantId,
        new: &NewPublication,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Publication>;
    /// A new text or time: back to draft, any approval gone (a change needs a new one), and
    /// its posts still waiting in the outbox cancelled.
    async fn edit_publication(
        &self,
        tenant: TenantId,
        id: i64,
        edit: &PublicationEdit<'_>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Publication>;
    /// Moves a message from `from` to `to` (with the approver and the approved text's hash
    /// when approving); `Conflict` when it is no longer in `from` (someone else was quicker).
    /// `notices` (its posts on other channels) and `broadcasts` (its newsletter and SMS to
    /// subscribers) are queued in the same transaction, due at the message's time. Withdrawn: what is still waiting in the outbox for it is cancelled.
    #[allow(clippy::too_many_arguments)]
    async fn set_publication_state(
        &self,
        tenant: TenantId,
        id: i64,
        from: torg_domain::publish::PubState,
        to: torg_domain::publish::PubState,
        approved: Option<(UserId, String)>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
        notices: &[Notice],
        broadcasts: &[Broadcast<'_>],
    ) -> Result<Publication>;
    async fn publication(&self, tenant: TenantId, id: i64) -> Result<Option<Publication>>;
    /// The municipality's messages, latest time first.
    async fn publications(&self, tenant: TenantId, limit: u32) -> Result<Vec<Publication>>;
    /// The municipality's messages due in `from..to` (a calendar's month), by time.
    async fn publications_between(
        &self,
        tenant: TenantId,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<Vec<Publication>>;
    /// Approved messages (of `kind`, or every kind) whose time is at or before `until`, latest
    /// first.
    async fn approved_until(
        &self,
        tenant: TenantId,
        until: jiff::Timestamp,
        kind: Option<torg_domain::publish::Kind>,
        limit: u32,
    ) -> Result<Vec<Publication>>;
    /// Adds an entry to the media log (its id is given); a flagged story's inquiry must be the
    /// municipality's.
    async fn add_media_entry(
        &self,
        tenant: TenantId,
        entry: &MediaEntry,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<MediaEntry>;
    /// The media log from `since` on, newest first, at most `limit`.
    async fn media_log(
        &self,
        tenant: TenantId,
        since: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<MediaEntry>>;
    /// A message's versions in other languages, by language.
    async fn publication_versions(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<Vec<PublicationVersion>>;
    /// Adds or replaces the version in `version.language` (or, with `remove`, takes it away):
    /// a change of the message, so it is a draft again, its approval gone and its posts not
    /// yet out cancelled, as [`Publishing::edit_publication`] does.
    async fn set_publication_version(
        &self,
        tenant: TenantId,
        id: i64,
        version: &PublicationVersion,
        remove: bool,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Publication>;
    /// A message's own texts for networks, by channel.
    async fn publication_variants(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<Vec<(torg_domain::Channel, String)>>;
    /// A message's posts on other channels: channel, address, and how each went.
    async fn publication_posts(&self, tenant: TenantId, id: i64) -> Result<Vec<PublicationPost>>;
    async fn publishing_settings(&self, tenant: TenantId) -> Result<PublishingSettings>;
    /// The municipality's own words to avoid: (phrase, plainer), by phrase.
    async fn jargon(&self, tenant: TenantId) -> Result<Vec<(String, String)>>;
    /// Adds or changes a word (`plainer` `Some`), or removes it (`None`; false when absent).
    async fn set_jargon(
        &self,
        tenant: TenantId,
        phrase: &str,
        plainer: Option<&str>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool>;
    async fn set_publishing_settings(
        &self,
        tenant: TenantId,
        settings: PublishingSettings,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
}

/// Areas, topics and subscribers; broadcasts to them. Writes take their audit entry.
#[async_trait]
pub trait Subscriptions: Send + Sync {
    async fn areas(&self, tenant: TenantId) -> Result<Vec<Area>>;
    /// Adds an area, or replaces the outline and postcodes of the one with its name.
    async fn put_area(
        &self,
        tenant: TenantId,
        area: &Area,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Area>;
    async fn topics(&self, tenant: TenantId) -> Result<Vec<Topic>>;
    /// Adds a topic or renames it.
    async fn put_topic(
        &self,
        tenant: TenantId,
        topic: &Topic,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// The subscription a private link opens (the token is the link's).
    async fn subscriber_by_token(&self, token: &str) -> Result<Option<Subscriber>>;
    async fn subscriber(
        &self,
        tenant: TenantId,
        medium: torg_domain::subscription::Medium,
        address: &str,
    ) -> Result<Option<Subscriber>>;
    /// Adds a subscription (`Conflict` if the address has one) with its confirmation, queued
    /// in the same transaction.
    async fn add_subscriber(
        &self,
        tenant: TenantId,
        new: &NewSubscriber,
        confirmation: Option<&Notice>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Subscriber>;
    /// Changes a subscription, with a notice (a new confirmation) in the same transaction.
    async fn change_subscriber(
        &self,
        tenant: TenantId,
        id: i64,
        change: &SubscriberChange,
        notice: Option<&Notice>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Subscriber>;
    /// Ends a subscription: the row goes, and only `stop_hash` is kept (the address asked to
    /// stop). Messages still waiting for it in the outbox are cancelled.
    async fn remove_subscriber(
        &self,
        tenant: TenantId,
        id: i64,
        stop_hash: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Whether an address (its [`torg_domain::subscription::stop_hash`]) asked to stop.
    async fn stopped(&self, tenant: TenantId, stop_hash: &str) -> Result<bool>;
    /// Adds many subscriptions in one transaction, skipping addresses that have one or asked
    /// to stop (`stop_hashes`, one per subscriber); (added, skipped).
    async fn import_subscribers(
        &self,
        tenant: TenantId,
        new: &[NewSubscriber],
        stop_hashes: &[String],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<(u64, u64)>;
    async fn subscriber_counts(&self, tenant: TenantId) -> Result<SubscriberCounts>;
    /// Expands broadcasts written as intents (a crisis's messages) into their outbox entries,
    /// each in its own transaction and once (on any node): (municipality, broadcast, entries).
    async fn expand_broadcasts(&self, limit: u32) -> Result<Vec<(TenantId, i64, u64)>>;
    /// Queues broadcasts in one transaction; the number of entries each queued.
    async fn broadcast(
        &self,
        tenant: TenantId,
        broadcasts: &[Broadcast<'_>],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Vec<u64>>;
}

/// Crises: templates, the crises declared, their messages, log and linked inquiries. Every
/// message is written with its broadcasts, notices and log line in one transaction.
#[async_trait]
pub trait Crises: Send + Sync {
    async fn crisis_templates(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<torg_domain::crisis::Template>>;
    async fn put_crisis_template(
        &self,
        tenant: TenantId,
        template: &torg_domain::crisis::Template,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Declares a crisis with its first message (the alert). Its broadcasts are written as
    /// intents, reaching subscribers once expanded ([`Subscriptions::expand_broadcasts`]).
    async fn start_crisis(
        &self,
        tenant: TenantId,
        crisis: &NewCrisis,
        alert: &NewCrisisMessage<'_>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<(Crisis, CrisisMessage)>;
    /// Adds an update, or (a `Cancel`) ends the crisis; `Conflict` when it has ended.
    async fn add_crisis_message(
        &self,
        tenant: TenantId,
        crisis: i64,
        message: &NewCrisisMessage<'_>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<CrisisMessage>;
    async fn crisis(&self, tenant: TenantId, id: i64) -> Result<Option<Crisis>>;
    /// The municipality's crises, latest first.
    async fn crises(&self, tenant: TenantId, limit: u32) -> Result<Vec<Crisis>>;
    /// Crises not ended, latest first.
    async fn open_crises(&self, tenant: TenantId) -> Result<Vec<Crisis>>;
    /// A crisis's messages, in order.
    async fn crisis_messages(&self, tenant: TenantId, crisis: i64) -> Result<Vec<CrisisMessage>>;
    /// A crisis's log, in time order.
    async fn crisis_log(&self, tenant: TenantId, crisis: i64) -> Result<Vec<CrisisLogEntry>>;
    /// A line written by staff (a note, a decision, a contact with the press).
    async fn add_crisis_log(
        &self,
        tenant: TenantId,
        crisis: i64,
        kind: &str,
        text: &str,
        actor: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<CrisisLogEntry>;
    /// Links inquiries to a crisis (those linked already stay); how many were new.
    async fn link_inquiries(
        &self,
        tenant: TenantId,
        crisis: i64,
        inquiries: &[InquiryId],
        actor: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<u64>;
    async fn crisis_inquiries(&self, tenant: TenantId, crisis: i64) -> Result<Vec<InquiryId>>;
}

/// Evaluation: a period counted, the satisfaction survey, the municipality's choices, and
/// how often published messages were read.
#[async_trait]
pub trait Evaluation: Send + Sync {
    /// Counts the inquiries `filter` picks (aggregated in the database), with what is overdue
    /// at `now` and the survey's answers for inquiries closed in the period.
    async fn evaluation_counts(
        &self,
        tenant: TenantId,
        filter: &EvaluationFilter,
        now: jiff::Timestamp,
    ) -> Result<EvaluationCounts>;
    /// The period's inquiries by channel (and nothing else: the same period a year before).
    async fn volumes(
        &self,
        tenant: TenantId,
        filter: &EvaluationFilter,
    ) -> Result<Vec<(torg_domain::Channel, i64)>>;
    /// The latest survey answers with a comment, of inquiries closed in the period.
    async fn survey_comments(
        &self,
        tenant: TenantId,
        filter: &EvaluationFilter,
        limit: u32,
    ) -> Result<Vec<SurveyComment>>;
    async fn evaluation_settings(&self, tenant: TenantId) -> Result<EvaluationSettings>;
    async fn set_evaluation_settings(
        &self,
        tenant: TenantId,
        settings: &EvaluationSettings,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Survey questions due at `now` (every municipality's), oldest first.
    async fn due_surveys(&self, now: jiff::Timestamp, limit: u32) -> Result<Vec<DueSurvey>>;
    /// Marks a question sent with its link's hash and queues its message, in one
    /// transaction; false (and nothing queued) when it was sent already or the inquiry is no
    /// longer closed (then it is dropped).
    async fn send_survey(
        &self,
        tenant: TenantId,
        survey: i64,
        token_hash: &str,
        notice: Option<&Notice>,
        at: jiff::Timestamp,
    ) -> Result<bool>;
    /// Drops a question that will not be asked (too late).
    async fn drop_survey(&self, tenant: TenantId, survey: i64) -> Result<()>;
    /// The question a link's hash opens.
    async fn survey_by_token(&self, token_hash: &str) -> Result<Option<Survey>>;
    /// The question asked about an inquiry (asked: put on the follow page or sent).
    async fn survey_for_inquiry(
        &self,
        tenant: TenantId,
        inquiry: InquiryId,
    ) -> Result<Option<Survey>>;
    /// The newest question sent by SMS since `since` about an inquiry from `phone`, not yet
    /// answered or answered since `answered_since` (so that a reply with a digit answers
    /// it, and the gateway's retry of that reply finds it).
    async fn sms_survey_waiting(
        &self,
        tenant: TenantId,
        phone: &str,
        since: jiff::Timestamp,
        answered_since: jiff::Timestamp,
    ) -> Result<Option<Survey>>;
    /// Keeps the citizen's answer; false when the question was answered already.
    async fn answer_survey(
        &self,
        tenant: TenantId,
        survey: i64,
        answer: &torg_domain::evaluation::SurveyAnswer,
        at: jiff::Timestamp,
    ) -> Result<bool>;
    /// Counts one reading of a published message's portal page.
    async fn count_view(&self, tenant: TenantId, publication: i64) -> Result<()>;
    /// Messages published in `[from, to)` with their readings and posts (and what the
    /// networks last said of the posts' reactions, comments and shares), newest first.
    async fn reach(
        &self,
        tenant: TenantId,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<Reach>>;
    /// The posts of published messages on Facebook, Instagram and Mastodon sent since
    /// `since` (every municipality's), to read their reach back; newest first.
    async fn published_posts(
        &self,
        since: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<PublishedPost>>;
    /// Keeps what a network said of posts' reach (the last reading of each).
    async fn record_post_reach(
        &self,
        tenant: TenantId,
        readings: &[PostReading],
        at: jiff::Timestamp,
    ) -> Result<()>;
}

/// Jobs that run once per installation: a lease per job, held and renewed by one node.
#[async_trait]
pub trait Jobs: Send + Sync {
    /// Takes or renews `job` for `holder` until `now + ttl`: true when `holder` has it (it
    /// held it, or nobody did, or the lease ran out), false when another node holds it.
    async fn claim_job(
        &self,
        job: &str,
        holder: &str,
        now: jiff::Timestamp,
        ttl: jiff::SignedDuration,
    ) -> Result<bool>;
    /// Lets `job` go at once (a node stopping), if `holder` has it.
    async fn release_job(&self, job: &str, holder: &str) -> Result<()>;
    /// Who holds which job, and until when (run-out leases too).
    async fn job_holders(&self) -> Result<Vec<JobHolder>>;
}

/// Outgoing webhooks: the integrations a municipality tells of events, each with the audit
/// entry after which its events are still to be queued; queuing and moving that mark happen
/// in one transaction, so an event is queued once.
#[async_trait]
pub trait Webhooks: Send + Sync {
    /// Adds an integration (its secret sealed), told of what happens from now on.
    async fn add_webhook(
        &self,
        tenant: TenantId,
        new: NewWebhook,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64>;
    /// Removes one; false when there was none.
    async fn remove_webhook(
        &self,
        tenant: TenantId,
        id: i64,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool>;
    async fn webhooks(&self, tenant: TenantId) -> Result<Vec<Webhook>>;
    /// The municipalities that have any.
    async fn webhook_tenants(&self) -> Result<Vec<TenantId>>;
    /// Queues `notices` (deliveries on the outbox's `api` channel, each once by its
    /// `header_id`) and marks the webhook's events up to `through_seq` as queued, together.
    async fn queue_webhook_events(
        &self,
        tenant: TenantId,
        webhook_id: i64,
        notices: &[Notice],
        through_seq: i64,
        at: jiff::Timestamp,
    ) -> Result<()>;
    /// The webhook's latest deliveries, newest first.
    async fn webhook_deliveries(
        &self,
        tenant: TenantId,
        webhook_id: i64,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>>;
}

/// Listening: the sources read, the keywords, and the items that met them. Writes by staff
/// take their audit entry.
#[async_trait]
pub trait Listening: Send + Sync {
    async fn listening_sources(&self, tenant: TenantId) -> Result<Vec<ListeningSource>>;
    /// Adds a source, due at once; `Conflict` when it is there already.
    async fn add_listening_source(
        &self,
        tenant: TenantId,
        kind: torg_domain::listening::SourceKind,
        name: &str,
        address: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64>;
    /// Removes a source and its matches; false when there was none.
    async fn remove_listening_source(
        &self,
        tenant: TenantId,
        id: i64,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool>;
    /// Claims up to `limit` sources due at `now` (every municipality's) for `lease`: other
    /// nodes skip them until then.
    async fn claim_listening_sources(
        &self,
        now: jiff::Timestamp,
        lease: jiff::SignedDuration,
        limit: u32,
    ) -> Result<Vec<ListeningSource>>;
    /// Records a check: what the source answered, when to read it again; a failure counts
    /// towards the backoff, a good answer clears it. Releases the claim.
    async fn listening_source_checked(
        &self,
        tenant: TenantId,
        id: i64,
        checked: &SourceChecked,
        at: jiff::Timestamp,
    ) -> Result<()>;
    /// The source of the municipality's own pages (made the first time it is needed, never
    /// due for reading); its id.
    async fn own_pages_source(&self, tenant: TenantId, name: &str) -> Result<i64>;
    async fn listening_keywords(&self, tenant: TenantId) -> Result<Vec<String>>;
    /// Replaces the keyword list.
    async fn set_listening_keywords(
        &self,
        tenant: TenantId,
        words: &[String],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()>;
    /// Keeps new matches of a source (an item already kept is skipped); how many were new.
    async fn add_listening_matches(
        &self,
        tenant: TenantId,
        source: i64,
        matches: &[NewListeningMatch],
        at: jiff::Timestamp,
    ) -> Result<u64>;
    /// Matches nobody was told of yet (every municipality's), oldest first.
    async fn unnotified_matches(&self, limit: u32) -> Result<Vec<ListeningMatch>>;
    /// Marks matches told of and queues the notices, in one transaction: each match is told
    /// of once.
    async fn mark_matches_notified(
        &self,
        tenant: TenantId,
        ids: &[i64],
        notices: &[Notice],
        at: jiff::Timestamp,
    ) -> Result<()>;
    /// The municipality's matches in `state` (all with `None`), newest first.
    async fn listening_matches(
        &self,
        tenant: TenantId,
        state: Option<torg_domain::listening::MatchState>,
        limit: u32,
    ) -> Result<Vec<ListeningMatch>>;
    async fn listening_match(&self, tenant: TenantId, id: i64) -> Result<Option<ListeningMatch>>;
    /// Decides a new match (dismissed, an inquiry, a crisis); false when it was decided.
    async fn decide_listening_match(
        &self,
        tenant: TenantId,
        id: i64,
        decision: &MatchDecision<'_>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool>;
    /// How many matches are new.
    async fn count_new_matches(&self, tenant: TenantId) -> Result<i64>;
}

/// What the outgoing path may touch: the outbox, the channel settings (to open a connector's
/// credentials) and the directory (a municipality's name and language). A sender holding this
/// can neither read nor change inquiries. Every `Store` is one (`&dyn Store` converts).
pub trait Outgoing: Outbox + ChannelSettings + Directory {}
impl<T: Outbox + ChannelSettings + Directory + ?Sized> Outgoing for T {}

/// Everything Torg keeps, as the sum of its capabilities. Implementations must be safe to
/// share between tasks. Code that needs one capability takes that trait alone (a `&dyn Store`
/// converts to any of them).
#[async_trait]
pub trait Store:
    Outgoing
    + Directory
    + ChannelSettings
    + Outbox
    + Policies
    + AuditLog
    + Inquiries
    + Archive
    + Wheel
    + Publishing
    + Subscriptions
    + Crises
    + Evaluation
    + Listening
    + Jobs
    + Webhooks
    + Send
    + Sync
    + 'static
{
    /// Which backend this is ("sqlite" or "postgres"), for logs and health output.
    fn backend(&self) -> &'static str;
    /// The bus between nodes sharing this database: PostgreSQL's LISTEN/NOTIFY; none for
    /// SQLite, which serves one node.
    fn node_bus(&self) -> Option<&dyn NodeBus>;
    /// Inquiries waiting for the group-commit writer (for metrics).
    fn writer_queue(&self) -> usize {
        0
    }
    /// Checks that the database answers.
    async fn ping(&self) -> Result<()>;
}
