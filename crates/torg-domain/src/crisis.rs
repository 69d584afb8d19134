//! Crisis communication (kriseinformasjon): templates the municipality prepared, a crisis's
//! states and messages, drills, the OASIS CAP 1.2 alert each message is published as, and
//! which inquiries seem to be about it.

use serde::{Deserialize, Serialize};

/// CAP 1.2's namespace.
pub const CAP_NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";

/// A crisis the municipality prepared for: what a declaration starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Its short name (`water`, `power`, …), as the CLI names it.
    pub key: String,
    /// Its name for staff.
    pub name: String,
    /// CAP's `event`: what happens, in a few words.
    pub event: String,
    /// CAP's `category` (Health, Infra, Met, Safety, Env, Fire, CBRNE, …).
    pub category: String,
    /// CAP's `severity` (Extreme, Severe, Moderate, Minor).
    pub severity: String,
    /// The first message's headline.
    pub headline: String,
    /// What people should do.
    pub instruction: String,
    /// Words that inquiries about it use ("vann", "kokes"), space-separated.
    pub words: String,
}

/// CAP's categories and severities Torg accepts in a template.
pub const CATEGORIES: [&str; 12] = [
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
];
pub const SEVERITIES: [&str; 4] = ["Extreme", "Severe", "Moderate", "Minor"];

/// Why a template is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("a template needs a key of letters, digits and dashes")]
    Key,
    #[error("a template needs a name, an event, a headline and an instruction")]
    Empty,
    #[error(
        "{0:?} is not a CAP category; use one of Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other"
    )]
    Category(String),
    #[error("{0:?} is not a CAP severity; use Extreme, Severe, Moderate or Minor")]
    Severity(String),
}

impl Template {
    pub fn check(&self) -> Result<(), TemplateError> {
        if crate::subscription::topic_key(&self.key).as_deref() != Some(self.key.as_str()) {
            return Err(TemplateError::Key);
        }
        if [&self.name, &self.event, &self.headline, &self.instruction]
            .iter()
            .any(|s| s.trim().is_empty())
        {
            return Err(TemplateError::Empty);
        }
        if !CATEGORIES.contains(&self.category.as_str()) {
            return Err(TemplateError::Category(self.category.clone()));
        }
        if !SEVERITIES.contains(&self.severity.as_str()) {
            return Err(TemplateError::Severity(self.severity.clone()));
        }
        Ok(())
    }
}

/// The templates a new municipality starts with (bokmål; each can be changed).
pub fn default_templates() -> Vec<Template> {
    let t = |key: &str,
             name: &str,
             event: &str,
             category: &str,
             severity: &str,
             headline: &str,
             instruction: &str,
             words: &str| Template {
        key: key.into(),
        name: name.into(),
        event: event.into(),
        category: category.into(),
        severity: severity.into(),
        headline: headline.into(),
        instruction: instruction.into(),
        words: words.into(),
    };
    vec![
        t(
            "water",
            "Forurenset drikkevann",
            "Forurenset drikkevann",
            "Health",
            "Severe",
            "Kok drikkevannet",
            "Kok vannet i minst ett minutt før du drikker det eller lager mat med det.",
            "vann drikkevann kok koke kokes springvann",
        ),
        t(
            "power",
            "Strømbrudd",
            "Strømbrudd",
            "Infra",
            "Moderate",
            "Strømbrudd i området",
            "Hold dørene til kjøleskap og fryser lukket. Sjekk at naboer som trenger hjelp, har det bra.",
            "strøm strømbrudd strømmen lys",
        ),
        t(
            "flood",
            "Flom",
            "Flom",
            "Met",
            "Severe",
            "Fare for flom",
            "Flytt verdisaker opp fra kjelleren og hold deg unna elvebredden.",
            "flom vann elv oversvømmelse kjeller",
        ),
        t(
            "gas",
            "Gasslekkasje",
            "Gasslekkasje",
            "CBRNE",
            "Extreme",
            "Gasslekkasje: hold vinduer lukket",
            "Hold vinduer og dører lukket og slå av ventilasjonen. Følg med på kommunens sider.",
            "gass gasslukt lukt lekkasje",
        ),
        t(
            "evacuation",
            "Evakuering",
            "Evakuering",
            "Safety",
            "Extreme",
            "Evakuering av området",
            "Forlat området og møt på evakueringsstedet. Ta med medisiner og varme klær.",
            "evakuering evakuere evakuert flytte",
        ),
    ]
}

/// A CAP message's type: the first, an update referring to the earlier ones, or the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MsgType {
    Alert,
    Update,
    Cancel,
}

impl MsgType {
    pub fn as_str(self) -> &'static str {
        match self {
            MsgType::Alert => "Alert",
            MsgType::Update => "Update",
            MsgType::Cancel => "Cancel",
        }
    }

    pub fn parse(s: &str) -> Option<MsgType> {
        [MsgType::Alert, MsgType::Update, MsgType::Cancel]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// The word every message of a drill starts with, in the municipality's language.
pub fn drill_word(language: &str) -> &'static str {
    match language {
        "sv" => "ÖVNING",
        "en" => "EXERCISE",
        _ => "ØVELSE",
    }
}

