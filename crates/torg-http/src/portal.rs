//! The citizen portal (no login): the contact form, the receipt, and the follow page reached
//! by the private link.

use crate::AppState;
use crate::auth::tenant_by_slug;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::views::{self, Chrome, Lang, MessageView, render};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::Timestamp;
use std::sync::Arc;
use torg_core::casework::CitizenMessageError;
use torg_core::intake::{InquiryInput, IntakeError, TenantConfig, receive};
use torg_core::secrets::{split_follow_token, token_hash};
use torg_domain::Channel;
use torg_domain::InquiryId;
use torg_store::{Inquiry, Municipality, NewAttachment};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/", index)
        .get("/k/{slug}", contact_form)
        .post("/k/{slug}/inquiries", submit)
        .get("/k/{slug}/follow/{token}", follow)
        .post("/k/{slug}/follow/{token}/messages", follow_message)
        .post("/k/{slug}/follow/{token}/revoke", revoke)
        .get(
            "/k/{slug}/follow/{token}/attachments/{id}",
            follow_attachment,
        )
}

#[derive(Template)]
#[template(path = "portal_index.html")]
struct IndexPage {
    t: Tr,
    c: Chrome,
    municipalities: Vec<Municipality>,
}

async fn index(State(state): State<AppState>, Extension(Lang(lang)): Extension<Lang>) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    match state.store.list_municipalities().await {
        Ok(list) if list.len() == 1 => {
            Redirect::to(&format!("/k/{}", list[0].slug)).into_response()
        }
        Ok(municipalities) => render(
            StatusCode::OK,
            &IndexPage {
                c: Chrome::public("Torg", "/"),
                t,
                municipalities,
            },
        ),
        Err(e) => store_failed(t, e),
    }
}

fn store_failed(t: Tr, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "storage failed");
    let msg = t.get("error-storage");
    views::error_page(
        t,
        StatusCode::SERVICE_UNAVAILABLE,
        "error-heading-unavailable",
        msg,
        "/",
    )
}

fn unknown_municipality(t: Tr, slug: &str) -> Response {
    let msg = t.get1("error-unknown-municipality", "slug", slug);
    views::error_page(
        t,
        StatusCode::NOT_FOUND,
        "error-heading-not-found",
        msg,
        "/",
    )
}

/// Loads the municipality or answers with the page that says why not.
pub(crate) async fn municipality(
    state: &AppState,
    t: &Tr,
    slug: &str,
) -> Result<Arc<TenantConfig>, Response> {
    match tenant_by_slug(state, slug).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(unknown_municipality(t.clone(), slug)),
        Err(e) => Err(store_failed(t.clone(), e)),
    }
}

#[derive(Default)]
struct ContactForm {
    name: String,
    email: String,
    phone: String,
    topic: String,
    message: String,
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    t: Tr,
    c: Chrome,
    slug: String,
    topics: Vec<(String, String)>,
    /// Opening hours in words.
    opening: Vec<String>,
    /// (channel, expected answer if sent now).
    expect: Vec<(String, String)>,
    form: ContactForm,
    error: Option<String>,
}

async fn contact_page(
    state: &AppState,
    t: Tr,
    config: &TenantConfig,
    form: ContactForm,
    error: Option<String>,
) -> ContactPage {
    let slug = config.municipality.slug.clone();
    let now = Timestamp::now();
    let fallback = config.fallback_unit().map(|u| u.id).unwrap_or_default();
    let zone = &config.municipality.time_zone;
    let expect = [
        Channel::Web,
        Channel::Email,
        Channel::Sms,
        Channel::Chat,
        Channel::Facebook,
    ]
    .into_iter()
    .map(|ch| {
        let due = config.deadline(ch, fallback, None, now);
        (views::channel_label(&t, ch), views::in_words(&t, due, zone))
    })
    .collect();
    ContactPage {
        c: crate::crisis::portal_chrome(state, &config.municipality, &format!("/k/{slug}")).await,
        topics: views::topics(&t),
        opening: views::opening_hours(&t, config.calendar.weekly()),
        expect,
        t,
        slug,
        form,
        error,
    }
}

/// What a link may fill the contact form in with: an access request (innsyn) for a document
/// of the public journal, by its number and title.
#[derive(serde::Deserialize, Default)]
struct Prefill {
    #[serde(default)]
    innsyn: String,
    #[serde(default)]
    tittel: String,
}

async fn contact_form(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    prefill: Result<axum::extract::Query<Prefill>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // A malformed query fills nothing in.
    let prefill = prefill.map(|q| q.0).unwrap_or_default();
    // Only what a journal line holds: its number and title, cut to their length.
    let document: String = prefill.innsyn.trim().chars().take(40).collect();
    let form = if document.is_empty() {
        ContactForm::default()
    } else {
        let title: String = prefill.tittel.trim().chars().take(300).collect();
        ContactForm {
            topic: torg_domain::access_request::TOPIC.to_string(),
            message: t.args(
                "access-request-prefill",
                &[("document", &document), ("title", &title)],
            ),
            ..ContactForm::default()
        }
    };
    render(
        StatusCode::OK,
        &contact_page(&state, t, &config, form, None).await,
    )
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    t: Tr,
    c: Chrome,
    reference: String,
    deadline: String,
    follow_url: String,
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        }),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The address citizens reach this server by.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.settings.public_url {
        return u.trim_end_matches('/').to_string();
    }
    // Without public_url (`torg serve` always sets one) only a loopback Host is believed:
    // a forged Host header never makes a link to another site.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| is_loopback_host(h))
        .unwrap_or("localhost");
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

