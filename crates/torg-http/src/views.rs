//! What pages share: the chosen language, the page chrome, formatting of times and sizes,
//! and rendering templates into responses.

use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use jiff::{Timestamp, tz::TimeZone};

/// The language of this request, decided by [`language`].
#[derive(Clone, Debug)]
pub struct Lang(pub String);

const LANG_COOKIE: &str = "torg_lang";

/// Picks the language: `?lang=` (remembered in a cookie), else the cookie, else the
/// browser's Accept-Language, else bokmål.
pub async fn language(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let from_query = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("lang=")))
        .filter(|l| state.catalog.has(l))
        .map(str::to_string);
    let chosen = from_query
        .clone()
        .or_else(|| cookie(req.headers(), LANG_COOKIE).filter(|l| state.catalog.has(l)))
        .or_else(|| accept_language(req.headers(), &state))
        .unwrap_or_else(|| crate::i18n::DEFAULT_LANGUAGE.to_string());
    req.extensions_mut().insert(Lang(chosen));
    let mut res = next.run(req).await;
    if let Some(l) = from_query
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={l}; Path=/; Max-Age=31536000; SameSite=Lax"
        ))
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn accept_language(headers: &HeaderMap, state: &AppState) -> Option<String> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    value.split(',').find_map(|part| {
        let tag = part.split(';').next()?.trim().to_ascii_lowercase();
        let primary = tag.split('-').next()?.to_string();
        // Plain "no" means Norwegian: bokmål.
        let primary = if primary == "no" {
            "nb".to_string()
        } else {
            primary
        };
        state.catalog.has(&primary).then_some(primary)
    })
}

/// Reads one cookie from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';').find_map(|kv| {
                let (k, val) = kv.trim().split_once('=')?;
                (k == name).then(|| val.to_string())
            })
        })
}

/// The frame around every page.
pub struct Chrome {
    /// The municipality's name, or "Torg".
    pub brand: String,
    /// This page's path, for the language links.
    pub path: String,
    pub user_name: Option<String>,
    pub csrf: String,
    /// Links in the staff menu the person may follow.
    pub nav_overview: bool,
    pub nav_admin: bool,
    pub nav_audit: bool,
    pub nav_quarantine: bool,
    pub nav_phone: bool,
    pub nav_registry: bool,
    pub nav_chats: bool,
    pub nav_moderation: bool,
    pub nav_archive: bool,
    pub nav_press: bool,
    pub nav_crisis: bool,
    pub nav_listening: bool,
    /// A crisis's latest word, on every page of its municipality (a drill's only to staff).
    pub banner: Option<Banner>,
}

/// The crisis banner: the latest status and what to do.
#[derive(Debug, Clone)]
pub struct Banner {
    pub headline: String,
    pub text: String,
    pub instruction: String,
    pub when: String,
    /// The portal's crisis page.
    pub link: String,
    /// A drill's banner says so ("ØVELSE").
    pub drill: Option<String>,
}

impl Chrome {
    pub fn public(brand: &str, path: &str) -> Chrome {
        Chrome {
            brand: brand.to_string(),
            path: path.to_string(),
            user_name: None,
            csrf: String::new(),
            nav_overview: false,
            nav_listening: false,
            nav_admin: false,
            nav_audit: false,
            nav_quarantine: false,
            nav_phone: false,
            nav_registry: false,
            nav_chats: false,
            nav_moderation: false,
            nav_archive: false,
            nav_press: false,
            nav_crisis: false,
            banner: None,
        }
    }
}

/// Renders a template with a status; a template error is logged and becomes a plain 500.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be shown",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: Tr,
    pub c: Chrome,
    pub heading: String,
    pub message: String,
    pub back: String,
}

/// An HTML error page that says what happened and what to do.
pub fn error_page(
    t: Tr,
    status: StatusCode,
    heading_key: &str,
    message: String,
    back: &str,
) -> Response {
    let heading = t.get(heading_key);
    let page = ErrorPage {
        c: Chrome::public("Torg", back),
        t,
        heading,
        message,
        back: back.to_string(),
    };
    render(status, &page)
}