/// The text an SMS or email of a crisis message carries: the drill's word first, the
/// headline, the news, what to do, and where to read more.
pub fn message_text(
    drill: bool,
    language: &str,
    headline: &str,
    text: &str,
    instruction: &str,
    link: &str,
) -> String {
    let mut out = String::new();
    if drill {
        out.push_str(drill_word(language));
        out.push_str(": ");
    }
    out.push_str(headline.trim());
    if !text.trim().is_empty() {
        out.push_str(". ");
        out.push_str(text.trim());
    }
    if !instruction.trim().is_empty() {
        out.push(' ');
        out.push_str(instruction.trim());
    }
    if !link.is_empty() {
        out.push(' ');
        out.push_str(link);
    }
    out
}

/// An area as CAP carries it: its name and its polygon (longitude, latitude pairs, closed).
#[derive(Debug, Clone, PartialEq)]
pub struct CapArea<'a> {
    pub name: &'a str,
    pub polygon: &'a [(f64, f64)],
}

/// One CAP 1.2 message of a crisis.
#[derive(Debug, Clone, PartialEq)]
pub struct CapMessage<'a> {
    pub identifier: String,
    pub sender: String,
    /// `sent`, with the offset (CAP forbids `Z`).
    pub sent: &'a jiff::Zoned,
    pub exercise: bool,
    pub msg_type: MsgType,
    /// The earlier messages it refers to: (sender, identifier, sent) each.
    pub references: Vec<(String, String, String)>,
    pub language: &'a str,
    pub category: &'a str,
    pub event: &'a str,
    pub severity: &'a str,
    pub sender_name: &'a str,
    pub headline: &'a str,
    pub description: &'a str,
    pub instruction: &'a str,
    pub web: &'a str,
    pub areas: Vec<CapArea<'a>>,
}

/// A time as CAP writes it: `2026-12-04T18:30:00+01:00`.
pub fn cap_time(t: &jiff::Zoned) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// CAP's language code for one of Torg's languages.
fn cap_language(language: &str) -> &'static str {
    match language {
        "nn" => "nn-NO",
        "sv" => "sv-SE",
        "en" => "en-GB",
        _ => "nb-NO",
    }
}

/// XML text with the five special characters escaped, and characters XML 1.0 forbids left out.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A polygon as CAP writes it: `lat,lon` pairs separated by spaces, the first repeated last.
pub fn cap_polygon(points: &[(f64, f64)]) -> String {
    let mut pairs: Vec<String> = points
        .iter()
        .map(|(lon, lat)| format!("{},{}", round6(*lat), round6(*lon)))
        .collect();
    if points.first() != points.last()
        && let Some(first) = pairs.first().cloned()
    {
        pairs.push(first);
    }
    pairs.join(" ")
}

/// A coordinate to a tenth of a metre or so, without binary noise (59.730000000000004).
fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The message as CAP 1.2 XML.
pub fn cap_xml(m: &CapMessage<'_>) -> String {
    let e = xml_escape;
    let mut x = String::with_capacity(2048);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!("<alert xmlns=\"{CAP_NAMESPACE}\">\n"));
    x.push_str(&format!(
        "  <identifier>{}</identifier>\n",
        e(&m.identifier)
    ));
    x.push_str(&format!("  <sender>{}</sender>\n", e(&m.sender)));
    x.push_str(&format!("  <sent>{}</sent>\n", cap_time(m.sent)));
    let status = if m.exercise { "Exercise" } else { "Actual" };
    x.push_str(&format!("  <status>{status}</status>\n"));
    x.push_str(&format!("  <msgType>{}</msgType>\n", m.msg_type.as_str()));
    x.push_str("  <scope>Public</scope>\n");
    if !m.references.is_empty() {
        let refs: Vec<String> = m
            .references
            .iter()
            .map(|(s, i, t)| format!("{s},{i},{t}"))
            .collect();
        x.push_str(&format!(
            "  <references>{}</references>\n",
            e(&refs.join(" "))
        ));
    }
    x.push_str("  <info>\n");
    x.push_str(&format!(
        "    <language>{}</language>\n",
        cap_language(m.language)
    ));
    x.push_str(&format!("    <category>{}</category>\n", e(m.category)));
    x.push_str(&format!("    <event>{}</event>\n", e(m.event)));
    let response = match m.msg_type {
        MsgType::Cancel => "AllClear",
        _ if m.category == "Safety" && m.event.to_lowercase().contains("evaku") => "Evacuate",
        _ => "Prepare",
    };
    x.push_str(&format!("    <responseType>{response}</responseType>\n"));
    let (urgency, severity) = match m.msg_type {
        MsgType::Cancel => ("Past", "Minor"),
        _ => ("Immediate", m.severity),
    };
    x.push_str(&format!("    <urgency>{urgency}</urgency>\n"));
    x.push_str(&format!("    <severity>{}</severity>\n", e(severity)));
    x.push_str("    <certainty>Observed</certainty>\n");
    x.push_str(&format!(
        "    <senderName>{}</senderName>\n",
        e(m.sender_name)
    ));
    x.push_str(&format!("    <headline>{}</headline>\n", e(m.headline)));
    x.push_str(&format!(
        "    <description>{}</description>\n",
        e(m.description)
    ));
    if !m.instruction.is_empty() {
        x.push_str(&format!(
            "    <instruction>{}</instruction>\n",
            e(m.instruction)
        ));
    }
    if !m.web.is_empty() {
        x.push_str(&format!("    <web>{}</web>\n", e(m.web)));
    }
    for area in &m.areas {
        x.push_str("    <area>\n");
        x.push_str(&format!("      <areaDesc>{}</areaDesc>\n", e(area.name)));
        if area.polygon.len() >= 3 {
            x.push_str(&format!(
                "      <polygon>{}</polygon>\n",
                cap_polygon(area.polygon)
            ));
        }
        x.push_str("    </area>\n");
    }
    x.push_str("  </info>\n</alert>\n");
    x
}

