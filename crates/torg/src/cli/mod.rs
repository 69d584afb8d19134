//! The `torg` command groups, one module each; every command parses its arguments, calls the
//! core (or the store for plain settings) and prints the result.
use torg_domain::UnitId;

pub mod backup;
pub mod casework;
pub mod channels;
pub mod crisis;
pub mod directory;
pub mod publishing;
pub mod records;
pub mod search;
pub mod text;
pub mod wheel;

pub(crate) use crate::config::Settings;
pub(crate) use anyhow::{Context, Result, bail};
pub(crate) use clap::Subcommand;
pub(crate) use std::sync::Arc;
pub(crate) use torg_core::actor::Actor;
pub(crate) use torg_domain::Role;
pub(crate) use torg_store::Store;

pub async fn municipality(store: &dyn Store, slug: &str) -> Result<torg_store::Municipality> {
    store.municipality_by_slug(slug).await?.with_context(|| {
        format!("there is no municipality {slug:?}; 'torg municipality list' shows them")
    })
}

/// A unit of the municipality by name (case-insensitive), with an error that says so.
pub async fn unit_id(
    store: &dyn Store,
    m: &torg_store::Municipality,
    name: &str,
) -> Result<UnitId> {
    store
        .list_units(m.id)
        .await?
        .into_iter()
        .find(|u| u.name.eq_ignore_ascii_case(name))
        .map(|u| u.id)
        .with_context(|| {
            format!(
                "{} has no unit {name:?}; 'torg unit create' adds one",
                m.name
            )
        })
}

/// A refusal of the core's directory rules, in the municipality's language: the same text
/// the administration page shows.
pub fn refused(language: &str, e: &torg_core::directory::DirectoryActionError) -> anyhow::Error {
    match e {
        torg_core::directory::DirectoryActionError::Store(s) => anyhow::anyhow!("{s}"),
        e => said(language, e.key(), &[], e),
    }
}

/// A connector's settings refused: the administration page's words (the catalogue's, in the
/// municipality's language).
pub fn connector_refused(
    language: &str,
    e: &torg_core::connectors::ConnectorError,
) -> anyhow::Error {
    use torg_core::connectors::ConnectorError;
    match e {
        ConnectorError::Store(s) => anyhow::anyhow!("{s}"),
        ConnectorError::Host(host) => said(language, e.key(), &[("host", host)], e),
        e => said(language, e.key(), &[], e),
    }
}

/// A refusal in the administration page's words.
pub fn said_by(language: &str, key: &str, fallback: &dyn std::fmt::Display) -> anyhow::Error {
    said(language, key, &[], fallback)
}

/// The catalogue's text of `key`, or `fallback` when the catalogue cannot be read.
fn said(
    language: &str,
    key: &str,
    args: &[(&str, &str)],
    fallback: &dyn std::fmt::Display,
) -> anyhow::Error {
    match torg_i18n::Catalog::load(None) {
        Ok(catalog) => anyhow::anyhow!("{}", catalog.text(language, key, args)),
        Err(_) => anyhow::anyhow!("{fallback}"),
    }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://torg:secret@db:5432/torg"),
            "postgres://…@db:5432/torg"
        );
        assert_eq!(redact("data/torg.db"), "data/torg.db");
    }
}
