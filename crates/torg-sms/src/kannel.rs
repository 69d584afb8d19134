//! Sending through Kannel's sendsms HTTP interface
//! (`GET /cgi-bin/sendsms?username&password&from&to&text&charset&coding`): 202 "Accepted for
//! delivery" (or "Queued for later delivery") is sent; another 4xx is for good (the answer is
//! kept and shown on the inquiry); a 5xx or no answer is tried again with backoff. A number
//! that has sent STOPP gets nothing. [`KannelDelivery`] is the SMS channel's `Deliver`: the
//! core's delivery loop claims, retries and marks.

use crate::SmsError;
use async_trait::async_trait;
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use torg_core::delivery::{self, Deliver, Outcome};
use torg_core::sealing::SecretKey;
use torg_domain::Channel;
use torg_domain::TenantId;
use torg_domain::connector::HostRules;
use torg_domain::sms::{Encoding, gsm_friendly, segments};
use torg_store::{ChannelSettings, Directory, OutboxItem, SmsGateway, StoreError};

/// How one pass over the outbox went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SmsReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Segments the sent messages took.
    pub segments: usize,
}

/// A send's failure: the gateway's answer, and whether it is for good.
type Failure = (String, bool);

async fn send_one(
    client: &reqwest::Client,
    gateway: &SmsGateway,
    callback: Option<&String>,
    item: &OutboxItem,
) -> Result<usize, Failure> {
    let text = gsm_friendly(&item.body);
    let parts = segments(&text);
    let coding = match parts.encoding {
        Encoding::Gsm7 => "0",
        Encoding::Ucs2 => "2",
    };
    let mut req = client.get(&gateway.sendsms_url);
    if let Some(cb) = callback {
        // Delivered (1), not delivered (2), handed to the SMSC (8: the entry is sent, even
        // if this node dies before it marks it), rejected by the SMSC (16).
        let url = format!("{cb}&outbox={}&type=%d", item.id);
        req = req.query(&[("dlr-mask", "27"), ("dlr-url", url.as_str())]);
    }
    let res = req
        .query(&[
            ("username", gateway.username.as_str()),
            ("password", gateway.password.as_str()),
            ("from", gateway.sender.as_str()),
            ("to", item.recipient.trim_start_matches('+')),
            ("text", text.as_str()),
            ("charset", "UTF-8"),
            ("coding", coding),
        ])
        .send()
        .await
        // The request's address carries the gateway's password: never in the error.
        .map_err(|e| {
            (
                format!("the SMS gateway did not answer: {}", e.without_url()),
                false,
            )
        })?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(parts.count)
    } else {
        let answer = format!("{} {}", status.as_u16(), text.trim());
        Err((answer, status.is_client_error()))
    }
}

/// The SMS channel's [`Deliver`]: each municipality's gateway, read from the store before
/// every pass (passwords opened with the installation's key), or fixed (tests, benchmarks).
pub struct KannelDelivery {
    client: reqwest::Client,
    lanes: usize,
    /// Where settings come from: the installation's key and the address delivery reports
    /// reach Torg at; `None` for fixed settings.
    source: Option<(SecretKey, String)>,
    settings: RwLock<Settings>,
    /// Segments the sent messages took.
    segments: AtomicUsize,
}

#[derive(Default)]
struct Settings {
    gateways: HashMap<TenantId, SmsGateway>,
    /// Per municipality, its delivery-report hook with the key (`…/hooks/sms/{slug}/dlr?key=…`).
    callbacks: HashMap<TenantId, String>,
    /// (municipality, number) of recipients of this pass that sent STOPP.
    stopped: HashSet<(TenantId, String)>,
}

impl KannelDelivery {
    /// Reads every municipality's gateway from the store before each pass; delivery reports
    /// are asked for at `public_base`.
    pub fn from_store(
        client: reqwest::Client,
        key: SecretKey,
        public_base: String,
        lanes: usize,
    ) -> KannelDelivery {
        KannelDelivery {
            client,
            lanes,
            source: Some((key, public_base)),
            settings: RwLock::default(),
            segments: AtomicUsize::new(0),
        }
    }

    /// Sends through these gateways (passwords open); `callbacks` as in [`Settings`].
    pub fn fixed(
        client: reqwest::Client,
        gateways: HashMap<TenantId, SmsGateway>,
        callbacks: HashMap<TenantId, String>,
        lanes: usize,
    ) -> KannelDelivery {
        KannelDelivery {
            client,
            lanes,
            source: None,
            settings: RwLock::new(Settings {
                gateways,
                callbacks,
                stopped: HashSet::new(),
            }),
            segments: AtomicUsize::new(0),
        }
    }

