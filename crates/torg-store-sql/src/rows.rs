//! Rows as the databases return them, and their conversion into the contract's types.
//! `FromRow` is derived generically, so the same structs serve SQLite and PostgreSQL.

use jiff::Timestamp;
use torg_domain::{InquiryId, TenantId, UnitId, UserId};
use torg_domain::{Reference, routing::RoutingRule};
use torg_store::*;

pub(crate) fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(crate) fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, StoreError> {
    s.parse().map_err(|_| {
        StoreError::Database(format!("stored {what} {s:?} is not known to this version"))
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct MunicipalityRow {
    id: i64,
    slug: String,
    name: String,
    time_zone: String,
    language: String,
}
impl From<MunicipalityRow> for Municipality {
    fn from(r: MunicipalityRow) -> Self {
        Municipality {
            id: TenantId(r.id),
            slug: r.slug,
            name: r.name,
            time_zone: r.time_zone,
            language: r.language,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UnitRow {
    id: i64,
    tenant_id: i64,
    name: String,
    is_service_desk: i64,
    sensitive: i64,
}
impl From<UnitRow> for Unit {
    fn from(r: UnitRow) -> Self {
        Unit {
            id: UnitId(r.id),
            tenant_id: TenantId(r.tenant_id),
            name: r.name,
            is_service_desk: r.is_service_desk != 0,
            sensitive: r.sensitive != 0,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    tenant_id: i64,
    username: String,
    full_name: String,
    password_hash: String,
    role: String,
    unit_id: Option<i64>,
    active: i64,
    failed_logins: i64,
    locked_until: Option<i64>,
    external_subject: Option<String>,
    email: Option<String>,
    password_set_by: Option<i64>,
    member_of: Option<String>,
}
impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(r.id),
            tenant_id: TenantId(r.tenant_id),
            username: r.username,
            full_name: r.full_name,
            password_hash: r.password_hash,
            password_set_by: r.password_set_by.map(UserId),
            role: parse(&r.role, "role")?,
            unit_id: r.unit_id.map(UnitId),
            member_of: {
                let mut units = r
                    .member_of
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.parse()
                            .map_err(|_| StoreError::Database(format!("bad membership list {s:?}")))
                    })
                    .collect::<Result<Vec<UnitId>, _>>()?;
                units.sort_unstable();
                units
            },
            active: r.active != 0,
            failed_logins: r.failed_logins,
            locked_until: r.locked_until.map(ts),
            external_subject: r.external_subject,
            email: r.email,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    token_hash: String,
    tenant_id: i64,
    user_id: i64,
    csrf_token: String,
    expires_at: i64,
    last_seen_at: i64,
}
impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            token_hash: r.token_hash,
            tenant_id: TenantId(r.tenant_id),
            user_id: UserId(r.user_id),
            csrf_token: r.csrf_token,
            expires_at: ts(r.expires_at),
            last_seen_at: ts(r.last_seen_at),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiTokenRow {
    id: i64,
    tenant_id: i64,
    name: String,
    units: String,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    created_at: i64,
}
impl From<ApiTokenRow> for ApiToken {
    fn from(r: ApiTokenRow) -> Self {
        ApiToken {
            id: r.id,
            tenant_id: TenantId(r.tenant_id),
            name: r.name,
            units: r
                .units
                .split(',')
                .filter_map(|u| u.trim().parse().ok())
                .collect(),
            expires_at: r.expires_at.map(ts),
            revoked_at: r.revoked_at.map(ts),
            created_at: ts(r.created_at),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RoutingRuleRow {
    id: i64,
    position: i64,
    keyword: Option<String>,
    topic: Option<String>,
    channel: Option<String>,
    unit_id: i64,
}
impl TryFrom<RoutingRuleRow> for (i64, RoutingRule) {
    type Error = StoreError;
    fn try_from(r: RoutingRuleRow) -> Result<Self, StoreError> {
        Ok((
            r.id,
            RoutingRule {
                position: r.position,
                keyword: r.keyword,
                topic: r.topic,
                channel: r
                    .channel
                    .as_deref()
                    .map(|c| parse(c, "channel"))
                    .transpose()?,
                unit_id: UnitId(r.unit_id),
            },
        ))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PolicyRow {
    id: i64,
    channel: Option<String>,
    unit_id: Option<i64>,
    topic: Option<String>,
    policy: String,
}
impl TryFrom<PolicyRow> for (i64, torg_domain::deadline::PolicyRule) {
    type Error = StoreError;
    fn try_from(r: PolicyRow) -> Result<Self, StoreError> {
        Ok((
            r.id,
            torg_domain::deadline::PolicyRule {
                channel: r
                    .channel
                    .as_deref()
                    .map(|c| parse(c, "channel"))
                    .transpose()?,
                unit_id: r.unit_id.map(UnitId),
                topic: r.topic,
                policy: parse(&r.policy, "deadline policy")?,
            },
        ))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CannedReplyRow {
    id: i64,
    title: String,
    body: String,
}
impl From<CannedReplyRow> for CannedReply {
    fn from(r: CannedReplyRow) -> Self {
        CannedReply {
            id: r.id,
            title: r.title,
            body: r.body,
        }
    }
}

pub(crate) const INQUIRY_COLUMNS: &str = "id, tenant_id, ref_year, ref_number, channel, status, topic, subject, citizen_name, contact_email, contact_phone, language, unit_id, assignee_id, priority, preview, received_at, acknowledged_at, first_answer_at, closed_at, deadline_at, updated_at, external_id, merged_into";

#[derive(sqlx::FromRow)]
pub(crate) struct InquiryRow {
    id: i64,
    tenant_id: i64,
    ref_year: i64,
    ref_number: i64,
    channel: String,
    status: String,
    topic: Option<String>,
    subject: Option<String>,
    citizen_name: String,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    language: String,
    unit_id: i64,
    assignee_id: Option<i64>,
    priority: i64,
    preview: String,
    received_at: i64,
    acknowledged_at: Option<i64>,
    first_answer_at: Option<i64>,
    closed_at: Option<i64>,
    deadline_at: i64,
    updated_at: i64,
    external_id: Option<String>,
    merged_into: Option<i64>,
}
impl InquiryRow {
    pub(crate) fn id(&self) -> i64 {
        self.id
    }
}
impl TryFrom<InquiryRow> for Inquiry {
    type Error = StoreError;
    fn try_from(r: InquiryRow) -> Result<Self, StoreError> {
        Ok(Inquiry {
            id: InquiryId(r.id),
            tenant_id: TenantId(r.tenant_id),
            reference: Reference {
                year: r.ref_year as i16,
                number: r.ref_number,
            },
            channel: parse(&r.channel, "channel")?,
            status: parse(&r.status, "status")?,
            topic: r.topic,
            subject: r.subject,
            citizen_name: r.citizen_name,
            contact_email: r.contact_email,
            contact_phone: r.contact_phone,
            language: r.language,
            unit_id: UnitId(r.unit_id),
            assignee_id: r.assignee_id.map(UserId),
            priority: torg_domain::Priority::from_i64(r.priority),
            preview: r.preview,
            received_at: ts(r.received_at),
            acknowledged_at: r.acknowledged_at.map(ts),
            first_answer_at: r.first_answer_at.map(ts),
            closed_at: r.closed_at.map(ts),
            deadline_at: ts(r.deadline_at),
            updated_at: ts(r.updated_at),
            external_id: r.external_id,
            merged_into: r.merged_into.map(InquiryId),
        })
    }
}

pub(crate) const SUMMARY_COLUMNS: &str = "id, ref_year, ref_number, channel, status, topic, subject, citizen_name, unit_id, assignee_id, priority, preview, received_at, deadline_at";

#[derive(sqlx::FromRow)]
pub(crate) struct SummaryRow {
    id: i64,
    ref_year: i64,
    ref_number: i64,
    channel: String,
    status: String,
    topic: Option<String>,
    subject: Option<String>,
    citizen_name: String,
    unit_id: i64,
    assignee_id: Option<i64>,
    priority: i64,
    preview: String,
    received_at: i64,
    deadline_at: i64,
}
impl TryFrom<SummaryRow> for InquirySummary {
    type Error = StoreError;
    fn try_from(r: SummaryRow) -> Result<Self, StoreError> {
        Ok(InquirySummary {
            id: InquiryId(r.id),
            reference: Reference {
                year: r.ref_year as i16,
                number: r.ref_number,
            },
            channel: parse(&r.channel, "channel")?,
            status: parse(&r.status, "status")?,
            topic: r.topic,
            subject: r.subject,
            citizen_name: r.citizen_name,
            unit_id: UnitId(r.unit_id),
            assignee_id: r.assignee_id.map(UserId),
            priority: torg_domain::Priority::from_i64(r.priority),
            preview: r.preview,
            received_at: ts(r.received_at),
            deadline_at: ts(r.deadline_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub(crate) id: i64,
    inquiry_id: i64,
    kind: String,
    author_user_id: Option<i64>,
    author_name: String,
    body: String,
    created_at: i64,
}
impl MessageRow {
    pub(crate) fn into_message(
        self,
        attachments: Vec<AttachmentMeta>,
    ) -> Result<Message, StoreError> {
        Ok(Message {
            id: self.id,
            inquiry_id: InquiryId(self.inquiry_id),
            kind: parse(&self.kind, "message kind")?,
            author_user_id: self.author_user_id.map(UserId),
            author_name: self.author_name,
            body: self.body,
            created_at: ts(self.created_at),
            attachments,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    id: i64,
    inquiry_id: i64,
    message_id: i64,
    filename: String,
    content_type: String,
    size: i64,
}
impl From<AttachmentRow> for AttachmentMeta {
    fn from(r: AttachmentRow) -> Self {
        AttachmentMeta {
            id: r.id,
            inquiry_id: InquiryId(r.inquiry_id),
            message_id: r.message_id,
            filename: r.filename,
            content_type: r.content_type,
            size: r.size,
        }
    }
}

/// Messages (ordered by inquiry and id) with their attachments, by inquiry.
pub(crate) fn group_threads(
    messages: Vec<MessageRow>,
    attachments: Vec<AttachmentRow>,
) -> Result<std::collections::HashMap<InquiryId, Vec<Message>>, StoreError> {
    let mut by_message: std::collections::HashMap<i64, Vec<AttachmentMeta>> = Default::default();
    for a in attachments {
        let a: AttachmentMeta = a.into();
        by_message.entry(a.message_id).or_default().push(a);
    }
    let mut by_inquiry: std::collections::HashMap<InquiryId, Vec<Message>> = Default::default();
    for m in messages {
        let attachments = by_message.remove(&m.id).unwrap_or_default();
        let m = m.into_message(attachments)?;
        by_inquiry.entry(m.inquiry_id).or_default().push(m);
    }
    Ok(by_inquiry)
}

/// The inquiry as it is right after creation.
pub(crate) fn fresh_inquiry(
    new: &NewInquiry,
    id: i64,
    reference: Reference,
    preview: String,
) -> Inquiry {
    let received = ts(new.received_at.as_millisecond());
    Inquiry {
        id: InquiryId(id),
        tenant_id: new.tenant_id,
        reference,
        channel: new.channel,
        status: torg_domain::InquiryStatus::New,
        topic: new.topic.clone(),
        subject: new.subject.clone(),
        citizen_name: new.citizen_name.clone(),
        contact_email: new.contact_email.clone(),
        contact_phone: new.contact_phone.clone(),
        language: new.language.clone(),
        unit_id: new.unit_id,
        assignee_id: None,
        priority: new.priority,
        preview,
        received_at: received,
        acknowledged_at: Some(received),
        first_answer_at: None,
        closed_at: None,
        deadline_at: ts(new.deadline_at.as_millisecond()),
        updated_at: received,
        external_id: new.external_id.clone(),
        merged_into: None,
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MailAccountRow {
    tenant_id: i64,
    address: String,
    display_name: String,
    imap_host: String,
    imap_port: i64,
    imap_security: String,
    imap_user: String,
    imap_password: String,
    imap_folder: String,
    smtp_host: String,
    smtp_port: i64,
    smtp_security: String,
    smtp_user: String,
    smtp_password: String,
    max_message_bytes: i64,
    blocked_extensions: String,
}

impl MailAccountRow {
    pub(crate) fn into_account(self) -> (TenantId, MailAccount) {
        (
            TenantId(self.tenant_id),
            MailAccount {
                address: self.address,
                display_name: self.display_name,
                imap: MailServer {
                    host: self.imap_host,
                    port: u16::try_from(self.imap_port).unwrap_or(993),
                    security: self.imap_security,
                    user: self.imap_user,
                    password: self.imap_password,
                },
                imap_folder: self.imap_folder,
                smtp: MailServer {
                    host: self.smtp_host,
                    port: u16::try_from(self.smtp_port).unwrap_or(587),
                    security: self.smtp_security,
                    user: self.smtp_user,
                    password: self.smtp_password,
                },
                max_message_bytes: self.max_message_bytes,
                blocked_extensions: torg_domain::email::extension_list(&self.blocked_extensions),
            },
        )
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: i64,
    pub(crate) tenant_id: i64,
    inquiry_id: Option<i64>,
    message_id: Option<i64>,
    channel: String,
    recipient: String,
    subject: String,
    header_id: String,
    in_reply_to: Option<String>,
    refs: String,
    media: Option<String>,
    unsubscribe: Option<String>,
    attempts: i64,
    body: String,
}

impl OutboxRow {
    pub(crate) fn into_item(self) -> Result<OutboxItem, StoreError> {
        Ok(OutboxItem {
            id: self.id,
            tenant_id: TenantId(self.tenant_id),
            inquiry_id: self.inquiry_id.map(InquiryId),
            message_id: self.message_id,
            channel: parse(&self.channel, "channel")?,
            recipient: self.recipient,
            subject: self.subject,
            body: self.body,
            header_id: self.header_id,
            in_reply_to: self.in_reply_to,
            references: self.refs.split_whitespace().map(String::from).collect(),
            media: self.media,
            unsubscribe: self.unsubscribe,
            attempts: self.attempts,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChannelAccountRow {
    id: i64,
    channel: String,
    name: String,
    address: String,
    owner_unit_id: Option<i64>,
    purpose: String,
    ambition: String,
    opening_hours: String,
    status: String,
    proposed_by: Option<i64>,
    decided_by: Option<i64>,
    decided_at: Option<i64>,
    created_at: i64,
}

pub(crate) const CHANNEL_ACCOUNT_COLUMNS: &str = "id, channel, name, address, owner_unit_id, purpose, ambition, opening_hours, status, proposed_by, decided_by, decided_at, created_at";

impl TryFrom<ChannelAccountRow> for ChannelAccount {
    type Error = StoreError;
    fn try_from(r: ChannelAccountRow) -> Result<Self, StoreError> {
        Ok(ChannelAccount {
            id: r.id,
            channel: parse(&r.channel, "channel")?,
            name: r.name,
            address: r.address,
            owner_unit_id: r.owner_unit_id.map(UnitId),
            purpose: r.purpose,
            ambition: parse(&r.ambition, "ambition")?,
            opening_hours: r.opening_hours,
            status: parse(&r.status, "account status")?,
            proposed_by: r.proposed_by.map(UserId),
            decided_by: r.decided_by.map(UserId),
            decided_at: r.decided_at.map(ts),
            created_at: ts(r.created_at),
        })
    }
}

pub(crate) const ARCHIVE_COLUMNS: &str = "inquiry_id, decision, reasons, decided_by, decided_at, screening_basis, screen_names, public_title";

#[derive(sqlx::FromRow)]
pub(crate) struct ArchiveRow {
    inquiry_id: i64,
    decision: String,
    reasons: String,
    decided_by: Option<i64>,
    decided_at: i64,
    screening_basis: Option<String>,
    screen_names: i64,
    public_title: Option<String>,
}
impl TryFrom<ArchiveRow> for ArchiveRecord {
    type Error = StoreError;
    fn try_from(r: ArchiveRow) -> Result<Self, StoreError> {
        Ok(ArchiveRecord {
            inquiry_id: InquiryId(r.inquiry_id),
            decision: parse(&r.decision, "archive decision")?,
            reasons: r.reasons,
            decided_by: r.decided_by.map(UserId),
            decided_at: ts(r.decided_at),
            screening: torg_domain::archive::Screening {
                basis: r
                    .screening_basis
                    .as_deref()
                    .map(|b| parse(b, "screening basis"))
                    .transpose()?,
                names: r.screen_names != 0,
                public_title: r.public_title,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeletionRow {
    reference: String,
    channel: String,
    received_at: i64,
    closed_at: Option<i64>,
    deleted_at: i64,
    messages: i64,
    attachments: i64,
    reason: String,
}
impl TryFrom<DeletionRow> for DeletionRecord {
    type Error = StoreError;
    fn try_from(r: DeletionRow) -> Result<Self, StoreError> {
        Ok(DeletionRecord {
            reference: r.reference,
            channel: parse(&r.channel, "channel")?,
            received_at: ts(r.received_at),
            closed_at: r.closed_at.map(ts),
            deleted_at: ts(r.deleted_at),
            messages: r.messages,
            attachments: r.attachments,
            reason: r.reason,
        })
    }
}
