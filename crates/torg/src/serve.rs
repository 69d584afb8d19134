//! `torg serve`: the web server and every background task, started in one place and stopped
//! together: on Ctrl-C or SIGTERM the server stops taking requests, each task finishes what it
//! is doing (a pass of the outbox, a mailbox) and ends.

use crate::config::Settings;
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use torg_core::delivery::{self, Deliver};
use torg_store::Store;

/// A job that runs on one node at a time: made anew (with its own stop signal) each time
/// this node takes the job over.
type Job = Box<
    dyn Fn(watch::Receiver<bool>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

/// A job from a function making it anew with its stop signal.
fn job<F, Fut>(make: F) -> Job
where
    F: Fn(watch::Receiver<bool>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    Box::new(move |stop| Box::pin(make(stop)))
}

/// How long stopping waits for the background tasks.
const STOP_GRACE: Duration = Duration::from_secs(10);

pub async fn serve(settings: Settings, store: Arc<dyn Store>) -> Result<()> {
    let catalog = Arc::new(torg_http::Catalog::load(settings.locales_dir.as_deref())?);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another program using it? Choose another with --listen",
                settings.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let mut web = settings.web.clone();
    web.secret_key = Some(settings.secret_key()?);
    // Links in receipts and the sign-on's return address never come from a request's Host
    // header: from public_url, else this server's own address.
    if web.public_url.is_none() {
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "public_url is not set: links in receipts point at the listen address; set public_url to the address citizens use");
        }
        web.public_url = Some(format!("http://{addr}"));
    }
    let state = torg_http::AppState::new(store.clone(), catalog, web);
    // Several nodes on one PostgreSQL database pass live chat events to each other.
    if state.join_nodes().await? {
        tracing::info!("live events are shared with the other nodes on this database");
    }
    let app = torg_http::router(state.clone());
    let (stop, stopping) = watch::channel(false);
    let workers = start_workers(
        &settings,
        &state,
        &store,
        &format!("http://{addr}"),
        stopping,
    )?;
    tracing::info!(%addr, backend = store.backend(), "Torg is ready");
    println!(
        "Torg is running on http://{addr}/ (staff: http://{addr}/staff). Press Ctrl-C to stop."
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    let _ = stop.send(true);
    let all = futures_util::future::join_all(workers);
    if tokio::time::timeout(STOP_GRACE, all).await.is_err() {
        tracing::warn!("background tasks did not stop within {STOP_GRACE:?}");
    }
    println!("Torg stopped.");
    Ok(())
}

