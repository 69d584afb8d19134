//! The automatic acknowledgement (kvittering): every new inquiry gets one in its thread, in
//! the citizen's language, saying it was received, its reference, when to expect an answer
//! (in words), the opening hours and the follow link. It is written in the same transaction
//! as the inquiry. On the web it is shown on the follow page; channel connectors deliver it
//! on their channel. Every channel, the web layer's and the workers', writes it here.

use crate::intake::{AckFacts, Acknowledger, TenantConfig};
use std::sync::Arc;
use torg_domain::reply::fill_acknowledgement;
use torg_i18n::words::{in_words, opening_hours};
use torg_i18n::{Catalog, Tr};

/// What an acknowledgement needs besides the municipality: the interface texts and the
/// address follow links start with (the installation's public address).
#[derive(Clone)]
pub struct Acknowledgements {
    pub catalog: Arc<Catalog>,
    pub base_url: String,
}

impl Acknowledgements {
    pub fn new(catalog: Arc<Catalog>, base_url: &str) -> Acknowledgements {
        Acknowledgements {
            catalog,
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    /// The writer of `config`'s municipality's acknowledgements.
    pub fn for_tenant(&self, config: Arc<TenantConfig>) -> Box<Acknowledger> {
        Box::new(acknowledger(
            self.catalog.clone(),
            config,
            self.base_url.clone(),
        ))
    }
}

/// Writes acknowledgements for inquiries of `config`'s municipality, with follow links on
/// `base_url`. `{referanse}` and `{id}` are left for the store to fill in.
pub fn acknowledger(
    catalog: Arc<Catalog>,
    config: Arc<TenantConfig>,
    base_url: String,
) -> impl Fn(&AckFacts<'_>) -> String + Send + Sync + use<> {
    move |facts: &AckFacts<'_>| {
        let t = Tr::new(catalog.clone(), facts.language);
        let zone = &config.municipality.time_zone;
        let deadline = in_words(&t, facts.deadline_at, zone);
        let hours = opening_hours(&t, config.calendar.weekly()).join(", ");
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
