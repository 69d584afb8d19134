//! Receiving an inquiry from any channel: validate, route, set the deadline, store durably.

use jiff::Timestamp;
use torg_domain::calendar::{Country, DayHours, HoursScope, WorkingCalendar};
use torg_domain::contact::{Contact, ContactError};
use torg_domain::deadline::{DeadlinePolicy, PlannedPeak, PolicyRule, active_peak, resolve};
use torg_domain::inquiry::{InputError, TextLimits, optional_text, required_text};
use torg_domain::routing::{RoutingInput, RoutingRule, route};
use torg_domain::{Channel, Priority};
use torg_domain::{InquiryId, UnitId};
use torg_store::{
    ClosedDay, Created, Municipality, NewAcknowledgement, NewAttachment, NewInquiry, NewOutgoing,
    Origin, Store, StoreError, Unit,
};

/// What a channel hands over, as the citizen wrote it (unvalidated).
#[derive(Debug, Clone, Default)]
pub struct InquiryInput {
    pub citizen_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub topic: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub language: Option<String>,
    pub priority: Option<Priority>,
    pub external_id: Option<String>,
    pub attachments: Vec<NewAttachment>,
    /// Who sent it in and from where, for the audit log.
    pub origin: Origin,
    /// Send the acknowledgement on the inquiry's own channel (email, SMS): `{referanse}` in
    /// the subject is filled in by the store.
    pub acknowledge_by: Option<NewOutgoing>,
    /// The unit, when the channel has decided it (an SMS code word); else the routing rules.
    pub unit_id: Option<UnitId>,
    /// A private conversation's key (see `NewInquiry::thread_key`).
    pub thread_key: Option<String>,
}

/// The municipality's settings that intake needs, cached by callers between requests.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    pub municipality: Municipality,
    pub units: Vec<Unit>,
    pub rules: Vec<RoutingRule>,
    pub policies: Vec<PolicyRule>,
    /// The municipality's own acknowledgement texts by language.
    pub acknowledgements: Vec<(String, String)>,
    /// Planned peaks that have not ended.
    pub peaks: Vec<PlannedPeak>,
    /// Opening hours and closed days in the municipality's time zone.
    pub calendar: WorkingCalendar,
    /// Calendars of units and channels whose hours differ (same holidays and closed days).
    pub scoped_calendars: Vec<(HoursScope, WorkingCalendar)>,
}

impl TenantConfig {
    pub async fn load(
        store: &dyn Store,
        municipality: Municipality,
    ) -> Result<TenantConfig, StoreError> {
        let units = store.list_units(municipality.id).await?;
        let rules = (store.list_routing_rules(municipality.id).await?)
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        let policies = (store.list_deadline_policies(municipality.id).await?)
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        let acknowledgements = store.acknowledgement_templates(municipality.id).await?;
        let peaks = store
            .peaks(
                municipality.id,
                jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 30),
            )
            .await?;
        let weekly = store.opening_hours(municipality.id).await?;
        let closed = store.list_closed_days(municipality.id).await?;
        let calendar = calendar_of(&municipality, weekly, &closed);
        let scoped_calendars = store
            .scoped_opening_hours(municipality.id)
            .await?
            .into_iter()
            .filter_map(|(scope, weekly)| calendar.with_weekly(weekly).ok().map(|c| (scope, c)))
            .collect();
        Ok(TenantConfig {
            municipality,
            units,
            rules,
            policies,
            acknowledgements,
            peaks,
            calendar,
            scoped_calendars,
        })
    }

    /// The unit that gets what no rule claims: the service desk, else the first unit.
    pub fn fallback_unit(&self) -> Option<&Unit> {
        self.units
            .iter()
            .find(|u| u.is_service_desk)
            .or_else(|| self.units.first())
    }

    pub fn unit(&self, id: UnitId) -> Option<&Unit> {
        self.units.iter().find(|u| u.id == id)
    }
}

/// The working calendar of a municipality in its time zone, with its country's public
/// holidays: its own weekly hours (default office hours, Monday–Friday 08:00–15:30) and its
/// own closed and shortened days.
pub fn calendar_of(
    municipality: &Municipality,
    weekly: Option<[DayHours; 7]>,
    closed: &[ClosedDay],
) -> WorkingCalendar {
    let zone = &municipality.time_zone;
    let base = match weekly {
        Some(w) => WorkingCalendar::new(zone, w, Country::of_time_zone(zone)),
        None => WorkingCalendar::office_hours(zone),
    };
    let mut calendar = base
        .or_else(|_| WorkingCalendar::office_hours("UTC"))
        .expect("UTC is always a time zone");
    for day in closed {
        calendar = match day.closes_at {
            Some(at) => calendar.close_early(day.date, at),
            None => calendar.close_on(day.date),
        };
    }
    calendar
}

