//! Commands that need no database: `torg check-text`, `torg plain-language` and
//! `torg holidays`.

use super::*;
use std::io::Write;

/// `torg check-text`: standard input through the personal-data guard, findings as JSON lines.
pub fn check_text() -> Result<()> {
    use std::io::Read;
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .context("reading standard input")?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    for f in torg_domain::personal_data::find_in_bytes(&input) {
        let kind = serde_json::to_string(&f.kind)?;
        let line = writeln!(
            out,
            "{{\"kind\":{kind},\"start\":{},\"end\":{}}}",
            f.start, f.end
        );
        if let Err(e) = line {
            // A reader that stops early (`| head`) is not an error.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// `torg plain-language`: standard input through the plain-language checker; the figures as
/// the first JSON line, then one line per finding.
pub fn plain_language(language: &str, standard: Option<&str>) -> Result<()> {
    use std::io::Read;
    use torg_domain::plain::{Checker, Settings};
    let mut settings = Settings::new(language.parse().map_err(anyhow::Error::msg)?);
    settings.standard = standard
        .map(str::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .context("reading standard input")?;
    let text = String::from_utf8(input)
        .map_err(|e| anyhow::anyhow!("the text is not UTF-8 (at byte {}); convert it first, e.g. with iconv -f latin1 -t utf-8", e.utf8_error().valid_up_to()))?;
    let report = Checker::new(settings).check(&text);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut lines = std::iter::once(serde_json::to_string(&report)?).chain(
        report
            .findings
            .iter()
            .map(|f| serde_json::to_string(f).unwrap_or_default()),
    );
    for line in &mut lines {
        if let Err(e) = writeln!(out, "{line}") {
            // A reader that stops early (`| head`) is not an error.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// A year's public holidays as JSON lines.
pub fn holidays(country: &str, year: i16) -> Result<()> {
    let country: torg_domain::calendar::Country = country.parse().map_err(anyhow::Error::msg)?;
    let mut out = std::io::stdout().lock();
    for h in torg_domain::calendar::public_holidays(country, year) {
        let line = serde_json::json!({"date": h.date.to_string(), "name": h.name});
        if let Err(e) = writeln!(out, "{line}") {
            // A reader that stops early (`| head`) is not an error.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
    }
    Ok(())
}