/// A time in the municipality's zone, like "22.11.2026 14:30".
/// `text` in pieces, each marked where its words meet the search (rendered as `<mark>`,
/// every piece escaped by the template).
pub fn marked(text: &str, query: &torg_domain::search::Query) -> Vec<(String, bool)> {
    let mut pieces = vec![];
    let mut at = 0;
    for (start, end) in query.matches(text) {
        if start > at {
            pieces.push((text[at..start].to_string(), false));
        }
        pieces.push((text[start..end].to_string(), true));
        at = end;
    }
    if at < text.len() {
        pieces.push((text[at..].to_string(), false));
    }
    pieces
}

pub fn when(ts: Timestamp, zone: &str) -> String {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    ts.to_zoned(tz).strftime("%d.%m.%Y %H:%M").to_string()
}

pub use torg_i18n::words::{in_words, opening_hours, time_left};

/// A file size for people.
pub fn size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{} kB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// The topics of the contact form, as (code, label).
pub fn topics(t: &Tr) -> Vec<(String, String)> {
    [
        "other",
        "school",
        "health",
        "water",
        "roads",
        "waste",
        "building",
        "culture",
        torg_domain::access_request::TOPIC,
    ]
    .iter()
    .map(|c| (c.to_string(), t.get(&format!("topic-{c}"))))
    .collect()
}

/// The label of a stored topic code (unknown codes are shown as written).
pub fn topic_label(t: &Tr, code: &str) -> String {
    let key = format!("topic-{code}");
    let label = t.get(&key);
    if label == key {
        code.to_string()
    } else {
        label
    }
}

pub fn status_label(t: &Tr, s: torg_domain::InquiryStatus) -> String {
    t.get(&format!("status-{}", s.as_str()))
}

pub fn channel_label(t: &Tr, c: torg_domain::Channel) -> String {
    t.get(&format!("channel-{}", c.as_str()))
}

