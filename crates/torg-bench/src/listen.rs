//! `torg-bench listen`: a local HTTP server with 1,000 RSS feeds of 50 items each, one
//! municipality listening to all of them with 200 keywords; one pass of the real reader
//! (`torg_social::listen::pass`: claim, fetch 16 at a time, parse, match with the search's
//! word forms, keep, tell) timed, then a second pass where every feed answers 304.

use anyhow::Result;
use std::sync::Arc;
use std::time::Instant;
use torg_core::actor::Actor;
use torg_domain::connector::HostRules;
use torg_domain::listening::SourceKind;
use torg_store::{NewMunicipality, Store};

/// Words a municipality might listen for; the feeds hold one of them in every tenth item.
const WORDS: [&str; 20] = [
    "gasslukt",
    "strømbrudd",
    "flom",
    "ras",
    "brann",
    "vannlekkasje",
    "kokevarsel",
    "trafikkulykke",
    "stengt veg",
    "skolebuss",
    "snøskred",
    "oljesøl",
    "demonstrasjon",
    "innbrudd",
    "hærverk",
    "søppeltømming",
    "brøyting",
    "strømstans",
    "vannbrudd",
    "ekstremvær",
];

fn feed(n: usize, items: usize) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Kilde {n}</title>\
         <link>https://kilde{n}.example/</link><description>Nyheter</description>"
    );
    for i in 0..items {
        let word = if (n + i).is_multiple_of(10) {
            WORDS[(n * 7 + i) % WORDS.len()]
        } else {
            "konsert"
        };
        out.push_str(&format!(
            "<item><title>Sak {i} fra kilde {n}: {word} i sentrum</title>\
             <link>https://kilde{n}.example/{i}</link><guid>k{n}-{i}</guid>\
             <description>Lokale nyheter om {word}, vær og trafikk i kommunen, skrevet av redaksjonen. \
             Mer informasjon kommer når vi vet mer.</description></item>"
        ));
    }
    out.push_str("</channel></rss>");
    out
}

pub async fn run(feeds: usize, items: usize, keywords: usize) -> Result<()> {
    let bodies: Arc<Vec<String>> = Arc::new((0..feeds).map(|n| feed(n, items)).collect());
    let app = axum::Router::new().route(
        "/feed/{n}",
        axum::routing::get(
            move |axum::extract::Path(n): axum::extract::Path<usize>,
                  headers: axum::http::HeaderMap| {
                let bodies = bodies.clone();
                async move {
                    use axum::response::IntoResponse;
                    if headers.get("if-none-match").is_some_and(|v| v == "\"v1\"") {
                        return axum::http::StatusCode::NOT_MODIFIED.into_response();
                    }
                    match bodies.get(n) {
                        Some(b) => (
                            [("content-type", "application/rss+xml"), ("etag", "\"v1\"")],
                            b.clone(),
                        )
                            .into_response(),
                        None => axum::http::StatusCode::NOT_FOUND.into_response(),
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> =
        Arc::new(torg_store_sql::SqliteStore::open(&dir.path().join("torg.db")).await?);
    let m = store
        .create_municipality(NewMunicipality {
            slug: "lytt".into(),
            name: "Lytt kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await?;
    let actor = Actor::cli();
    let mut list: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
    for k in list.len()..keywords {
        list.push(format!("stikkord{k}"));
    }
    torg_core::listening::set_keywords(&*store, &actor, m.id, &list.join("\n")).await?;
    for n in 0..feeds {
        torg_core::listening::add_source(
            &*store,
            &actor,
            m.id,
            SourceKind::Feed,
            &format!("Kilde {n}"),
            &format!("{base}/feed/{n}"),
            "",
        )
        .await?;
    }
    let hosts = HostRules::any();
    let client = torg_social::listen::client(hosts.clone());
    let notify = torg_core::listening::Notify {
        catalog: Arc::new(torg_http::Catalog::load(None)?),
        base_url: "https://torg.example".into(),
    };
    let now = jiff::Timestamp::now();
    let t0 = Instant::now();
    let (read, found) =
        torg_social::listen::pass(&*store, &client, &hosts, &[], &notify, now).await?;
    let first = t0.elapsed();
    println!(
        "{read} feeds of {items} items against {} keywords: {found} matches kept and told of in {:.2} s",
        list.len(),
        first.as_secs_f64()
    );
    let t0 = Instant::now();
    let (read, found) = torg_social::listen::pass(
        &*store,
        &client,
        &hosts,
        &[],
        &notify,
        now + torg_domain::listening::CHECK_EVERY,
    )
    .await?;
    println!(
        "  again five minutes later: {read} feeds answered 304, {found} new, in {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
