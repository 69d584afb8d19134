//! How the outbox retries: the same for every channel.

use jiff::SignedDuration;

/// Attempts before an entry is given up.
pub const MAX_ATTEMPTS: i64 = 12;

/// How long to wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: i64) -> SignedDuration {
    let secs = 30i64 << attempts.clamp(0, 7);
    SignedDuration::from_secs(secs.min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_an_hour() {
        assert_eq!(backoff(0), SignedDuration::from_secs(30));
        assert_eq!(backoff(1), SignedDuration::from_secs(60));
        assert_eq!(backoff(3), SignedDuration::from_secs(240));
        assert_eq!(backoff(7), SignedDuration::from_secs(3600));
        assert_eq!(backoff(100), SignedDuration::from_secs(3600));
    }
}
