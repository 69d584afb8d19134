//! Secrets Torg must use again (mail server passwords) are stored sealed: encrypted and
//! authenticated with ChaCha20-Poly1305 under the installation's secret key, so a copy of the
//! database alone does not give them away. Each is sealed for its place ([`Place`]: which
//! municipality's which secret) as associated data, so a sealed value copied into another row
//! does not open there; and only sealed values open — text that was never sealed is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use torg_domain::TenantId;

/// Sealed for a place (associated data).
const PREFIX: &str = "sealed:v2:";
/// Sealed before places existed: still opened, wherever it is.
const LEGACY_PREFIX: &str = "sealed:v1:";

/// Where a sealed secret belongs: its associated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place<'a> {
    MailImap {
        tenant: TenantId,
    },
    MailSmtp {
        tenant: TenantId,
    },
    SmsGateway {
        tenant: TenantId,
    },
    SocialToken {
        tenant: TenantId,
        channel: &'a str,
        account: &'a str,
    },
    SocialAppSecret {
        tenant: TenantId,
        channel: &'a str,
        account: &'a str,
    },
    SsoClient {
        tenant: TenantId,
    },
    /// An outgoing webhook's signing secret, bound to its address.
    Webhook {
        tenant: TenantId,
        url: &'a str,
    },
}

impl Place<'_> {
    fn associated_data(&self) -> String {
        match self {
            Place::MailImap { tenant } => format!("torg/mail-imap/{tenant}"),
            Place::MailSmtp { tenant } => format!("torg/mail-smtp/{tenant}"),
            Place::SmsGateway { tenant } => format!("torg/sms/{tenant}"),
            Place::SocialToken {
                tenant,
                channel,
                account,
            } => format!("torg/social-token/{tenant}/{channel}/{account}"),
            Place::SocialAppSecret {
                tenant,
                channel,
                account,
            } => format!("torg/social-secret/{tenant}/{channel}/{account}"),
            Place::SsoClient { tenant } => format!("torg/sso/{tenant}"),
            Place::Webhook { tenant, url } => format!("torg/webhook/{tenant}/{url}"),
        }
    }
}

/// The installation's 256-bit key.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the secret key must be 64 hex digits")]
    BadKey,
    #[error(
        "a sealed secret could not be opened: it was sealed with another key or for another place, or altered"
    )]
    CannotOpen,
    #[error("a secret was stored without being sealed; set it again")]
    NotSealed,
}

impl SecretKey {
    /// A new random key.
    pub fn generate() -> SecretKey {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).expect("the operating system's random source failed");
        SecretKey(k)
    }

    pub fn from_hex(s: &str) -> Result<SecretKey, SealError> {
        let s = s.trim();
        if s.len() != 64 {
            return Err(SealError::BadKey);
        }
        let mut k = [0u8; 32];
        for (i, byte) in k.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| SealError::BadKey)?;
        }
        Ok(SecretKey(k))
    }

    pub fn to_hex(&self) -> String {
        torg_domain::hex(&self.0)
    }

    /// Seals `plain` for `place` with a fresh random nonce.
    pub fn seal(&self, place: &Place<'_>, plain: &str) -> String {
        let cipher = ChaCha20Poly1305::new(&Key::from(self.0));
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let ad = place.associated_data();
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: ad.as_bytes(),
                },
            )
            .expect("encrypting in memory cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", B64.encode(out))
    }

    /// Opens a secret sealed for `place` (or sealed before places existed); anything else —
    /// another place, another key, an alteration, text never sealed — is refused.
    pub fn open(&self, place: &Place<'_>, stored: &str) -> Result<String, SealError> {
        // No secret (a server without login): nothing to open.
        if stored.is_empty() {
            return Ok(String::new());
        }
        let (encoded, ad) = match (
            stored.strip_prefix(PREFIX),
            stored.strip_prefix(LEGACY_PREFIX),
        ) {
            (Some(e), _) => (e, place.associated_data()),
            (None, Some(e)) => (e, String::new()),
            (None, None) => return Err(SealError::NotSealed),
        };
        let bytes = B64.decode(encoded).map_err(|_| SealError::CannotOpen)?;
        if bytes.len() < 12 {
            return Err(SealError::CannotOpen);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SealError::CannotOpen)?;
        let cipher = ChaCha20Poly1305::new(&Key::from(self.0));
        let plain = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: ad.as_bytes(),
                },
            )
            .map_err(|_| SealError::CannotOpen)?;
        String::from_utf8(plain).map_err(|_| SealError::CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Place<'static> = Place::MailImap {
        tenant: TenantId(1),
    };

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_in_their_place() {
        let key = SecretKey::generate();
        let sealed = key.seal(&HERE, "hemmelig passord");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("hemmelig"));
        assert_ne!(
            sealed,
            key.seal(&HERE, "hemmelig passord"),
            "a fresh nonce each time"
        );
        assert_eq!(key.open(&HERE, &sealed), Ok("hemmelig passord".into()));
        assert_eq!(
            SecretKey::generate().open(&HERE, &sealed),
            Err(SealError::CannotOpen)
        );
        for elsewhere in [
            Place::MailImap {
                tenant: TenantId(2),
            },
            Place::MailSmtp {
                tenant: TenantId(1),
            },
            Place::SsoClient {
                tenant: TenantId(1),
            },
        ] {
            assert_eq!(
                key.open(&elsewhere, &sealed),
                Err(SealError::CannotOpen),
                "copied to {elsewhere:?}: refused"
            );
        }
        let mut bytes = B64
            .decode(sealed.strip_prefix(PREFIX).expect("prefix"))
            .expect("base64");
        bytes[20] ^= 1;
        let altered = format!("{PREFIX}{}", B64.encode(bytes));
        assert_eq!(
            key.open(&HERE, &altered),
            Err(SealError::CannotOpen),
            "altered: refused"
        );
        assert_eq!(
            key.open(&HERE, "plain"),
            Err(SealError::NotSealed),
            "never sealed: refused"
        );
    }

    #[test]
    fn secrets_sealed_before_places_still_open() {
        let key = SecretKey::generate();
        let cipher = ChaCha20Poly1305::new(&Key::from(key.0));
        let nonce = [7u8; 12];
        let mut bytes = nonce.to_vec();
        bytes.extend(
            cipher
                .encrypt(&Nonce::from(nonce), b"gammelt".as_slice())
                .expect("encrypt"),
        );
        let legacy = format!("{LEGACY_PREFIX}{}", B64.encode(bytes));
        assert_eq!(key.open(&HERE, &legacy), Ok("gammelt".into()));
    }

    #[test]
    fn keys_round_trip_as_hex() {
        let key = SecretKey::generate();
        let again = SecretKey::from_hex(&key.to_hex()).expect("hex");
        assert_eq!(again.open(&HERE, &key.seal(&HERE, "x")), Ok("x".into()));
        assert_eq!(
            SecretKey::from_hex("abc").map(|_| ()),
            Err(SealError::BadKey)
        );
        assert_eq!(
            SecretKey::from_hex(&"zz".repeat(32)).map(|_| ()),
            Err(SealError::BadKey)
        );
    }
}
