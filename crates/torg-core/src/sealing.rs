//! Secrets Torg must use again (mail server passwords) are stored sealed: encrypted and
//! authenticated with ChaCha20-Poly1305 under the installation's secret key, so a copy of the
//! database alone does not give them away.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

const PREFIX: &str = "sealed:v1:";

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
    #[error("a sealed secret could not be opened: it was sealed with another key, or altered")]
    CannotOpen,
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

    /// Seals `plain` with a fresh random nonce.
    pub fn seal(&self, plain: &str) -> String {
        let cipher = ChaCha20Poly1305::new(&Key::from(self.0));
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .expect("encrypting in memory cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", B64.encode(out))
    }

    /// Opens a sealed secret; a value that was never sealed (set before sealing existed, or by
    /// a test) is returned as it is.
    pub fn open(&self, stored: &str) -> Result<String, SealError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let bytes = B64.decode(encoded).map_err(|_| SealError::CannotOpen)?;
        if bytes.len() < 12 {
            return Err(SealError::CannotOpen);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SealError::CannotOpen)?;
        let cipher = ChaCha20Poly1305::new(&Key::from(self.0));
        let plain = cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| SealError::CannotOpen)?;
        String::from_utf8(plain).map_err(|_| SealError::CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let key = SecretKey::generate();
        let sealed = key.seal("hemmelig passord");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("hemmelig"));
        assert_ne!(
            sealed,
            key.seal("hemmelig passord"),
            "a fresh nonce each time"
        );
        assert_eq!(key.open(&sealed), Ok("hemmelig passord".into()));
        assert_eq!(
            SecretKey::generate().open(&sealed),
            Err(SealError::CannotOpen)
        );
        let mut bytes = B64
            .decode(sealed.strip_prefix(PREFIX).expect("prefix"))
            .expect("base64");
        bytes[20] ^= 1;
        let altered = format!("{PREFIX}{}", B64.encode(bytes));
        assert_eq!(
            key.open(&altered),
            Err(SealError::CannotOpen),
            "altered: refused"
        );
        assert_eq!(
            key.open("plain"),
            Ok("plain".into()),
            "never sealed: as it is"
        );
    }

    #[test]
    fn keys_round_trip_as_hex() {
        let key = SecretKey::generate();
        let again = SecretKey::from_hex(&key.to_hex()).expect("hex");
        assert_eq!(again.open(&key.seal("x")), Ok("x".into()));
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
