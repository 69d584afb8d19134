//! Replies: the signature and canned replies (svarmaler) with placeholders.

/// The closing of every reply: signed as the municipality, with the writer's first name
/// and unit, e.g. "Vennlig hilsen Kari, Servicetorget – Demo kommune".
pub fn signature(
    greeting: &str,
    first_name: Option<&str>,
    unit: &str,
    municipality: &str,
) -> String {
    match first_name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => format!("{greeting} {name}, {unit} – {municipality}"),
        None => format!("{greeting} {unit} – {municipality}"),
    }
}

/// Appends the signature to a reply body unless the writer already signed it.
pub fn signed_body(body: &str, signature: &str) -> String {
    let body = body.trim_end();
    if body.ends_with(signature) {
        body.to_string()
    } else {
        format!("{body}\n\n{signature}")
    }
}

/// The default acknowledgement (kvittering) in a language; a municipality may set its own.
/// Placeholders: `{navn}`, `{referanse}`, `{frist}`, `{apningstider}`, `{lenke}`.
pub fn default_acknowledgement(language: &str) -> &'static str {
    match language {
        "en" => {
            "Hello {navn},\n\nwe have received your inquiry and given it the reference {referanse}. You can expect an answer by {frist}.\n\nOur opening hours: {apningstider}.\nFollow your case and write to us again here: {lenke}"
        }
        "sv" => {
            "Hej {navn}!\n\nVi har tagit emot ditt ärende och gett det ärendenumret {referanse}. Du kan vänta dig svar senast {frist}.\n\nVåra öppettider: {apningstider}.\nFölj ärendet och skriv till oss igen här: {lenke}"
        }
        "nn" => {
            "Hei {navn}!\n\nVi har fått førespurnaden din og gitt han referansen {referanse}. Du kan vente svar innan {frist}.\n\nOpningstidene våre: {apningstider}.\nFølg saka og skriv til oss igjen her: {lenke}"
        }
        _ => {
            "Hei {navn}!\n\nVi har mottatt henvendelsen din og gitt den referansen {referanse}. Du kan vente svar innen {frist}.\n\nÅpningstidene våre: {apningstider}.\nFølg saken og skriv til oss igjen her: {lenke}"
        }
    }
}

/// Fills the placeholders of an acknowledgement template; unknown ones stay as written.
pub fn fill_acknowledgement(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in values {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

/// Values for the placeholders of a canned reply.
pub struct Placeholders<'a> {
    pub citizen_name: &'a str,
    pub reference: &'a str,
    pub signer: &'a str,
}

/// Fills `{citizen_name}`, `{reference}` and `{signer}` (and their bokmål aliases
/// `{navn}`, `{referanse}`, `{signatur}`). Unknown placeholders are left as written so that
/// staff see them before sending.
pub fn fill_canned_reply(template: &str, p: &Placeholders<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let key = &after[..end];
                let value = match key.trim() {
                    "citizen_name" | "navn" => Some(p.citizen_name),
                    "reference" | "referanse" => Some(p.reference),
                    "signer" | "signatur" => Some(p.signer),
                    _ => None,
                };
                match value {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(key);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signs_with_first_name_and_unit() {
        assert_eq!(
            signature(
                "Vennlig hilsen",
                Some("Kari"),
                "Servicetorget",
                "Demo kommune"
            ),
            "Vennlig hilsen Kari, Servicetorget – Demo kommune"
        );
        assert_eq!(
            signature(
                "Med vänliga hälsningar",
                None,
                "Kontaktcenter",
                "Demo kommun"
            ),
            "Med vänliga hälsningar Kontaktcenter – Demo kommun"
        );
    }

    #[test]
    fn signature_is_added_once() {
        let s = "Vennlig hilsen Kari, Servicetorget – Demo kommune";
        let once = signed_body("Hei!", s);
        assert_eq!(signed_body(&once, s), once);
    }

    #[test]
    fn fills_placeholders() {
        let p = Placeholders {
            citizen_name: "Ola",
            reference: "2026-000001",
            signer: "Kari",
        };
        assert_eq!(
            fill_canned_reply("Hei {navn}! Sak {reference}. {ukjent} {signer} {", &p),
            "Hei Ola! Sak 2026-000001. {ukjent} Kari {"
        );
    }

    #[test]
    fn acknowledgements_in_every_language() {
        for lang in ["nb", "nn", "sv", "en"] {
            let t = default_acknowledgement(lang);
            for p in [
                "{navn}",
                "{referanse}",
                "{frist}",
                "{apningstider}",
                "{lenke}",
            ] {
                assert!(t.contains(p), "{lang} lacks {p}");
            }
        }
        let filled =
            fill_acknowledgement("Ref {referanse}, {ukjent}", &[("referanse", "2026-000001")]);
        assert_eq!(filled, "Ref 2026-000001, {ukjent}");
    }

    proptest! {
        #[test]
        fn text_without_braces_is_unchanged(s in "[^{}]*") {
            let p = Placeholders { citizen_name: "a", reference: "b", signer: "c" };
            prop_assert_eq!(fill_canned_reply(&s, &p), s);
        }
    }
}