/// Recomputes the deadlines of every open inquiry after a policy or calendar change; returns
/// how many changed.
pub async fn recompute_deadlines(
    store: &dyn Store,
    config: &TenantConfig,
) -> Result<u64, StoreError> {
    let tenant = config.municipality.id;
    let updates: Vec<(InquiryId, jiff::Timestamp)> = store
        .open_deadline_inputs(tenant)
        .await?
        .into_iter()
        .map(|i| {
            (
                i.id,
                config.deadline(i.channel, i.unit_id, i.topic.as_deref(), i.received_at),
            )
        })
        .collect();
    store.set_deadlines(tenant, &updates).await
}

impl TenantConfig {
    /// The municipality's country (its law), by its time zone.
    pub fn country(&self) -> Option<torg_domain::calendar::Country> {
        torg_domain::calendar::Country::of_time_zone(&self.municipality.time_zone)
    }

    /// The deadline policy for an inquiry on `channel` routed to `unit_id` about `topic`.
    pub fn policy(&self, channel: Channel, unit_id: UnitId, topic: Option<&str>) -> DeadlinePolicy {
        resolve(self.country(), &self.policies, channel, unit_id, topic)
    }

    /// The calendar an inquiry's deadline is counted on: the channel's own hours if it has
    /// them (e.g. chat), else the unit's, else the municipality's.
    pub fn calendar_for(&self, channel: Channel, unit_id: UnitId) -> &WorkingCalendar {
        let find = |scope: HoursScope| {
            self.scoped_calendars
                .iter()
                .find(|(s, _)| *s == scope)
                .map(|(_, c)| c)
        };
        find(HoursScope::Channel(channel))
            .or_else(|| find(HoursScope::Unit(unit_id)))
            .unwrap_or(&self.calendar)
    }

    /// The deadline of an inquiry on `channel`, routed to `unit_id`, about `topic`, received
    /// at `received`.
    pub fn deadline(
        &self,
        channel: Channel,
        unit_id: UnitId,
        topic: Option<&str>,
        received: jiff::Timestamp,
    ) -> jiff::Timestamp {
        self.policy_at(channel, unit_id, topic, received)
            .deadline(self.calendar_for(channel, unit_id), received)
    }

    /// The acknowledgement template in `language`: the municipality's own, else the default.
    pub fn acknowledgement_template(&self, language: &str) -> &str {
        self.acknowledgements
            .iter()
            .find(|(l, _)| l == language)
            .map(|(_, b)| b.as_str())
            .unwrap_or_else(|| torg_domain::reply::default_acknowledgement(language))
    }

    /// The policy at `received`: a planned peak's when one covers it, else [`Self::policy`].
    pub fn policy_at(
        &self,
        channel: Channel,
        unit_id: UnitId,
        topic: Option<&str>,
        received: jiff::Timestamp,
    ) -> DeadlinePolicy {
        active_peak(&self.peaks, received)
            .map(|p| p.policy)
            .unwrap_or_else(|| self.policy(channel, unit_id, topic))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Contact(#[from] ContactError),
    #[error("the municipality has no units yet; an administrator must create one")]
    NoUnits,
    #[error("attachment {0:?} is larger than the limit of {1} bytes")]
    AttachmentTooLarge(String, usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntakeError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            IntakeError::Input(e) => e.code(),
            IntakeError::Contact(e) => e.code(),
            IntakeError::NoUnits => "no_units",
            IntakeError::AttachmentTooLarge(..) => "attachment_too_large",
            IntakeError::Store(_) => "storage_error",
        }
    }
}

/// Limits on intake.
#[derive(Debug, Clone, Copy)]
pub struct IntakeLimits {
    pub text: TextLimits,
    pub max_attachment_bytes: usize,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            text: TextLimits::default(),
            max_attachment_bytes: 25 * 1024 * 1024,
        }
    }
}