    /// Segments sent since the last call.
    pub fn take_segments(&self) -> usize {
        self.segments.swap(0, Ordering::Relaxed)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Settings> {
        self.settings.read().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Deliver for KannelDelivery {
    fn channels(&self) -> &[Channel] {
        &[Channel::Sms]
    }
    fn connector(&self, _: Channel) -> &'static str {
        "sms"
    }
    fn lanes(&self) -> usize {
        self.lanes
    }

    async fn prepare(
        &self,
        settings: &dyn ChannelSettings,
        directory: &dyn Directory,
        items: &[OutboxItem],
    ) -> Result<(), StoreError> {
        let mut fresh = None;
        if let Some((key, public_base)) = &self.source {
            let mut gateways = HashMap::new();
            let mut callbacks = HashMap::new();
            for (tenant, mut g) in settings.sms_gateways().await? {
                let place = torg_core::sealing::Place::SmsGateway { tenant };
                let Ok(password) = key.open(&place, &g.password) else {
                    tracing::warn!(%tenant, "the SMS gateway's password cannot be opened");
                    continue;
                };
                g.password = password;
                if let Some(m) = directory.municipality(tenant).await? {
                    callbacks.insert(
                        tenant,
                        format!(
                            "{public_base}/hooks/sms/{}/dlr?key={}",
                            m.slug, g.inbound_key
                        ),
                    );
                }
                gateways.insert(tenant, g);
            }
            fresh = Some((gateways, callbacks));
        }
        // Consent is read before the sends start, so no send waits on the database.
        let mut stopped = HashSet::new();
        for item in items {
            if settings
                .sms_stopped(item.tenant_id, &item.recipient)
                .await?
            {
                stopped.insert((item.tenant_id, item.recipient.clone()));
            }
        }
        let mut settings = self.settings.write().unwrap_or_else(|e| e.into_inner());
        if let Some((gateways, callbacks)) = fresh {
            settings.gateways = gateways;
            settings.callbacks = callbacks;
        }
        settings.stopped = stopped;
        Ok(())
    }

    fn secrets(&self) -> Vec<String> {
        let settings = self.read();
        settings
            .gateways
            .values()
            .flat_map(SmsGateway::secrets)
            .collect()
    }

    fn destination(&self, item: &OutboxItem) -> Option<String> {
        let settings = self.read();
        let gateway = settings.gateways.get(&item.tenant_id)?;
        torg_domain::connector::url_host(&gateway.sendsms_url)
    }

    async fn deliver(&self, _lane: usize, item: &OutboxItem, _now: Timestamp) -> Outcome {
        let (gateway, callback) = {
            let settings = self.read();
            if settings
                .stopped
                .contains(&(item.tenant_id, item.recipient.clone()))
            {
                return Outcome::failed("the recipient has sent STOPP");
            }
            let Some(gateway) = settings.gateways.get(&item.tenant_id).cloned() else {
                return Outcome::retry("the municipality has no SMS gateway");
            };
            (gateway, settings.callbacks.get(&item.tenant_id).cloned())
        };
        match send_one(&self.client, &gateway, callback.as_ref(), item).await {
            Ok(parts) => {
                self.segments.fetch_add(parts, Ordering::Relaxed);
                Outcome::Sent
            }
            Err((why, true)) => Outcome::failed(why),
            Err((why, false)) => Outcome::retry(why),
        }
    }
}

/// Claims the SMS due at `now` and hands them to each municipality's gateway, `concurrency`
/// requests at a time: one pass of the core's delivery loop with fixed gateways.
pub async fn send_due(
    store: &dyn torg_store::Outgoing,
    gateways: &HashMap<TenantId, SmsGateway>,
    callbacks: &HashMap<TenantId, String>,
    client: &reqwest::Client,
    now: Timestamp,
    limit: u32,
    concurrency: usize,
) -> Result<SmsReport, SmsError> {
    let sms = KannelDelivery::fixed(
        client.clone(),
        gateways.clone(),
        callbacks.clone(),
        concurrency,
    );
    let r = delivery::pass(store, &sms, &HostRules::any(), now, limit).await?;
    Ok(SmsReport {
        sent: r.sent,
        retried: r.retried,
        failed: r.failed,
        segments: sms.take_segments(),
    })
}
