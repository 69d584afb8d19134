//! An SMS in: STOPP/START manage the number's consent; a digit 1–5 from a number that was
//! asked the satisfaction question in the last week answers it; otherwise it becomes an inquiry on the
//! SMS channel, in the unit its code word (kodeord) names, acknowledged by SMS through the
//! outbox. The gateway's message id makes a repeated callback a no-op.

use crate::intake::{Acknowledger, InquiryInput, IntakeError, IntakeLimits, TenantConfig, receive};
use jiff::Timestamp;
use torg_domain::Channel;
use torg_domain::contact::PhoneNumber;
use torg_domain::sms::{ConsentWord, consent_word, first_word};
use torg_domain::{InquiryId, UnitId};
use torg_store::{NewOutgoing, Origin, Store};

/// One message from the gateway.
#[derive(Debug, Clone)]
pub struct IncomingSms<'a> {
    pub from: &'a str,
    pub text: &'a str,
    /// The gateway's id of the message, if it gives one.
    pub gateway_id: Option<&'a str>,
}

/// What became of an SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsOutcome {
    Created {
        inquiry_id: InquiryId,
        unit_id: UnitId,
    },
    /// The same message again.
    Duplicate,
    Stopped,
    Started,
    /// It answered the satisfaction question (or answered it again: kept once).
    SurveyAnswered,
}

/// Takes one SMS in for `config`'s municipality.
/// A sender's number as the gateway writes it: international numbers come without the plus
/// (4791234567).
pub fn gateway_number(from: &str) -> Result<PhoneNumber, torg_domain::contact::ContactError> {
    let from = from.trim();
    let international = from.len() > 8 && from.bytes().all(|b| b.is_ascii_digit());
    if international {
        PhoneNumber::parse(&format!("+{from}"))
    } else {
        PhoneNumber::parse(from)
    }
}

