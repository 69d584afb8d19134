//! Torg's email connector: each municipality's mailbox in over IMAP ([`imap`], [`ingest`]),
//! replies and acknowledgements out over SMTP through the durable outbox ([`smtp`]), and the
//! background tasks that run both ([`worker`]).

pub mod imap;
pub mod ingest;
mod net;
pub mod smtp;
pub mod worker;

/// Why talking to a mail server failed.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("login refused: {0}")]
    Login(String),
    #[error("the server answered unexpectedly: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] torg_store::StoreError),
}
