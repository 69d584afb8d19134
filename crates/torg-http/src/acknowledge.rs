//! Acknowledgements from the web layer's channels (portal, API, chat, hooks): the core's
//! writer (`torg_core::acknowledge`) with the installation's public address.

use crate::AppState;
use std::sync::Arc;
use torg_core::acknowledge::Acknowledgements;
use torg_core::intake::TenantConfig;

/// The acknowledgements with follow links on the configured public address, else
/// `fallback_base_url` (the address the request came to).
pub fn acknowledgements(state: &AppState, fallback_base_url: &str) -> Acknowledgements {
    let base = state
        .settings
        .public_url
        .as_deref()
        .unwrap_or(fallback_base_url);
    Acknowledgements::new(state.catalog.clone(), base)
}

/// The acknowledgement writer of `config`'s municipality for a channel of the web layer.
pub fn acknowledger_for(
    state: &AppState,
    config: Arc<TenantConfig>,
    fallback_base_url: &str,
) -> Box<torg_core::intake::Acknowledger> {
    acknowledgements(state, fallback_base_url).for_tenant(config)
}
