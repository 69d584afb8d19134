//! Torg's social-media connectors. Facebook pages and Instagram accounts come in through
//! Meta's signed webhooks ([`meta`], checked by the web layer) and are answered through the
//! Graph API ([`graph`]); Mastodon accounts are polled and answered through its client API
//! ([`mastodon`]). [`worker`] sends the outbox's social messages and reads Mastodon;
//! [`listen`] reads listening's sources; [`reach`] reads back what published posts reached.

pub mod api;
pub mod graph;
pub mod listen;
pub mod mastodon;
pub mod meta;
pub mod reach;
pub mod worker;

pub use api::ApiError;
