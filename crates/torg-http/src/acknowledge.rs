//! The automatic acknowledgement (kvittering): every new inquiry gets one in its thread, in
//! the citizen's language, saying it was received, its reference, when to expect an answer
//! (in words), the opening hours and the follow link. It is written in the same transaction
//! as the inquiry. On the web it is shown on the follow page; channel connectors deliver it
//! on their channel.

use crate::AppState;
use crate::i18n::Tr;
use crate::views;
use std::sync::Arc;
use torg_core::intake::{AckFacts, TenantConfig};
use torg_domain::reply::fill_acknowledgement;

/// The acknowledgement writer for a channel connector (email): follow links on the configured
/// public address, else `fallback_base_url`.
pub fn acknowledger_for(
    state: &AppState,
    config: Arc<TenantConfig>,
    fallback_base_url: &str,
) -> Box<torg_core::intake::Acknowledger> {
    let base = state
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| fallback_base_url.to_string());
    Box::new(acknowledger(
        state,
        config,
        base.trim_end_matches('/').to_string(),
    ))
}

/// Writes acknowledgements for inquiries of `config`'s municipality, with follow links on
/// `base_url`. `{referanse}` and `{id}` are left for the store to fill in.
pub fn acknowledger(
    state: &AppState,
    config: Arc<TenantConfig>,
    base_url: String,
) -> impl Fn(&AckFacts<'_>) -> String + Send + Sync + use<> {
    let catalog = state.catalog.clone();
    move |facts: &AckFacts<'_>| {
        let t = Tr::new(catalog.clone(), facts.language);
        let zone = &config.municipality.time_zone;
        let deadline = views::in_words(&t, facts.deadline_at, zone);
        let hours = views::opening_hours(&t, config.calendar.weekly()).join(", ");
        let link = format!(
            "{base_url}/k/{}/follow/{{id}}-{}",
            config.municipality.slug, facts.follow_secret
        );
        fill_acknowledgement(
            config.acknowledgement_template(facts.language),
            &[
                ("navn", facts.citizen_name),
                ("frist", deadline.as_str()),
                ("apningstider", hours.as_str()),
                ("lenke", link.as_str()),
            ],
        )
    }
}
