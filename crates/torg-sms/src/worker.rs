//! The SMS sender of `torg serve`: every second, what the outbox holds for SMS goes to each
//! municipality's gateway (passwords opened with the installation's key).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use torg_core::sealing::SecretKey;
use torg_store::Store;

/// Starts the sender; it runs until the process ends. Delivery reports are asked for at
/// `public_base` (the address the gateway reaches Torg at).
pub fn spawn(store: Arc<dyn Store>, key: SecretKey, client: reqwest::Client, public_base: String) {
    tokio::spawn(async move {
        loop {
            let gateways = match store.sms_gateways().await {
                Ok(all) => all
                    .into_iter()
                    .filter_map(|(t, mut g)| {
                        g.password = key.open(&g.password).ok()?;
                        Some((t, g))
                    })
                    .collect::<HashMap<_, _>>(),
                Err(e) => {
                    tracing::warn!(error = %e, "SMS gateways not read");
                    HashMap::new()
                }
            };
            let mut callbacks = HashMap::new();
            for (tenant, g) in &gateways {
                if let Ok(Some(m)) = store.municipality(*tenant).await {
                    callbacks.insert(
                        *tenant,
                        format!(
                            "{public_base}/hooks/sms/{}/dlr?key={}",
                            m.slug, g.inbound_key
                        ),
                    );
                }
            }
            if !gateways.is_empty() {
                match crate::kannel::send_due(
                    &*store,
                    &gateways,
                    &callbacks,
                    &client,
                    jiff::Timestamp::now(),
                    1000,
                    32,
                )
                .await
                {
                    Ok(r) if r.sent + r.retried + r.failed > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "sending SMS failed"),
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}
