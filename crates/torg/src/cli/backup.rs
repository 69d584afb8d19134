//! `torg backup` and `torg restore`: a consistent copy of a running SQLite installation and
//! bringing it back.

use super::*;

pub const BACKUP_FILE: &str = "torg.db";

/// `torg backup DIR [--key-to FILE]`: a consistent copy of the running SQLite database. The
/// secret key never goes into the backup (whoever holds both holds every sealed password);
/// `key_to` writes it to a place of its own, which must be outside `dir`.
pub async fn backup(
    settings: &Settings,
    dir: &std::path::Path,
    key_to: Option<&std::path::Path>,
) -> Result<()> {
    if let Some(k) = key_to
        && let (Ok(k), Ok(d)) = (absolute(k), absolute(dir))
        && k.starts_with(&d)
    {
        bail!("--key-to must be outside the backup's directory: keep the key apart from the copy");
    }
    if !settings.is_sqlite() {
        bail!("torg backup copies the embedded SQLite database; back up PostgreSQL with pg_dump");
    }
    let db = std::path::Path::new(settings.database_url.trim_start_matches("sqlite://"));
    if !db.exists() {
        bail!("there is no database at {}; check --data-dir", db.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let target = dir.join(BACKUP_FILE);
    if target.exists() {
        bail!(
            "{} holds a backup already; choose an empty directory",
            dir.display()
        );
    }
    let store = torg_store_sql::SqliteStore::open(db).await?;
    store.backup_to(&target).await?;
    let copy = torg_store_sql::SqliteStore::open(&target).await?;
    if !copy.integrity_ok().await? {
        bail!(
            "the backup in {} failed its integrity check; try again",
            dir.display()
        );
    }
    let size = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    println!(
        "Backed up {} to {} ({:.1} MB, attachments included).",
        db.display(),
        target.display(),
        size as f64 / 1e6
    );
    // The key that opens the sealed passwords is kept apart from the copy.
    match key_to {
        Some(k) if settings.secret_key_file.exists() => {
            if let Some(parent) = k.parent() {
                std::fs::create_dir_all(parent)?;
            }
            copy_private(&settings.secret_key_file, k)?;
            println!(
                "The secret key is in {}: keep it apart from the backup.",
                k.display()
            );
        }
        _ => println!(
            "The secret key ({}) is not in the backup. Keep a copy of it apart (--key-to): a restore without it must have its mail, SMS and sign-on passwords typed again.",
            settings.secret_key_file.display()
        ),
    }
    Ok(())
}

fn absolute(p: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    std::path::absolute(p)
}

/// Copies a secret file, readable by its owner only.
pub fn copy_private(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(from, to).with_context(|| format!("cannot write {}", to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// `torg restore DIR [--key-from FILE]`: puts a backup in place of the data directory's
/// database, and the secret key kept apart in place of the installation's.
pub async fn restore(
    settings: &Settings,
    dir: &std::path::Path,
    key_from: Option<&std::path::Path>,
    force: bool,
) -> Result<()> {
    if !settings.is_sqlite() {
        bail!(
            "torg restore restores the embedded SQLite database; restore PostgreSQL with pg_restore"
        );
    }
    let source = dir.join(BACKUP_FILE);
    if !source.exists() {
        bail!(
            "{} holds no backup ({BACKUP_FILE} is missing)",
            dir.display()
        );
    }
    {
        let check = torg_store_sql::SqliteStore::open(&source).await?;
        if !check.integrity_ok().await? {
            bail!(
                "the backup in {} is damaged; it was not restored",
                dir.display()
            );
        }
    }
    settings.prepare_data_dir()?;
    let db = std::path::PathBuf::from(settings.database_url.trim_start_matches("sqlite://"));
    if db.exists() && !force {
        bail!(
            "{} exists; stop Torg and pass --force to replace it",
            db.display()
        );
    }
    for suffix in ["-wal", "-shm"] {
        let side = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if side.exists() {
            std::fs::remove_file(&side)?;
        }
    }
    std::fs::copy(&source, &db).with_context(|| format!("cannot write {}", db.display()))?;
    match key_from {
        Some(key) => {
            copy_private(key, &settings.secret_key_file)
                .with_context(|| format!("cannot read the secret key {}", key.display()))?;
        }
        None if !settings.secret_key_file.exists() => println!(
            "No secret key was given (--key-from): sealed mail, SMS and sign-on passwords must be typed again."
        ),
        None => {}
    }
    println!("Restored {} from {}.", db.display(), dir.display());
    Ok(())
}
