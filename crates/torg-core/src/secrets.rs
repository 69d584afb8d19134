//! Random tokens, their hashes, and password hashing.
//!
//! Invariant: tokens (sessions, API tokens, follow links) are stored only as SHA-256 hashes,
//! and passwords only as argon2id hashes.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use torg_domain::hex;

/// A new random token of 256 bits, as 64 hex digits.
pub fn new_token() -> String {
    let mut buf = [0u8; 32];
    // The OS random source failing is not recoverable; every token would be guessable.
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    hex(&buf)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A follow link's token is `<inquiry id>-<secret>`: the id finds the row, the secret's hash
/// must match. Returns the id and the secret when `s` has that shape.
pub fn split_follow_token(s: &str) -> Option<(i64, &str)> {
    let (id, secret) = s.split_once('-')?;
    let id: i64 = id.parse().ok().filter(|i| *i > 0)?;
    is_token_shaped(secret).then_some((id, secret))
}

/// Whether `s` looks like a token we issued (64 lowercase hex digits).
pub fn is_token_shaped(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| HashError(e.to_string()))?;
    Ok(hash.to_string())
}

/// Checks a password against a stored hash; a malformed hash never verifies.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Password hashes checked or made at once; each takes ~19 MiB and a core for a while, so a
/// flood of logins waits its turn instead of exhausting the machine.
const PASSWORD_WORK: usize = 4;
static PASSWORD_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PASSWORD_WORK);

/// [`verify_password`] off the async threads, at most [`PASSWORD_WORK`] at a time.
pub async fn verify_password_in_turn(password: String, hash: String) -> bool {
    let Ok(_slot) = PASSWORD_SLOTS.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// [`hash_password`] off the async threads, at most [`PASSWORD_WORK`] at a time.
pub async fn hash_password_in_turn(password: String) -> Result<String, HashError> {
    let _slot = PASSWORD_SLOTS
        .acquire()
        .await
        .map_err(|e| HashError(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| HashError(e.to_string()))?
}

/// A password a person can type: 4 groups of 4 letters and digits without look-alikes.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    let chars: Vec<char> = buf
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(is_token_shaped(&a));
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
        assert!(!is_token_shaped("../../etc/passwd"));
        let follow = format!("42-{a}");
        assert_eq!(split_follow_token(&follow), Some((42, a.as_str())));
        assert_eq!(split_follow_token(&a), None);
        assert_eq!(split_follow_token("0-abc"), None);
        assert_eq!(split_follow_token(&format!("-1-{a}")), None);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").expect("hash");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_eq!(new_password().len(), 19);
    }
}
