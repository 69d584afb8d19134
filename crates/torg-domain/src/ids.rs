//! Typed ids: a municipality's id cannot be passed where an inquiry's is meant.
//!
//! Each is the row id the store gave it. They serialize as plain numbers, so
//! URLs, forms and JSON keep their shape.

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The number the store keeps.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        /// A bare number compares by value (what a test or a wire format holds); another
        /// kind of id does not compare at all.
        impl PartialEq<i64> for $name {
            fn eq(&self, other: &i64) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id!(
    /// A municipality (kommune), the tenant every row belongs to.
    TenantId
);
id!(
    /// An inquiry (henvendelse).
    InquiryId
);
id!(
    /// A unit (enhet) of a municipality.
    UnitId
);
id!(
    /// A staff user.
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_write_as_plain_numbers() {
        assert_eq!(
            serde_json::to_string(&InquiryId(42)).ok(),
            Some("42".to_string())
        );
        assert_eq!(serde_json::from_str::<UnitId>("7").ok(), Some(UnitId(7)));
        assert_eq!("13".parse::<TenantId>().ok(), Some(TenantId(13)));
        assert!("x".parse::<UserId>().is_err());
        assert_eq!(UserId(5).to_string(), "5");
    }
}
