//! Reading the municipality's mailbox over IMAP (TLS, or plain for local tests).
//!
//! Each message not yet marked `$TorgDone` is fetched with `BODY.PEEK[]` (which leaves it
//! unread), taken in and committed, and only then marked `$TorgDone \Seen` on the server. A
//! crash between the two fetches it again, and its Message-ID makes the second time a no-op.

use crate::MailError;
use crate::ingest::{Mailroom, Outcome};
use futures_util::TryStreamExt;
use torg_store::MailServer;

/// The keyword Torg puts on what it has taken in.
pub const DONE: &str = "$TorgDone";

/// How one pass over the mailbox went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollReport {
    pub fetched: usize,
    pub created: usize,
    pub threaded: usize,
    pub automatic: usize,
    pub duplicates: usize,
    pub quarantined: usize,
}

/// Logs in and selects the folder.
async fn open(
    server: &MailServer,
    folder: &str,
) -> Result<async_imap::Session<crate::net::Wire>, MailError> {
    let stream = crate::net::connect(server, server.security != "plain").await?;
    let mut client = async_imap::Client::new(stream);
    client
        .read_response()
        .await
        .map_err(|e| MailError::Connect(e.to_string()))?
        .ok_or_else(|| MailError::Connect("the server closed the connection".into()))?;
    let mut session = client
        .login(&server.user, &server.password)
        .await
        .map_err(|(e, _)| MailError::Login(e.to_string()))?;
    session
        .select(folder)
        .await
        .map_err(|e| MailError::Protocol(format!("select {folder}: {e}")))?;
    Ok(session)
}

/// Checks that the mailbox can be reached, logged in to and opened ("test connection").
pub async fn check(server: &MailServer, folder: &str) -> Result<(), MailError> {
    let mut session = open(server, folder).await?;
    let _ = session.logout().await;
    Ok(())
}

/// What waiting on a mailbox ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The server told of a change (new mail, or flags set): time to read the mailbox.
    Changed,
    /// Nothing happened within the time given.
    Quiet,
    /// The server does not offer IDLE; polling alone must do.
    NoIdle,
}

/// Waits up to `max` for the mailbox to change, with IMAP IDLE (RFC 2177), so that new mail
/// is read within moments instead of at the next poll.
pub async fn wait_for_change(
    server: &MailServer,
    folder: &str,
    max: std::time::Duration,
) -> Result<Wait, MailError> {
    let protocol =
        |what: &str, e: async_imap::error::Error| MailError::Protocol(format!("{what}: {e}"));
    let mut session = open(server, folder).await?;
    let capabilities = session
        .capabilities()
        .await
        .map_err(|e| protocol("capability", e))?;
    if !capabilities.has_str("IDLE") {
        let _ = session.logout().await;
        return Ok(Wait::NoIdle);
    }
    let mut idle = session.idle();
    idle.init().await.map_err(|e| protocol("idle", e))?;
    let (waiting, _stop) = idle.wait_with_timeout(max);
    let outcome = match waiting.await.map_err(|e| protocol("idle", e))? {
        async_imap::extensions::idle::IdleResponse::NewData(_) => Wait::Changed,
        _ => Wait::Quiet,
    };
    if let Ok(mut session) = idle.done().await {
        let _ = session.logout().await;
    }
    Ok(outcome)
}

/// One pass: takes in every message not done yet, `batch` at a time.
pub async fn poll(room: &Mailroom<'_>, batch: usize) -> Result<PollReport, MailError> {
    let account = room.account;
    let mut session = open(&account.imap, &account.imap_folder).await?;
    let mut uids: Vec<u32> = session
        .uid_search(format!("UNKEYWORD {DONE}"))
        .await
        .map_err(|e| MailError::Protocol(format!("search: {e}")))?
        .into_iter()
        .collect();
    uids.sort_unstable();
    let mut report = PollReport::default();
    for chunk in uids.chunks(batch.max(1)) {
        let set = chunk
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let fetched: Vec<_> = session
            .uid_fetch(&set, "(UID BODY.PEEK[])")
            .await
            .map_err(|e| MailError::Protocol(format!("fetch: {e}")))?
            .try_collect()
            .await
            .map_err(|e| MailError::Protocol(format!("fetch: {e}")))?;
        let mut done = vec![];
        let messages: Vec<(u32, &[u8])> = fetched
            .iter()
            .filter_map(|f| Some((f.uid?, f.body()?)))
            .collect();
        // New conversations are taken in together (their inquiries commit in one batch);
        // answers after them, in order, so that an answer finds an inquiry of the same batch.
        let (answers, news): (Vec<_>, Vec<_>) = messages
            .into_iter()
            .partition(|(_, raw)| crate::ingest::answers_something(raw));
        let now = jiff::Timestamp::now();
        let outcomes =
            futures_util::future::join_all(news.iter().map(|(_, raw)| room.take_in(raw, now)))
                .await;
        let mut results: Vec<(u32, Result<Outcome, torg_store::StoreError>)> =
            news.iter().map(|(uid, _)| *uid).zip(outcomes).collect();
        for (uid, raw) in answers {
            results.push((uid, room.take_in(raw, jiff::Timestamp::now()).await));
        }
        for (uid, outcome) in results {
            report.fetched += 1;
            match outcome? {
                Outcome::Created { .. } => report.created += 1,
                Outcome::Threaded { .. } => report.threaded += 1,
                Outcome::Automatic { .. } => report.automatic += 1,
                Outcome::Duplicate => report.duplicates += 1,
                Outcome::Quarantined { .. } => report.quarantined += 1,
            }
            done.push(uid.to_string());
        }
        // Only what is committed is marked.
        if !done.is_empty() {
            let _: Vec<_> = session
                .uid_store(done.join(","), format!("+FLAGS ({DONE} \\Seen)"))
                .await
                .map_err(|e| MailError::Protocol(format!("store flags: {e}")))?
                .try_collect()
                .await
                .map_err(|e| MailError::Protocol(format!("store flags: {e}")))?;
        }
    }
    let _ = session.logout().await;
    Ok(report)
}