async fn submit(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    addr: crate::audit::ClientAddr,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut form = ContactForm::default();
    let mut attachments = vec![];
    let read = async {
        let mut multipart = multipart.map_err(|e| (e.status(), "error-bad-form"))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| (e.status(), "error-bad-form"))?
        {
            let name = field.name().unwrap_or_default().to_string();
            let filename = field.file_name().map(str::to_string);
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| (e.status(), "error-too-large"))?;
            if name == "attachment" {
                if let Some(filename) = filename.filter(|f| !f.is_empty())
                    && !bytes.is_empty()
                {
                    attachments.push(NewAttachment {
                        filename,
                        content_type,
                        data: bytes.to_vec(),
                    });
                }
                continue;
            }
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| (StatusCode::BAD_REQUEST, "error-invalid-encoding"))?;
            match name.as_str() {
                "name" => form.name = text,
                "email" => form.email = text,
                "phone" => form.phone = text,
                "topic" => form.topic = text,
                "message" => form.message = text,
                _ => {}
            }
        }
        Ok::<(), (StatusCode, &'static str)>(())
    };
    if let Err((status, key)) = read.await {
        let msg = t.get(key);
        return render(
            status,
            &contact_page(&state, t, &config, form, Some(msg)).await,
        );
    }
    let input = InquiryInput {
        citizen_name: form.name.clone(),
        email: Some(form.email.clone()),
        phone: Some(form.phone.clone()),
        topic: Some(form.topic.clone()).filter(|t| !t.is_empty()),
        body: form.message.clone(),
        language: Some(t.lang.clone()),
        attachments,
        origin: torg_store::Origin {
            actor: "citizen".into(),
            source: addr.0,
        },
        ..Default::default()
    };
    let ack =
        crate::acknowledge::acknowledger_for(&state, config.clone(), &base_url(&state, &headers));
    match receive(
        &*state.store,
        &config,
        Channel::Web,
        input,
        state.settings.limits,
        Timestamp::now(),
        Some(&*ack),
    )
    .await
    {
        Ok(received) => {
            let inquiry = &received.created.inquiry;
            let follow_url = format!(
                "{}/k/{}/follow/{}",
                base_url(&state, &headers),
                slug,
                received.follow_token
            );
            let page = ReceiptPage {
                c: crate::crisis::portal_chrome(
                    &state,
                    &config.municipality,
                    &format!("/k/{slug}"),
                )
                .await,
                reference: inquiry.reference.to_string(),
                deadline: views::in_words(&t, inquiry.deadline_at, &config.municipality.time_zone),
                follow_url,
                t,
            };
            // 201 only now: the inquiry is committed.
            render(StatusCode::CREATED, &page)
        }
        Err(IntakeError::Store(e)) => store_failed(t, e),
        Err(e) => {
            let status = match e {
                IntakeError::AttachmentTooLarge(..) => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let msg = t.get(&format!("error-{}", e.code().replace('_', "-")));
            render(
                status,
                &contact_page(&state, t, &config, form, Some(msg)).await,
            )
        }
    }
}

#[derive(Template)]
#[template(path = "follow.html")]
struct FollowPage {
    t: Tr,
    c: Chrome,
    reference: String,
    status: String,
    received: String,
    deadline: String,
    messages: Vec<MessageView>,
    post_url: String,
    revoke_url: String,
    /// The satisfaction question of a closed inquiry: `Some(answered)`.
    survey: Option<bool>,
    /// Where the question's form posts.
    action: String,
    error: Option<String>,
}

/// Finds the inquiry of a follow link, or answers with a 404 page that gives nothing away.
async fn followed(
    state: &AppState,
    t: &Tr,
    slug: &str,
    token: &str,
) -> Result<(Arc<TenantConfig>, Inquiry), Response> {
    by_follow_token(state, t, slug, token, None, &format!("/k/{slug}")).await
}

/// The inquiry a follow token names (on `channel`, when given), or a 404 page that gives
/// nothing away and leads `back`.
pub(crate) async fn by_follow_token(
    state: &AppState,
    t: &Tr,
    slug: &str,
    token: &str,
    channel: Option<torg_domain::Channel>,
    back: &str,
) -> Result<(Arc<TenantConfig>, Inquiry), Response> {
    let config = municipality(state, t, slug).await?;
    let not_found = || {
        let msg = t.get("error-unknown-follow-link");
        views::error_page(
            t.clone(),
            StatusCode::NOT_FOUND,
            "error-heading-not-found",
            msg,
            back,
        )
    };
    let Some((id, secret)) = split_follow_token(token) else {
        return Err(not_found());
    };
    match state
        .store
        .inquiry_by_follow_token(config.municipality.id, InquiryId(id), &token_hash(secret))
        .await
    {
        Ok(Some(i)) if channel.is_none_or(|c| c == i.channel) => Ok((config, i)),
        Ok(_) => Err(not_found()),
        Err(e) => Err(store_failed(t.clone(), e)),
    }
}

