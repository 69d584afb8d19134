//! Commands that need no database: `torg check-text` and `torg holidays`.

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
