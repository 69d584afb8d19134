//! Torg's SMS connector. Incoming messages arrive through the gateway's HTTP callback
//! (`torg-http`'s `/hooks/sms/…`, into `torg_core::sms`); this crate hands the outbox's SMS to
//! the gateway: [`kannel`] for Kannel's sendsms HTTP interface, the SMS channel's `Deliver`.
//! (A throwaway Kannel for tests is in `torg-testkit`.)

pub mod kannel;

/// Why talking to the gateway failed as a whole (single messages fail on their own).
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error(transparent)]
    Store(#[from] torg_store::StoreError),
}