/// What an acknowledgement is written from.
pub struct AckFacts<'a> {
    pub citizen_name: &'a str,
    pub language: &'a str,
    pub deadline_at: Timestamp,
    /// The secret part of the follow link; the link is `<id>-<secret>`, and `{id}` in the
    /// text is filled in by the store.
    pub follow_secret: &'a str,
}

/// Writes the acknowledgement text of a new inquiry; `{referanse}` and `{id}` may be left in
/// it for the store to fill.
pub type Acknowledger = dyn Fn(&AckFacts<'_>) -> String + Send + Sync;

/// A received inquiry and, when it is new, the follow link's token `<id>-<secret>` (shown
/// once; only the secret's hash is stored).
pub struct Received {
    pub created: Created,
    pub follow_token: String,
}

/// Validates, routes and stores an inquiry. Returns only after the inquiry is committed.
pub async fn receive(
    store: &dyn Store,
    config: &TenantConfig,
    channel: Channel,
    input: InquiryInput,
    limits: IntakeLimits,
    now: Timestamp,
    acknowledger: Option<&Acknowledger>,
) -> Result<Received, IntakeError> {
    let max = limits.text.max_text_bytes;
    let topic = input
        .topic
        .as_deref()
        .map(|t| optional_text("topic", t, 200))
        .transpose()?
        .flatten();
    let subject = input
        .subject
        .as_deref()
        .map(|t| optional_text("subject", t, 500))
        .transpose()?
        .flatten();
    let body = required_text("message", &input.body, max)?;
    // A request for access is its own kind, with its own deadline, even when the citizen did
    // not choose the topic.
    let topic = topic.or_else(|| {
        torg_domain::access_request::looks_like(&format!(
            "{}\n{body}",
            subject.as_deref().unwrap_or("")
        ))
        .then(|| torg_domain::access_request::TOPIC.to_string())
    });
    // Access may be asked for anonymously, without a name or an address: the answer is on
    // the follow page.
    let access = topic.as_deref() == Some(torg_domain::access_request::TOPIC);
    let language = match input.language.as_deref() {
        Some(l @ ("nb" | "nn" | "sv" | "en" | "fi")) => l.to_string(),
        _ => config.municipality.language.clone(),
    };
    let citizen_name = if access && input.citizen_name.trim().is_empty() {
        torg_domain::access_request::anonymous_name(&language).to_string()
    } else {
        required_text("name", &input.citizen_name, 200)?
    };
    let contact = match Contact::parse(input.email.as_deref(), input.phone.as_deref()) {
        // A caller was answered on the phone, and a chat or a social network answers on
        // itself: no address or number is needed to reach them.
        Err(ContactError::NoContact)
            if matches!(channel, Channel::Phone | Channel::Chat | Channel::Listening)
                || channel.is_public()
                || access =>
        {
            Contact {
                email: None,
                phone: None,
            }
        }
        parsed => parsed?,
    };
    let external_id = input
        .external_id
        .as_deref()
        .map(|t| optional_text("external_id", t, 500))
        .transpose()?
        .flatten();
    for a in &input.attachments {
        if a.data.len() > limits.max_attachment_bytes {
            return Err(IntakeError::AttachmentTooLarge(
                a.filename.clone(),
                limits.max_attachment_bytes,
            ));
        }
    }
    let fallback = config.fallback_unit().ok_or(IntakeError::NoUnits)?;
    let routing_text = format!("{}\n{}", subject.as_deref().unwrap_or(""), body);
    // A unit chosen by the channel (an SMS code word) wins over the routing rules.
    let unit_id = match input.unit_id.filter(|u| config.unit(*u).is_some()) {
        Some(unit) => unit,
        None => route(
            &config.rules,
            &RoutingInput {
                channel,
                topic: topic.as_deref(),
                text: &routing_text,
            },
            fallback.id,
        ),
    };
    let reference_year = jiff::tz::TimeZone::get(&config.municipality.time_zone)
        .map(|tz| now.to_zoned(tz).year())
        .unwrap_or_else(|_| now.to_zoned(jiff::tz::TimeZone::UTC).year());
    let deadline_at = config.deadline(channel, unit_id, topic.as_deref(), now);
    let secret = crate::secrets::new_token();
    let acknowledgement = acknowledger.map(|write| NewAcknowledgement {
        outgoing: input.acknowledge_by.clone(),
        author_name: config.municipality.name.clone(),
        body: write(&AckFacts {
            citizen_name: &citizen_name,
            language: &language,
            deadline_at,
            follow_secret: &secret,
        }),
    });
    let created = store
        .create_inquiry(NewInquiry {
            tenant_id: config.municipality.id,
            channel,
            topic,
            subject,
            citizen_name,
            contact_email: contact.email.map(|e| e.as_str().to_string()),
            contact_phone: contact.phone.map(|p| p.as_str().to_string()),
            language,
            unit_id,
            priority: input.priority.unwrap_or(Priority::Normal),
            follow_token_hash: crate::secrets::token_hash(&secret),
            body,
            attachments: input.attachments,
            received_at: now,
            reference_year,
            deadline_at,
            external_id,
            thread_key: input.thread_key,
            acknowledgement,
            origin: input.origin,
        })
        .await?;
    let follow_token = format!("{}-{secret}", created.inquiry.id);
    Ok(Received {
        created,
        follow_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn setup() -> (tempfile::TempDir, std::sync::Arc<dyn Store>, TenantConfig) {
        let dir = tempfile::tempdir().expect("tmp");
        let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
            .await
            .expect("open");
        let f = torg_store::conformance::fixture(&*store).await;
        store
            .create_routing_rule(
                f.tenant.id,
                RoutingRule {
                    position: 1,
                    keyword: Some("barnehage".into()),
                    topic: None,
                    channel: None,
                    unit_id: f.other_unit.id,
                },
                None,
            )
            .await
            .expect("rule");
        let config = TenantConfig::load(&*store, f.tenant).await.expect("config");
        (dir, store, config)
    }

    fn input(body: &str) -> InquiryInput {
        InquiryInput {
            citizen_name: "Ola".into(),
            email: Some("ola@example.no".into()),
            body: body.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn routes_by_keyword_and_falls_back_to_the_service_desk() {
        let (_d, store, config) = setup().await;
        let now = Timestamp::now();
        let r = receive(
            &*store,
            &config,
            Channel::Web,
            input("Barnehageplass?"),
            IntakeLimits::default(),
            now,
            None,
        )
        .await
        .expect("ok");
        assert_eq!(
            config
                .unit(r.created.inquiry.unit_id)
                .map(|u| u.name.as_str()),
            Some("Oppvekst")
        );
        let r = receive(
            &*store,
            &config,
            Channel::Web,
            input("Søppel"),
            IntakeLimits::default(),
            now,
            None,
        )
        .await
        .expect("ok");
        assert_eq!(
            config
                .unit(r.created.inquiry.unit_id)
                .map(|u| u.name.as_str()),
            Some("Servicetorget")
        );
        assert!(r.created.inquiry.deadline_at > now);
        let by_token = store
            .inquiry_by_follow_token(
                config.municipality.id,
                r.created.inquiry.id,
                &crate::secrets::token_hash(
                    crate::secrets::split_follow_token(&r.follow_token)
                        .expect("token shape")
                        .1,
                ),
            )
            .await
            .expect("get");
        assert_eq!(by_token.map(|i| i.id), Some(r.created.inquiry.id));
    }

    #[tokio::test]
    async fn refuses_bad_input_with_a_code() {
        let (_d, store, config) = setup().await;
        let now = Timestamp::now();
        let mut no_contact = input("hei");
        no_contact.email = None;
        let e = receive(
            &*store,
            &config,
            Channel::Web,
            no_contact.clone(),
            IntakeLimits::default(),
            now,
            None,
        )
        .await
        .err()
        .expect("error");
        assert_eq!(e.code(), "missing_contact");
        // A phone call from a hidden number is still logged.
        let call = receive(
            &*store,
            &config,
            Channel::Phone,
            no_contact,
            IntakeLimits::default(),
            now,
            None,
        )
        .await
        .expect("a call without a number");
        assert_eq!(call.created.inquiry.contact_phone, None);
        let long = "x".repeat(70_000);
        let e = receive(
            &*store,
            &config,
            Channel::Web,
            input(&long),
            IntakeLimits::default(),
            now,
            None,
        )
        .await
        .err()
        .expect("error");
        assert_eq!(e.code(), "too_long");
        let e = receive(
            &*store,
            &config,
            Channel::Web,
            input("  "),
            IntakeLimits::default(),
            now,
            None,
        )
        .await
        .err()
        .expect("error");
        assert_eq!(e.code(), "missing_field");
        assert_eq!(
            store
                .count_inquiries(config.municipality.id)
                .await
                .expect("count"),
            1,
            "only the call was stored"
        );
    }
}