pub(crate) async fn follow_page(
    state: &AppState,
    t: Tr,
    slug: &str,
    token: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (config, inquiry) = match followed(state, &t, slug, token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let zone = &config.municipality.time_zone;
    let messages = match state
        .store
        .messages(config.municipality.id, inquiry.id, false)
        .await
    {
        Ok(m) => m,
        Err(e) => return store_failed(t, e),
    };
    let base = format!("/k/{slug}/follow/{token}");
    let survey = if inquiry.status == torg_domain::InquiryStatus::Closed {
        match torg_core::evaluation::survey_on_follow_page(
            &*state.store,
            config.municipality.id,
            inquiry.id,
        )
        .await
        {
            Ok(s) => s.map(|s| s.score.is_some()),
            Err(e) => return store_failed(t, e),
        }
    } else {
        None
    };
    let page = FollowPage {
        survey,
        action: format!("{base}/survey"),
        c: crate::crisis::portal_chrome(state, &config.municipality, &base).await,
        reference: inquiry.reference.to_string(),
        status: views::status_label(&t, inquiry.status),
        received: views::when(inquiry.received_at, zone),
        deadline: views::in_words(&t, inquiry.deadline_at, zone),
        messages: views::message_views(&t, messages, zone, |id| format!("{base}/attachments/{id}")),
        post_url: format!("{base}/messages"),
        revoke_url: format!("{base}/revoke"),
        error,
        t,
    };
    let mut res = render(status, &page);
    // The page is private to whoever holds the link.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    res
}

/// The citizen revokes their own link (it was forwarded by mistake, say).
async fn revoke(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    addr: crate::audit::ClientAddr,
    Path((slug, token)): Path<(String, String)>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, inquiry) = match followed(&state, &t, &slug, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let citizen = torg_core::actor::Actor::citizen(addr.0);
    if let Err(e) = torg_core::casework::revoke_follow_link(
        &*state.store,
        &citizen,
        config.municipality.id,
        inquiry.id,
    )
    .await
    {
        return store_failed(t, e);
    }
    let msg = t.get("follow-revoked");
    views::error_page(
        t,
        StatusCode::OK,
        "follow-revoke",
        msg,
        &format!("/k/{slug}"),
    )
}

async fn follow(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token)): Path<(String, String)>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    follow_page(&state, t, &slug, &token, None, StatusCode::OK).await
}

#[derive(serde::Deserialize)]
struct FollowMessage {
    #[serde(default)]
    message: String,
}

async fn follow_message(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token)): Path<(String, String)>,
    form: Result<Form<FollowMessage>, axum::extract::rejection::FormRejection>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, inquiry) = match followed(&state, &t, &slug, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(Form(form)) = form else {
        let msg = t.get("error-bad-form");
        return follow_page(&state, t, &slug, &token, Some(msg), StatusCode::BAD_REQUEST).await;
    };
    let stored = torg_core::casework::citizen_message(
        &*state.store,
        config.municipality.id,
        &inquiry,
        &form.message,
        state.settings.limits.text.max_text_bytes,
        Timestamp::now(),
    )
    .await;
    match stored {
        Ok(_) => Redirect::to(&format!("/k/{slug}/follow/{token}")).into_response(),
        Err(CitizenMessageError::Input(e)) => {
            let msg = t.get(&format!("error-{}", e.code().replace('_', "-")));
            follow_page(
                &state,
                t,
                &slug,
                &token,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(CitizenMessageError::Store(e)) => store_failed(t, e),
    }
}

async fn follow_attachment(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token, id)): Path<(String, String, i64)>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, inquiry) = match followed(&state, &t, &slug, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let tenant = config.municipality.id;
    // Only attachments of messages the citizen can see, in this inquiry.
    let visible = match state.store.messages(tenant, inquiry.id, false).await {
        Ok(msgs) => msgs
            .iter()
            .any(|m| m.attachments.iter().any(|a| a.id == id)),
        Err(e) => return store_failed(t, e),
    };
    if !visible {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.store.attachment_data(tenant, id).await {
        Ok(Some((meta, data))) => views::attachment_response(&meta, data),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => store_failed(t, e),
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_hosts_are_believed() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:3000",
            "[::1]:80",
            "127.1.2.3",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for no in [
            "evil.example",
            "evil.example:80",
            "localhost.evil.example",
            "10.0.0.1",
            "[::2]",
        ] {
            assert!(!is_loopback_host(no), "{no}");
        }
    }
}