/// Every background task of a node: the mail and Mastodon readers, one delivery loop per
/// outbound channel, deadline warnings and the nightly retention.
fn start_workers(
    settings: &Settings,
    state: &torg_http::AppState,
    store: &Arc<dyn Store>,
    own_address: &str,
    stopping: watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>> {
    let key = settings.secret_key()?;
    let public = settings
        .web
        .public_url
        .clone()
        .unwrap_or_else(|| own_address.to_string());
    let acks = torg_http::acknowledge::acknowledgements(state, own_address);
    let client = reqwest::Client::new();
    let mut tasks = vec![];
    let hosts = &settings.web.connectors.hosts;
    // Jobs that run on one node at a time (the one holding the job's lease), with a takeover
    // when that node dies.
    let node = torg_core::jobs::node_name();
    tracing::info!(%node, "this node's name among the nodes");
    let once = |name: &'static str, job: Job| {
        tokio::spawn(torg_core::jobs::once_per_installation(
            store.clone(),
            name,
            node.clone(),
            job,
            stopping.clone(),
        ))
    };
    // In: the municipalities' mailboxes (IDLE, else polled), shared among the nodes each
    // holding its part; Mastodon's mentions.
    tasks.push(tokio::spawn(torg_email::worker::read_mail(
        torg_email::worker::Reader {
            store: store.clone(),
            key: key.clone(),
            hosts: hosts.clone(),
            limits: settings.web.limits,
            acknowledgements: acks.clone(),
            poll: torg_email::worker::POLL,
            node: node.clone(),
        },
        stopping.clone(),
    )));
    {
        let (store, key, hosts, client, limits) = (
            store.clone(),
            key.clone(),
            hosts.clone(),
            client.clone(),
            settings.web.limits,
        );
        tasks.push(once(
            "mastodon",
            job(move |stop| {
                torg_social::worker::read_mastodon(
                    store.clone(),
                    key.clone(),
                    hosts.clone(),
                    client.clone(),
                    limits,
                    acks.clone(),
                    Duration::from_secs(30),
                    stop,
                )
            }),
        ));
    }
    // Reach of published posts (reactions, comments, shares), every quarter of an hour.
    {
        let (store, key, hosts, client) =
            (store.clone(), key.clone(), hosts.clone(), client.clone());
        tasks.push(once(
            "reach",
            job(move |stop| {
                torg_social::reach::run(
                    store.clone(),
                    key.clone(),
                    hosts.clone(),
                    client.clone(),
                    stop,
                )
            }),
        ));
    }
    // Out: one delivery loop per channel, all through the core's outbox.
    let outbound: Vec<(Arc<dyn Deliver>, u32)> = vec![
        (
            Arc::new(torg_email::smtp::SmtpDelivery::from_store(
                store.clone(),
                key.clone(),
                4,
            )),
            500,
        ),
        (
            Arc::new(torg_sms::kannel::KannelDelivery::from_store(
                client.clone(),
                key.clone(),
                public,
                32,
            )),
            1000,
        ),
        (
            Arc::new(torg_social::worker::SocialDelivery::from_store(
                client,
                key.clone(),
            )),
            200,
        ),
        (
            Arc::new(torg_http::webhooks::WebhookDelivery::new(
                store.clone(),
                key.clone(),
            )),
            200,
        ),
    ];
    for (deliver, limit) in outbound {
        tasks.push(tokio::spawn(delivery::run(
            store.clone(),
            deliver,
            hosts.clone(),
            Duration::from_secs(1),
            limit,
            stopping.clone(),
        )));
    }
    // What happened, as the webhooks asked for it, queued for them from the audit log.
    {
        let store = store.clone();
        tasks.push(once(
            "webhooks",
            job(move |stop| torg_core::webhooks::run(store.clone(), stop)),
        ));
    }
    // Deadline warnings by email, checked every minute.
    let warnings = state.warnings(own_address);
    {
        let (store, warnings) = (store.clone(), warnings.clone());
        tasks.push(once(
            "escalation",
            job(move |stop| torg_core::escalation::run(store.clone(), warnings.clone(), stop)),
        ));
    }
    // Listening: the sources that are due, every ten seconds, and the person on duty told.
    {
        let (store, key, hosts) = (store.clone(), key.clone(), hosts.clone());
        let notify = torg_core::listening::Notify {
            catalog: warnings.catalog.clone(),
            base_url: warnings.base_url.clone(),
        };
        tasks.push(once(
            "listening",
            job(move |stop| {
                torg_social::listen::run(
                    store.clone(),
                    key.clone(),
                    hosts.clone(),
                    notify.clone(),
                    stop,
                )
            }),
        ));
    }
    // The satisfaction question after closing, checked every minute.
    {
        let store = store.clone();
        let surveys = torg_core::evaluation::Surveys {
            catalog: warnings.catalog,
            base_url: warnings.base_url,
        };
        tasks.push(once(
            "surveys",
            job(move |stop| torg_core::evaluation::run(store.clone(), surveys.clone(), stop)),
        ));
    }
    // Inquiries written before the search index existed are indexed, once.
    tokio::spawn(torg_core::search::index_missing(store.clone()));
    // A crisis message's SMS and emails left unexpanded by a crash are queued.
    {
        let store = store.clone();
        tasks.push(once(
            "crisis-expander",
            job(move |stop| torg_core::crisis::run_expander(store.clone(), stop)),
        ));
    }
    // Retention: every night, what is not a record and has passed its time is deleted.
    {
        let store = store.clone();
        tasks.push(once(
            "retention",
            job(move |stop| torg_core::archive::run_nightly_retention(store.clone(), stop)),
        ));
    }
    Ok(tasks)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
