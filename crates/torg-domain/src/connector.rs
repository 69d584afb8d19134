//! Rules for where connectors may send the secrets they hold (a mailbox's password, the SMS
//! gateway's, a network's token): a stored secret goes only where it was given for, the
//! operator may restrict the hosts connectors reach, and mail goes encrypted unless the
//! operator allows otherwise.

/// How a mail connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain first, then STARTTLS before anything secret is sent (IMAP 143, submission 587).
    StartTls,
    /// No encryption: only where the operator allows it (a test server on loopback).
    Plain,
}

impl Security {
    pub fn parse(s: &str) -> Option<Security> {
        match s.trim() {
            "tls" => Some(Security::Tls),
            "starttls" => Some(Security::StartTls),
            "plain" => Some(Security::Plain),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::StartTls => "starttls",
            Security::Plain => "plain",
        }
    }
}

/// Where a secret is sent: to which server (scheme or protection, host, port, path) and as
/// whom. A stored secret is used again only for the same destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// e.g. `starttls://mail.example.no:587` or `https://sms.example.no:443/cgi-bin/sendsms`.
    pub place: String,
    pub user: String,
}

impl Destination {
    /// A mail server's destination.
    pub fn mail(security: &str, host: &str, port: u16, user: &str) -> Destination {
        Destination {
            place: format!("{}://{}:{port}", security.trim(), normal_host(host)),
            user: user.trim().to_string(),
        }
    }

    /// An HTTP endpoint's destination (the SMS gateway, a network's API); `None` when `url` is
    /// no http(s) address with a host.
    pub fn http(url: &str, user: &str) -> Option<Destination> {
        let parsed = url::Url::parse(url.trim()).ok()?;
        if !matches!(parsed.scheme(), "http" | "https") || !parsed.username().is_empty() {
            return None;
        }
        let host = parsed.host_str()?;
        Some(Destination {
            place: format!(
                "{}://{}:{}{}",
                parsed.scheme(),
                normal_host(host),
                parsed.port_or_known_default()?,
                parsed.path()
            ),
            user: user.trim().to_string(),
        })
    }
}

/// Whether the secret stored for `old` may be used for `new` without being typed again: only
/// when nothing about where it goes changed.
pub fn keeps_secret(old: &Destination, new: &Destination) -> bool {
    old == new
}

/// The host of an http(s) address, lower case; `None` when it has none.
pub fn url_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    parsed.host_str().map(normal_host)
}

fn normal_host(host: &str) -> String {
    host.trim()
        .trim_end_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// The hosts the operator lets connectors reach: exact names or addresses, or `*.domain` for
/// every name under a domain. No rules: any host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostRules {
    patterns: Vec<String>,
}

impl HostRules {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> HostRules {
        HostRules {
            patterns: patterns
                .iter()
                .map(|p| normal_host(p.as_ref()))
                .filter(|p| !p.is_empty())
                .collect(),
        }
    }

    /// Any host may be reached (no `connector_hosts` set).
    pub fn any() -> HostRules {
        HostRules { patterns: vec![] }
    }

    pub fn is_open(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn allows(&self, host: &str) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let host = normal_host(host);
        if host.is_empty() {
            return false;
        }
        self.patterns.iter().any(|p| match p.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1),
            None => *p == host,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_stored_secret_goes_only_where_it_was_given_for() {
        let old = Destination::mail("starttls", "mail.nordby.no", 587, "postmottak");
        assert!(keeps_secret(
            &old,
            &Destination::mail("starttls", "MAIL.nordby.no.", 587, " postmottak")
        ));
        for new in [
            Destination::mail("starttls", "mail.evil.example", 587, "postmottak"),
            Destination::mail("starttls", "mail.nordby.no", 2525, "postmottak"),
            Destination::mail("starttls", "mail.nordby.no", 587, "someone"),
            Destination::mail("plain", "mail.nordby.no", 587, "postmottak"),
        ] {
            assert!(!keeps_secret(&old, &new), "{new:?}");
        }
        let sms = Destination::http("http://127.0.0.1:13013/cgi-bin/sendsms", "torg").expect("url");
        assert!(keeps_secret(
            &sms,
            &Destination::http("http://127.0.0.1:13013/cgi-bin/sendsms", "torg").expect("url")
        ));
        for url in [
            "http://127.0.0.1:13014/cgi-bin/sendsms",
            "https://127.0.0.1:13013/cgi-bin/sendsms",
            "http://evil.example:13013/cgi-bin/sendsms",
            "http://127.0.0.1:13013/other",
        ] {
            let new = Destination::http(url, "torg").expect("url");
            assert!(!keeps_secret(&sms, &new), "{url}");
        }
        assert!(Destination::http("ftp://x/y", "u").is_none());
        assert!(Destination::http("http://user:pw@host/", "u").is_none());
        assert!(Destination::http("not a url", "u").is_none());
    }

    #[test]
    fn host_rules_match_names_domains_and_addresses() {
        let rules = HostRules::new(&["mail.nordby.no", "*.kommune.no", "127.0.0.1", "::1"]);
        for ok in [
            "mail.nordby.no",
            "MAIL.NORDBY.NO.",
            "sms.nordby.kommune.no",
            "127.0.0.1",
            "[::1]",
        ] {
            assert!(rules.allows(ok), "{ok}");
        }
        for no in [
            "evil.example",
            "kommune.no",
            "evilkommune.no",
            "mail.nordby.no.evil",
            "",
            "127.0.0.2",
        ] {
            assert!(!rules.allows(no), "{no}");
        }
        assert!(HostRules::default().allows("anything.example"));
        assert!(HostRules::new(&[""]).is_open());
    }

    proptest! {
        #[test]
        fn a_domain_rule_never_allows_a_host_outside_it(host in "[a-z0-9.-]{0,30}") {
            let rules = HostRules::new(&["*.kommune.no"]);
            if rules.allows(&host) {
                let normal = normal_host(&host);
                prop_assert!(normal.ends_with(".kommune.no"));
            }
        }

        #[test]
        fn changing_anything_but_case_asks_for_the_secret_again(
            host in "[a-z]{1,10}\\.no", port in 1u16.., user in "[a-z]{0,8}",
            other in "[a-z]{1,10}\\.no",
        ) {
            let a = Destination::mail("tls", &host, port, &user);
            prop_assert!(keeps_secret(&a, &Destination::mail("tls", &host.to_uppercase(), port, &user)));
            if other != host {
                prop_assert!(!keeps_secret(&a, &Destination::mail("tls", &other, port, &user)));
            }
        }
    }
}
