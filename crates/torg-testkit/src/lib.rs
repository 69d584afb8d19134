//! Test and benchmark support that the product does not depend on: real servers from
//! Debian's packages started on free loopback ports with throwaway configurations —
//! [`mail`] (Dovecot for IMAP and LMTP, OpenSMTPD for SMTP) and [`sms`] (Kannel's bearerbox
//! and smsbox with the fake SMSC) — stopped by process id when dropped; and [`outbox`], a
//! municipality with an answer waiting to be sent, for the tests of each channel's sender.

pub mod mail;
pub mod outbox;
pub mod sms;
