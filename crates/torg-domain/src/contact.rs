//! How to reach a citizen: an email address or a phone number ("parse, don't validate").

use serde::{Deserialize, Serialize};

/// A syntactically plausible email address. Whether it exists is the mail server's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("{0:?} is not an email address; write it like navn@example.no")]
    BadEmail(String),
    #[error("{0:?} is not a phone number; write 8 digits, or + and the country code first")]
    BadPhone(String),
    #[error("give an email address or a phone number so that we can answer you")]
    NoContact,
}

impl ContactError {
    pub fn code(&self) -> &'static str {
        match self {
            ContactError::BadEmail(_) => "invalid_email",
            ContactError::BadPhone(_) => "invalid_phone",
            ContactError::NoContact => "missing_contact",
        }
    }
}

impl EmailAddress {
    pub fn parse(s: &str) -> Result<EmailAddress, ContactError> {
        let s = s.trim();
        let bad = || ContactError::BadEmail(s.to_string());
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.contains('@')
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || s.contains(['<', '>', '"', ',', ';'])
        {
            return Err(bad());
        }
        Ok(EmailAddress(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number normalised to digits with an optional leading `+`.
/// Norwegian 8-digit numbers get `+47`, Swedish ones starting with 0 are kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<PhoneNumber, ContactError> {
        let t = s.trim();
        let bad = || ContactError::BadPhone(t.to_string());
        let mut out = String::new();
        for (i, c) in t.chars().enumerate() {
            match c {
                '+' if i == 0 => out.push('+'),
                '0'..='9' => out.push(c),
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => return Err(bad()),
            }
        }
        let digits = out.trim_start_matches('+').len();
        if !(8..=15).contains(&digits) {
            return Err(bad());
        }
        if !out.starts_with('+') && digits == 8 {
            out.insert_str(0, "+47");
        }
        Ok(PhoneNumber(out))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The contact of a citizen: at least one of email and phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
}

impl Contact {
    /// Parses the optional email and phone fields of a form; at least one must be given.
    pub fn parse(email: Option<&str>, phone: Option<&str>) -> Result<Contact, ContactError> {
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(EmailAddress::parse)
            .transpose()?;
        let phone = phone
            .filter(|p| !p.trim().is_empty())
            .map(PhoneNumber::parse)
            .transpose()?;
        if email.is_none() && phone.is_none() {
            return Err(ContactError::NoContact);
        }
        Ok(Contact { email, phone })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses() {
        assert!(EmailAddress::parse("kari.nordmann@example.no").is_ok());
        assert!(EmailAddress::parse("ola+test@kommune.example").is_ok());
    }

    #[test]
    fn rejects_broken_addresses() {
        for bad in [
            "",
            "kari",
            "kari@",
            "@example.no",
            "kari@no",
            "a b@c.no",
            "<a@b.no>",
            "a@b.no.",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn normalises_norwegian_numbers() {
        assert_eq!(
            PhoneNumber::parse("912 34 567").map(|p| p.0),
            Ok("+4791234567".into())
        );
        assert_eq!(
            PhoneNumber::parse("+46 70-123 45 67").map(|p| p.0),
            Ok("+46701234567".into())
        );
        assert!(PhoneNumber::parse("123").is_err());
        assert!(PhoneNumber::parse("9123456a").is_err());
    }

    #[test]
    fn needs_one_way_to_answer() {
        assert_eq!(
            Contact::parse(Some(" "), None),
            Err(ContactError::NoContact)
        );
        assert!(Contact::parse(None, Some("91234567")).is_ok());
    }

    proptest! {
        #[test]
        fn parsed_phone_numbers_are_digits(s in "[+]?[0-9 ]{0,20}") {
            if let Ok(p) = PhoneNumber::parse(&s) {
                prop_assert!(p.as_str().trim_start_matches('+').bytes().all(|b| b.is_ascii_digit()));
            }
        }
        #[test]
        fn email_parse_never_panics(s in ".*") {
            let _ = EmailAddress::parse(&s);
        }
    }
}
