//! What is typed in for the directory of municipalities, units and users, as validated types:
//! a value of [`Slug`], [`Username`], [`PersonName`], [`UnitName`] or [`NewPassword`] exists
//! only if it keeps its rule, so every path that creates or changes one (the administration
//! pages, the CLI, single sign-on) keeps the same rules and refuses with the same message.

use std::fmt;

/// Why typed-in directory input was refused. [`DirectoryError::key`] names its text in the
/// interface catalogue, so the pages and the CLI say the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("the short name may hold only a-z, 0-9 and '-' (at most 40), like 'nord-fron'")]
    Slug,
    #[error("a username may only contain a-z, digits, dot, hyphen and underscore (at most 64)")]
    Username,
    #[error("enter the name (at most 200 characters)")]
    PersonName,
    #[error("enter a name for the unit (at most 120 characters)")]
    UnitName,
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    Password,
}

impl DirectoryError {
    /// The message's key in the interface catalogue.
    pub fn key(self) -> &'static str {
        match self {
            DirectoryError::Slug => "admin-error-slug",
            DirectoryError::Username => "admin-error-username",
            DirectoryError::PersonName => "admin-error-name",
            DirectoryError::UnitName => "admin-error-unit-name",
            DirectoryError::Password => "admin-error-password",
        }
    }
}

/// A password a person or an administrator sets: long enough to resist guessing.
pub const MIN_PASSWORD_CHARS: usize = 12;

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_type!(
    /// A municipality's short name in addresses (`/k/nord-fron`): a–z, 0–9 and `-`, not at
    /// either end.
    Slug
);
text_type!(
    /// A user's login name: lowercase a–z, digits, `.`, `-` and `_`. Typed-in capitals are
    /// folded and spaces around it trimmed.
    Username
);
text_type!(
    /// A person's full name as shown to colleagues and signed under replies.
    PersonName
);
text_type!(
    /// A unit's name (Servicetorget, Vann og avløp).
    UnitName
);

impl Slug {
    pub fn parse(s: &str) -> Result<Slug, DirectoryError> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 40
            && !s.starts_with('-')
            && !s.ends_with('-')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        ok.then(|| Slug(s.to_string())).ok_or(DirectoryError::Slug)
    }
}

impl Username {
    pub fn parse(s: &str) -> Result<Username, DirectoryError> {
        let s = s.trim().to_lowercase();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        ok.then_some(Username(s)).ok_or(DirectoryError::Username)
    }
}

impl PersonName {
    pub fn parse(s: &str) -> Result<PersonName, DirectoryError> {
        let s = s.trim();
        let ok = !s.is_empty() && s.chars().count() <= 200 && !s.chars().any(char::is_control);
        ok.then(|| PersonName(s.to_string()))
            .ok_or(DirectoryError::PersonName)
    }
}

impl UnitName {
    pub fn parse(s: &str) -> Result<UnitName, DirectoryError> {
        let s = s.trim();
        let ok = !s.is_empty() && s.chars().count() <= 120 && !s.chars().any(char::is_control);
        ok.then(|| UnitName(s.to_string()))
            .ok_or(DirectoryError::UnitName)
    }
}

/// A new password as typed: at least [`MIN_PASSWORD_CHARS`] characters. Never shown: its
/// `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(s: &str) -> Result<NewPassword, DirectoryError> {
        (s.chars().count() >= MIN_PASSWORD_CHARS)
            .then(|| NewPassword(s.to_string()))
            .ok_or(DirectoryError::Password)
    }
    /// An optional password field: empty means "none given".
    pub fn parse_optional(s: &str) -> Result<Option<NewPassword>, DirectoryError> {
        if s.is_empty() {
            Ok(None)
        } else {
            NewPassword::parse(s).map(Some)
        }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slug({:?})", self.0)
    }
}
impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", self.0)
    }
}
impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({:?})", self.0)
    }
}
impl fmt::Debug for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnitName({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_names() {
        assert_eq!(
            Slug::parse("nord-fron").map(|s| s.into_string()),
            Ok("nord-fron".into())
        );
        for bad in [
            "",
            "Nord",
            "nord fron",
            "-nord",
            "nord-",
            "nørd",
            &"a".repeat(41),
        ] {
            assert_eq!(Slug::parse(bad), Err(DirectoryError::Slug), "{bad:?}");
        }
    }

    #[test]
    fn usernames_are_folded_and_checked() {
        assert_eq!(
            Username::parse(" Kari.N ").map(|u| u.into_string()),
            Ok("kari.n".into())
        );
        for bad in ["", "kari nordmann", "kåre", "a/b", "x;drop"] {
            assert_eq!(
                Username::parse(bad),
                Err(DirectoryError::Username),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords_and_names() {
        assert_eq!(NewPassword::parse("kort"), Err(DirectoryError::Password));
        assert!(NewPassword::parse("riktig hest batteri").is_ok());
        assert_eq!(NewPassword::parse_optional(""), Ok(None));
        assert_eq!(
            format!("{:?}", NewPassword::parse("hemmelig passord!").ok()),
            "Some(NewPassword(…))"
        );
        assert_eq!(PersonName::parse("  "), Err(DirectoryError::PersonName));
        assert_eq!(
            PersonName::parse("Kari\nNordmann"),
            Err(DirectoryError::PersonName)
        );
        assert_eq!(
            UnitName::parse(&"x".repeat(121)),
            Err(DirectoryError::UnitName)
        );
        assert_eq!(DirectoryError::Password.key(), "admin-error-password");
    }

    proptest! {
        #[test]
        fn a_parsed_slug_or_username_keeps_its_rule(s in "\\PC{0,50}") {
            if let Ok(slug) = Slug::parse(&s) {
                prop_assert!(slug.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
                prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
            }
            if let Ok(u) = Username::parse(&s) {
                prop_assert!(!u.as_str().is_empty() && u.as_str().len() <= 64);
                prop_assert_eq!(Username::parse(u.as_str()), Ok(u.clone()));
            }
        }

        #[test]
        fn passwords_count_characters_not_bytes(n in 0usize..30) {
            let p = "ø".repeat(n);
            prop_assert_eq!(NewPassword::parse(&p).is_ok(), n >= MIN_PASSWORD_CHARS);
        }
    }
}
