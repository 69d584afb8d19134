//! Torg's pure domain: the words of the product as types and rules.
//!
//! Architecture invariant: this crate does no IO. It depends on no async runtime, database
//! or HTTP crate, so every rule here can be unit- and property-tested in isolation.

pub mod access;
pub mod access_request;
pub mod archive;
pub mod audit;
pub mod calendar;
pub mod channel;
pub mod connector;
pub mod contact;
pub mod crisis;
pub mod deadline;
pub mod directory;
pub mod duty;
pub mod email;
pub mod evaluation;
pub mod ids;
pub mod inquiry;
pub mod listening;
pub mod moderation;
pub mod outbox;
pub mod personal_data;
pub mod plain;
pub mod press;
pub mod publish;
pub mod reference;
pub mod registry;
pub mod reply;
pub mod role;
pub mod routing;
pub mod search;
pub mod secret;
pub mod sms;
pub mod social;
pub mod subscription;
pub mod webhook;
pub mod wheel;

pub use access::{Access, Permission, UnitAccess};

/// Lowercase hex of some bytes (hashes, tokens, keys).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
pub use channel::Channel;
pub use ids::{InquiryId, TenantId, UnitId, UserId};
pub use inquiry::{InquiryStatus, MessageKind, Priority};
pub use reference::Reference;
pub use role::Role;
