//! `torg-bench servers`: the real mail servers (OpenSMTPD, Dovecot) and Kannel of the tests,
//! for the browser test, which is not written in Rust. Prints one JSON line with their
//! addresses, then plays the mobile network and the citizens' mail programs:
//! - every SMS Torg sends comes out as a line `{"sms":{"from","to","text"}}`;
//! - `sms FROM TO TEXT` on standard input sends a citizen's SMS;
//! - `inbox USER` prints `{"inbox":[{"subject","body","raw"}…]}` (the user's mailbox).
//!
//! Everything stops when standard input closes.

use anyhow::{Context, Result};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use torg_testkit::mail::MailServers;
use torg_testkit::sms::{Kannel, PASSWORD, SENDER, USERNAME};

pub async fn run(get_url: String) -> Result<()> {
    let mail = MailServers::start().context(
        "Dovecot and OpenSMTPD are needed (apt-get install dovecot-imapd dovecot-lmtpd opensmtpd)",
    )?;
    let kannel = Kannel::start(&get_url).context("Kannel is needed (apt-get install kannel)")?;
    let network = kannel.network().await;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, String, String)>(16);
    let out = std::sync::Arc::new(tokio::sync::Mutex::new(()));
    println!(
        "{}",
        json!({
            "smtp_port": mail.smtp_port,
            "imap_port": mail.imap_port,
            "sendsms_url": kannel.sendsms_url(),
            "sms_username": USERNAME,
            "sms_password": PASSWORD,
            "sms_sender": SENDER,
        })
    );
    // The network: what citizens send goes in, what Torg sends comes out.
    let printer = out.clone();
    let net = tokio::spawn(async move {
        let mut network = network;
        loop {
            tokio::select! {
                send = rx.recv() => match send {
                    Some((from, to, text)) => network.send(&from, &to, &text).await,
                    None => break,
                },
                got = network.receive(Duration::from_millis(200)) => {
                    if let Some((from, to, text)) = got {
                        let _guard = printer.lock().await;
                        println!("{}", json!({"sms": {"from": from, "to": to, "text": text}}));
                    }
                }
            }
        }
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let mut parts = line.splitn(4, ' ');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("sms"), Some(from), Some(to), Some(text)) => {
                tx.send((from.into(), to.into(), text.into())).await?;
            }
            (Some("inbox"), Some(user), None, None) => {
                let raw = mail.raw_inbox(user).await;
                let parsed = mail.read_inbox(user).await;
                let list: Vec<_> = parsed
                    .iter()
                    .zip(&raw)
                    .map(|((subject, _, body), raw)| {
                        json!({"subject": subject, "body": body, "raw": String::from_utf8_lossy(raw)})
                    })
                    .collect();
                let _guard = out.lock().await;
                println!("{}", json!({ "inbox": list }));
            }
            _ => eprintln!("servers: unknown command {line:?}"),
        }
    }
    drop(tx);
    let _ = net.await;
    drop(kannel);
    drop(mail);
    Ok(())
}