/// A message of a thread, ready to show.
pub struct MessageView {
    pub kind: &'static str,
    pub kind_label: String,
    pub author: String,
    pub body: String,
    pub when: String,
    pub iso: String,
    pub attachments: Vec<AttachmentView>,
    /// How its delivery (email) stands, for staff: (css class, text).
    pub delivery: Option<(&'static str, String)>,
    /// In a merged matter, for staff: the channel and reference it came by.
    pub origin: Option<String>,
    /// For staff: where a citizen's message is split out into an inquiry of its own.
    pub split_url: Option<String>,
}

/// Staff's line about a message's delivery: sent, waiting (with the server's last answer), or
/// failed (with the answer).
pub fn delivery_line(
    t: &Tr,
    state: &torg_store::DeliveryState,
    zone: &str,
) -> (&'static str, String) {
    use torg_store::DeliveryState;
    match state {
        DeliveryState::Sent { at } => ("sent", t.get1("delivery-sent", "time", &when(*at, zone))),
        DeliveryState::Delivered { at } => (
            "sent",
            t.get1("delivery-delivered", "time", &when(*at, zone)),
        ),
        DeliveryState::Undelivered { report } => {
            ("failed", t.get1("delivery-undelivered", "report", report))
        }
        DeliveryState::Pending {
            attempts,
            last_error,
        } => (
            "pending",
            match last_error {
                Some(e) => t.get1("delivery-retrying", "error", &format!("{e} ({attempts})")),
                None => t.get("delivery-pending"),
            },
        ),
        DeliveryState::Failed { error, .. } => {
            ("failed", t.get1("delivery-failed", "error", error))
        }
    }
}

pub struct AttachmentView {
    pub url: String,
    pub name: String,
    pub size: String,
}

pub fn message_views(
    t: &Tr,
    messages: Vec<torg_store::Message>,
    zone: &str,
    attachment_url: impl Fn(i64) -> String,
) -> Vec<MessageView> {
    messages
        .into_iter()
        .map(|m| MessageView {
            kind: m.kind.as_str(),
            kind_label: t.get(&format!("kind-{}", m.kind.as_str())),
            author: m.author_name,
            body: m.body,
            when: when(m.created_at, zone),
            iso: m.created_at.to_string(),
            delivery: None,
            origin: None,
            split_url: None,
            attachments: m
                .attachments
                .into_iter()
                .map(|a| AttachmentView {
                    url: attachment_url(a.id),
                    name: a.filename,
                    size: size(a.size),
                })
                .collect(),
        })
        .collect()
}

/// Serves an attachment so that a browser never renders it: a download with a safe type.
pub fn attachment_response(meta: &torg_store::AttachmentMeta, data: Vec<u8>) -> Response {
    download_response(&meta.filename, data)
}

/// Serves bytes as a download under `filename` (made safe), never rendered by the browser.
pub fn download_response(filename: &str, data: Vec<u8>) -> Response {
    let safe_name: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{safe_name}\"");
    let mut res = (StatusCode::OK, data).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// The plain-language advice on a text, as a page shows it.
pub(crate) struct PlainAdvice {
    /// "LIX 38 – easy to read", in the reader's language.
    pub summary: String,
    /// What to look at: (the words in question, the advice).
    pub items: Vec<(String, String)>,
}

/// At most this many pieces of advice are listed.
const PLAIN_ITEMS: usize = 30;

/// The plain-language checker's advice on `text` for a municipality writing `language`, with
/// its own words to avoid (`jargon`) beside the shipped list.
pub(crate) fn plain_advice(
    t: &Tr,
    language: &str,
    text: &str,
    jargon: Vec<(String, String)>,
) -> PlainAdvice {
    use torg_domain::plain::{Checker, Kind, Settings};
    let mut settings = Settings::for_municipality(language)
        .unwrap_or_else(|| Settings::new(torg_domain::plain::Language::Nb));
    settings.extra_jargon = jargon;
    let report = Checker::new(settings).check(text);
    let level = t.get(&format!("plain-level-{}", report.level()));
    let summary = t.args(
        "plain-summary",
        &[
            ("lix", &format!("{:.0}", report.lix)),
            ("level", &level),
            ("words", &report.words.to_string()),
            ("sentences", &report.sentences.to_string()),
        ],
    );
    let items = report
        .findings
        .iter()
        .take(PLAIN_ITEMS)
        .map(|f| {
            let excerpt: String = text[f.start..f.end].chars().take(80).collect();
            let suggestion = f.suggestion.clone().unwrap_or_default();
            let advice = match f.kind {
                Kind::LongSentence => t.get("plain-long-sentence"),
                Kind::Passive => t.get("plain-passive"),
                Kind::Jargon => t.get1("plain-jargon", "suggestion", &suggestion),
                Kind::WrittenStandard => {
                    t.get1("plain-written-standard", "suggestion", &suggestion)
                }
            };
            (excerpt, advice)
        })
        .collect();
    PlainAdvice { summary, items }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(10), "10 B");
        assert_eq!(size(2048), "2 kB");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MB");
    }

    fn tr(lang: &str) -> Tr {
        Tr::new(
            std::sync::Arc::new(crate::Catalog::load(None).expect("catalog")),
            lang,
        )
    }

    #[test]
    fn deadlines_in_words_in_the_readers_language() {
        let ts: Timestamp = "2026-11-24T14:30:00Z".parse().expect("ts");
        assert_eq!(
            in_words(&tr("nb"), ts, "Europe/Oslo"),
            "tirsdag 24. november kl. 15.30"
        );
        assert_eq!(
            in_words(&tr("nn"), ts, "Europe/Oslo"),
            "tysdag 24. november kl. 15.30"
        );
        assert_eq!(
            in_words(&tr("sv"), ts, "Europe/Stockholm"),
            "tisdag den 24 november kl. 15.30"
        );
        assert_eq!(
            in_words(&tr("en"), ts, "Europe/Oslo"),
            "Tuesday 24 November at 15:30"
        );
    }

    #[test]
    fn opening_hours_join_equal_days() {
        let c =
            torg_domain::calendar::WorkingCalendar::office_hours("Europe/Oslo").expect("calendar");
        assert_eq!(
            opening_hours(&tr("nb"), c.weekly()),
            vec!["mandag–fredag 08.00–15.30".to_string()]
        );
        assert_eq!(
            opening_hours(&tr("en"), c.weekly()),
            vec!["Monday–Friday 08:00–15:30".to_string()]
        );
    }

    #[test]
    fn times_are_shown_in_the_municipality_zone() {
        let ts: Timestamp = "2026-07-01T10:00:00Z".parse().expect("ts");
        assert_eq!(when(ts, "Europe/Oslo"), "01.07.2026 12:00");
        assert_eq!(when(ts, "Not/AZone"), "01.07.2026 10:00");
    }
}
