//! The tamper-evident audit log (revisjonslogg): every change of substance is appended with
//! who, when, what and from where, and each entry's hash covers the previous entry's hash, per
//! municipality. Altering or removing an entry breaks the chain at that point.

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash the first entry of a municipality chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is to be appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewAuditEntry {
    /// Who: `user:<id>`, `api:<token name>`, `cli`, `system:<worker>` or `citizen`.
    pub actor: String,
    /// What happened, e.g. `inquiry.replied`, `login.failed`, `policy.added`.
    pub action: String,
    /// What it happened to, e.g. `inquiry:42`.
    pub object: String,
    /// Details for people.
    pub detail: String,
    /// From where: an IP address, `cli`, or empty.
    pub source: String,
}

impl NewAuditEntry {
    /// The same entry about `object` (known only once the change is written, like a new id).
    pub fn with_object(mut self, object: String) -> NewAuditEntry {
        self.object = object;
        self
    }
}

/// An appended entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    pub hash: String,
}

/// The hash of an entry chained to `previous`. Fields are length-prefixed so that no two
/// different entries hash alike.
pub fn chain_hash(previous: &str, seq: i64, at: Timestamp, e: &NewAuditEntry) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    field(previous);
    field(&seq.to_string());
    field(&at.as_millisecond().to_string());
    for s in [&e.actor, &e.action, &e.object, &e.detail, &e.source] {
        field(s);
    }
    crate::hex(&h.finalize())
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq} has been altered (its hash does not match its content)")]
    Altered { seq: i64 },
    #[error("entries are missing before {seq} (expected {expected})")]
    Missing { seq: i64, expected: i64 },
}

/// Checks a municipality's whole log, oldest first.
pub fn verify(entries: &[AuditEntry]) -> Result<(), ChainBreak> {
    ChainVerifier::default().feed(entries)
}

/// Checks a chain that arrives in pages, oldest first, without holding it all.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    previous: String,
    expected: i64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            previous: GENESIS.to_string(),
            expected: 1,
        }
    }
}

impl ChainVerifier {
    /// Checks the next entries; the first break found is the answer.
    pub fn feed(&mut self, entries: &[AuditEntry]) -> Result<(), ChainBreak> {
        for e in entries {
            if e.seq != self.expected {
                return Err(ChainBreak::Missing {
                    seq: e.seq,
                    expected: self.expected,
                });
            }
            if chain_hash(&self.previous, e.seq, e.at, &e.entry) != e.hash {
                return Err(ChainBreak::Altered { seq: e.seq });
            }
            self.previous.clone_from(&e.hash);
            self.expected += 1;
        }
        Ok(())
    }

    /// How many entries have been checked.
    pub fn checked(&self) -> i64 {
        self.expected - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out = vec![];
        let mut previous = GENESIS.to_string();
        for seq in 1..=n {
            let entry = NewAuditEntry {
                actor: "user:1".into(),
                action: "inquiry.replied".into(),
                object: format!("inquiry:{seq}"),
                detail: String::new(),
                source: "127.0.0.1".into(),
            };
            let at = Timestamp::from_second(1_800_000_000 + seq).expect("ts");
            let hash = chain_hash(&previous, seq, at, &entry);
            previous = hash.clone();
            out.push(AuditEntry {
                seq,
                at,
                entry,
                hash,
            });
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(()));
        assert_eq!(verify(&[]), Ok(()));
    }

    #[test]
    fn a_chain_verified_in_pages_is_verified_whole() {
        let entries = chain(7);
        let mut v = ChainVerifier::default();
        for page in entries.chunks(3) {
            assert_eq!(v.feed(page), Ok(()));
        }
        assert_eq!(v.checked(), 7);
        let mut altered = chain(7);
        altered[5].entry.object = "inquiry:9".into();
        let mut v = ChainVerifier::default();
        assert_eq!(v.feed(&altered[..3]), Ok(()));
        assert_eq!(v.feed(&altered[3..]), Err(ChainBreak::Altered { seq: 6 }));
    }

    #[test]
    fn altering_or_removing_an_entry_is_found() {
        let mut altered = chain(5);
        altered[2].entry.detail = "endret i etterkant".into();
        assert_eq!(verify(&altered), Err(ChainBreak::Altered { seq: 3 }));
        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(
            verify(&removed),
            Err(ChainBreak::Missing {
                seq: 3,
                expected: 2
            })
        );
        let mut rehashed = chain(5);
        rehashed[1].entry.actor = "user:2".into();
        let prev = rehashed[0].hash.clone();
        rehashed[1].hash = chain_hash(&prev, 2, rehashed[1].at, &rehashed[1].entry);
        assert_eq!(
            verify(&rehashed),
            Err(ChainBreak::Altered { seq: 3 }),
            "re-hashing one entry breaks the next"
        );
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let at = Timestamp::UNIX_EPOCH;
        let a = NewAuditEntry {
            actor: "ab".into(),
            action: "c".into(),
            object: String::new(),
            detail: String::new(),
            source: String::new(),
        };
        let b = NewAuditEntry {
            actor: "a".into(),
            action: "bc".into(),
            ..a.clone()
        };
        assert_ne!(
            chain_hash(GENESIS, 1, at, &a),
            chain_hash(GENESIS, 1, at, &b)
        );
    }
}