pub async fn receive_sms(
    store: &dyn Store,
    config: &TenantConfig,
    sms: &IncomingSms<'_>,
    limits: IntakeLimits,
    now: Timestamp,
    acknowledger: Option<&Acknowledger>,
) -> Result<SmsOutcome, IntakeError> {
    let tenant = config.municipality.id;
    let phone = gateway_number(sms.from)?;
    match consent_word(sms.text) {
        Some(ConsentWord::Stop) => {
            store
                .set_sms_consent(tenant, phone.as_str(), true, now)
                .await?;
            return Ok(SmsOutcome::Stopped);
        }
        Some(ConsentWord::Start) => {
            store
                .set_sms_consent(tenant, phone.as_str(), false, now)
                .await?;
            return Ok(SmsOutcome::Started);
        }
        None => {}
    }
    if let Some(answer) = torg_domain::evaluation::SurveyAnswer::from_sms(sms.text)
        && let Some(survey) = store
            .sms_survey_waiting(
                tenant,
                phone.as_str(),
                now - torg_domain::evaluation::SURVEY_STALE,
                now - jiff::SignedDuration::from_hours(1),
            )
            .await?
    {
        // The gateway's retry within the hour finds it answered: kept once, no inquiry.
        store.answer_survey(tenant, survey.id, &answer, now).await?;
        return Ok(SmsOutcome::SurveyAnswered);
    }
    let (word, _) = first_word(sms.text);
    let keyword: Option<torg_store::SmsKeyword> = store
        .sms_keywords(tenant)
        .await?
        .into_iter()
        .find(|k| k.keyword == word);
    let stopped = store.sms_stopped(tenant, phone.as_str()).await?;
    let input = InquiryInput {
        citizen_name: phone.as_str().to_string(),
        phone: Some(phone.as_str().to_string()),
        topic: keyword.as_ref().map(|k| k.keyword.clone()),
        body: sms.text.to_string(),
        external_id: sms.gateway_id.map(|id| format!("sms:{id}")),
        unit_id: keyword.as_ref().and_then(|k| k.unit_id),
        origin: Origin {
            actor: "sms".into(),
            source: phone.as_str().to_string(),
        },
        // A number that has said STOPP gets no acknowledgement; the inquiry is still taken.
        acknowledge_by: (!stopped).then(|| NewOutgoing {
            media: None,
            channel: Channel::Sms,
            recipient: phone.as_str().to_string(),
            subject: String::new(),
            header_id: format!("<sms-{}@torg>", &crate::secrets::new_token()[..24]),
            in_reply_to: None,
            references: vec![],
        }),
        ..Default::default()
    };
    // A code word with an answer of its own answers with it ({referanse} filled in by the
    // store); otherwise the municipality's acknowledgement.
    let own_answer = keyword
        .as_ref()
        .map(|k| k.reply.clone())
        .filter(|r| !r.trim().is_empty());
    let keyword_ack = own_answer.map(|text| move |_: &crate::intake::AckFacts<'_>| text.clone());
    let acknowledger: Option<&Acknowledger> = match &keyword_ack {
        Some(f) => Some(f),
        None => acknowledger,
    };
    let received = receive(
        store,
        config,
        Channel::Sms,
        input,
        limits,
        now,
        acknowledger,
    )
    .await?;
    if !received.created.created {
        return Ok(SmsOutcome::Duplicate);
    }
    Ok(SmsOutcome::Created {
        inquiry_id: received.created.inquiry.id,
        unit_id: received.created.inquiry.unit_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use torg_store::SmsKeyword;

    /// A reply with a digit answers the satisfaction question sent by SMS (the gateway's
    /// retry of it too), once; a digit from a number with no question waiting is an inquiry.
    #[tokio::test]
    async fn a_digit_answers_the_question_asked_by_sms() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
            .await
            .expect("open");
        let f = torg_store::conformance::fixture(&*store).await;
        let tenant = f.tenant.id;
        let config = TenantConfig::load(&*store, f.tenant).await.expect("config");
        let take = |text: &'static str, id: &'static str, at: Timestamp| {
            let (store, config) = (&store, &config);
            async move {
                receive_sms(
                    &**store,
                    config,
                    &IncomingSms {
                        from: "4791234567",
                        text,
                        gateway_id: Some(id),
                    },
                    IntakeLimits::default(),
                    at,
                    None,
                )
                .await
                .expect("taken")
            }
        };
        let now = Timestamp::now();
        let SmsOutcome::Created { inquiry_id, .. } = take("Når går bussen?", "g1", now).await
        else {
            panic!("an inquiry");
        };
        crate::casework::set_status(
            &*store,
            &crate::actor::Actor::system("test"),
            tenant,
            inquiry_id,
            torg_domain::InquiryStatus::Closed,
            now,
        )
        .await
        .expect("close");
        let surveys = crate::evaluation::Surveys {
            catalog: std::sync::Arc::new(torg_i18n::Catalog::load(None).expect("catalog")),
            base_url: "https://torg.example".into(),
        };
        let asked =
            now + torg_domain::evaluation::SURVEY_DELAY + jiff::SignedDuration::from_secs(1);
        assert_eq!(
            crate::evaluation::send_due_surveys(&*store, &surveys, asked)
                .await
                .expect("asked"),
            1
        );
        let question = store
            .claim_outbox(Channel::Sms, asked, jiff::SignedDuration::from_secs(60), 10)
            .await
            .expect("outbox")
            .into_iter()
            .find(|o| o.inquiry_id == Some(inquiry_id))
            .expect("the question");
        assert!(
            question.body.contains("Svar med et tall fra 1"),
            "{}",
            question.body
        );
        let later = asked + jiff::SignedDuration::from_hours(1);
        assert_eq!(
            take("4 Takk for hjelpa", "g2", later).await,
            SmsOutcome::SurveyAnswered
        );
        let survey = store
            .survey_for_inquiry(tenant, inquiry_id)
            .await
            .expect("survey")
            .expect("survey");
        assert_eq!(survey.score, Some(4));
        // The gateway's retry: kept once, and no inquiry of it.
        assert_eq!(
            take(
                "4 Takk for hjelpa",
                "g2",
                later + jiff::SignedDuration::from_mins(1)
            )
            .await,
            SmsOutcome::SurveyAnswered
        );
        assert_eq!(store.count_inquiries(tenant).await.expect("count"), 1);
        // Hours after the answer, a digit is an inquiry again.
        assert!(matches!(
            take("5", "g3", later + jiff::SignedDuration::from_hours(2)).await,
            SmsOutcome::Created { .. }
        ));
        assert_eq!(
            store
                .survey_for_inquiry(tenant, inquiry_id)
                .await
                .expect("survey")
                .expect("survey")
                .score,
            Some(4)
        );
    }

    #[tokio::test]
    async fn code_words_route_and_may_answer_on_their_own() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
            .await
            .expect("open");
        let f = torg_store::conformance::fixture(&*store).await;
        store
            .set_sms_keyword(
                f.tenant.id,
                &SmsKeyword {
                    keyword: "vann".into(),
                    unit_id: Some(f.other_unit.id),
                    reply: "Takk! Vannverket er varslet. Sak {referanse}.".into(),
                },
                None,
            )
            .await
            .expect("keyword");
        let config = TenantConfig::load(&*store, f.tenant).await.expect("config");
        let general: Box<Acknowledger> = Box::new(|_| "Vi har mottatt meldingen.".to_string());
        let take = |from: &'static str, text: &'static str| {
            let (store, config, general) = (&store, &config, &general);
            async move {
                receive_sms(
                    &**store,
                    config,
                    &IncomingSms {
                        from,
                        text,
                        gateway_id: None,
                    },
                    IntakeLimits::default(),
                    Timestamp::now(),
                    Some(&**general),
                )
                .await
                .expect("taken")
            }
        };
        let SmsOutcome::Created {
            inquiry_id,
            unit_id,
        } = take("4791234567", "Vann lekker i kjelleren").await
        else {
            panic!("an inquiry");
        };
        assert_eq!(unit_id, f.other_unit.id);
        let thread = store
            .messages(config.municipality.id, inquiry_id, true)
            .await
            .expect("thread");
        let inquiry = store
            .inquiry(config.municipality.id, inquiry_id)
            .await
            .expect("i")
            .expect("i");
        assert_eq!(
            thread[1].body,
            format!("Takk! Vannverket er varslet. Sak {}.", inquiry.reference)
        );
        let SmsOutcome::Created { inquiry_id, .. } = take("4791234567", "Hei, et spørsmål").await
        else {
            panic!("an inquiry");
        };
        let thread = store
            .messages(config.municipality.id, inquiry_id, true)
            .await
            .expect("thread");
        assert_eq!(
            thread[1].body, "Vi har mottatt meldingen.",
            "no code word: the general one"
        );
        assert_eq!(take("4791234567", "stopp").await, SmsOutcome::Stopped);
        let bad = receive_sms(
            &*store,
            &config,
            &IncomingSms {
                from: "ikke et nummer",
                text: "Hei",
                gateway_id: None,
            },
            IntakeLimits::default(),
            Timestamp::now(),
            None,
        )
        .await;
        assert!(matches!(bad, Err(IntakeError::Contact(_))));
    }
}