/// Whether an inquiry's text seems to be about a crisis: it uses one of the crisis's words or
/// names one of its areas (whole words, case folded).
pub fn mentions(text: &str, words: &[&str]) -> bool {
    let folded: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(crate::sms::fold_keyword)
        .collect();
    words.iter().any(|w| {
        let w = crate::sms::fold_keyword(w.trim());
        !w.is_empty()
            && if w.contains(' ') {
                folded.join(" ").contains(&w)
            } else {
                folded.contains(&w)
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<'a>(sent: &'a jiff::Zoned, polygon: &'a [(f64, f64)]) -> CapMessage<'a> {
        CapMessage {
            identifier: "torg-demo-1-1".into(),
            sender: "post@demo.kommune.no".into(),
            sent,
            exercise: false,
            msg_type: MsgType::Alert,
            references: vec![],
            language: "nb",
            category: "Health",
            event: "Forurenset drikkevann",
            severity: "Severe",
            sender_name: "Demo kommune",
            headline: "Kok <vannet> & vent",
            description: "E. coli i nettet",
            instruction: "Kok vannet.",
            web: "https://demo.example/k/demo",
            areas: vec![CapArea {
                name: "Sentrum",
                polygon,
            }],
        }
    }

    #[test]
    fn cap_carries_offset_escapes_and_closes_polygons() {
        let sent: jiff::Zoned = "2026-12-04T18:30:00+01:00[Europe/Oslo]"
            .parse()
            .expect("test value");
        let poly = [(10.0, 59.0), (10.1, 59.0), (10.1, 59.0 + 0.1)];
        let xml = cap_xml(&message(&sent, &poly));
        assert!(xml.contains("<sent>2026-12-04T18:30:00+01:00</sent>"));
        assert!(xml.contains("Kok &lt;vannet&gt; &amp; vent"));
        assert!(xml.contains("<polygon>59,10 59,10.1 59.1,10.1 59,10</polygon>"));
        assert!(xml.contains("<status>Actual</status>"));
        assert!(!xml.contains("<references>"));
    }

    #[test]
    fn updates_refer_and_the_end_is_all_clear() {
        let sent: jiff::Zoned = "2026-12-04T18:30:00+01:00[Europe/Oslo]"
            .parse()
            .expect("test value");
        let mut m = message(&sent, &[]);
        m.msg_type = MsgType::Cancel;
        m.exercise = true;
        m.references = vec![("s".into(), "id-1".into(), "t".into())];
        let xml = cap_xml(&m);
        assert!(xml.contains("<references>s,id-1,t</references>"));
        assert!(xml.contains("<responseType>AllClear</responseType>"));
        assert!(xml.contains("<status>Exercise</status>"));
        assert!(!xml.contains("<polygon>"));
    }

    #[test]
    fn drills_say_so_in_the_language() {
        let t = message_text(true, "sv", "Kokvatten", "", "Koka vattnet.", "https://x");
        assert!(t.starts_with("ÖVNING: Kokvatten"));
        assert!(message_text(false, "nb", "A", "b", "", "").eq("A. b"));
    }

    #[test]
    fn inquiries_mentioning_the_crisis_are_found() {
        let words = ["vann", "Sentrum"];
        assert!(mentions("Er VANNET trygt? Bor i sentrum.", &words));
        assert!(mentions("Kan vi drikke vann?", &words));
        assert!(!mentions("Når tømmes søpla?", &words));
    }

    #[test]
    fn default_templates_are_valid() {
        for t in default_templates() {
            t.check().expect("test value");
        }
        let mut bad = default_templates().remove(0);
        bad.category = "Weather".into();
        assert!(bad.check().is_err());
    }

    #[test]
    fn escaping_drops_what_xml_forbids() {
        assert_eq!(xml_escape("a\u{1}b'\""), "ab&apos;&quot;");
    }
}
