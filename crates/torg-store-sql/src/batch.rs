//! Group commit: many concurrent inquiry creations share one transaction and one fsync.
//!
//! Requests send a job to the writer task and wait for its answer; the writer takes every
//! job that is waiting (up to [`MAX_BATCH`]), writes them in one transaction (each under its
//! own savepoint, so one bad job fails alone) and answers each only after the commit.

use tokio::sync::{mpsc, oneshot};
use torg_store::{Created, NewInquiry, StoreError};

pub(crate) const MAX_BATCH: usize = 256;

pub(crate) struct Job {
    pub(crate) new: NewInquiry,
    /// Its search terms, worked out by the caller's task before the writer's turn (the
    /// writer is one task for all, so it only writes them).
    pub(crate) terms: String,
    pub(crate) reply: oneshot::Sender<Result<Created, StoreError>>,
}

/// Receives the jobs waiting now: at least one, at most `MAX_BATCH`. `None` when closed.
pub(crate) async fn next_batch(rx: &mut mpsc::Receiver<Job>) -> Option<Vec<Job>> {
    let first = rx.recv().await?;
    let mut jobs = vec![first];
    while jobs.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => jobs.push(j),
            Err(_) => break,
        }
    }
    Some(jobs)
}

/// Sends a job to the writer and waits for the committed result.
pub(crate) async fn submit(tx: &mpsc::Sender<Job>, new: NewInquiry) -> Result<Created, StoreError> {
    let (reply, rx) = oneshot::channel();
    let terms = torg_domain::search::terms(
        &[
            new.citizen_name.as_str(),
            new.contact_email.as_deref().unwrap_or_default(),
            new.contact_phone.as_deref().unwrap_or_default(),
            new.subject.as_deref().unwrap_or_default(),
            new.body.as_str(),
        ]
        .join("\n"),
    )
    .join(" ");
    tx.send(Job { new, terms, reply })
        .await
        .map_err(|_| StoreError::Database("the inquiry writer has stopped".into()))?;
    rx.await
        .map_err(|_| StoreError::Database("the inquiry writer stopped before answering".into()))?
}
