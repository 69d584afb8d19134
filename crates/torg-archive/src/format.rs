//! File formats as PRONOM identifiers (the `format` of a Noark 5 dokumentobjekt).

/// The PRONOM id of a document with this MIME type and these first bytes; `None` when Torg
/// does not know it (the MIME type is then given in `formatDetaljer` alone).
pub fn pronom(content_type: &str, head: &[u8]) -> Option<&'static str> {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "text/plain" => Some("x-fmt/111"),
        "application/pdf" => Some(pdf_version(head)),
        "application/xml" | "text/xml" => Some("fmt/101"),
        "image/jpeg" => Some("fmt/43"),
        "image/png" => Some("fmt/12"),
        "image/tiff" => Some("fmt/353"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
            Some("fmt/412")
        }
        "application/vnd.oasis.opendocument.text" => Some("fmt/291"),
        _ => None,
    }
}

/// PDF versions by their header (`%PDF-1.4` → fmt/18).
fn pdf_version(head: &[u8]) -> &'static str {
    match head.get(..8) {
        Some(b"%PDF-1.0") => "fmt/14",
        Some(b"%PDF-1.1") => "fmt/15",
        Some(b"%PDF-1.2") => "fmt/16",
        Some(b"%PDF-1.3") => "fmt/17",
        Some(b"%PDF-1.4") => "fmt/18",
        Some(b"%PDF-1.5") => "fmt/19",
        Some(b"%PDF-1.6") => "fmt/20",
        Some(b"%PDF-2.0") => "fmt/1129",
        _ => "fmt/276",
    }
}

/// A file name safe in any file system: letters, digits, `.`, `-` and `_`; at most 80 bytes.
pub fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = out.trim_start_matches('.').to_string();
    out = if trimmed.is_empty() {
        "vedlegg".into()
    } else {
        trimmed
    };
    if out.len() > 80 {
        let cut = out.len() - 80;
        out = out[cut..].to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_type_and_header() {
        assert_eq!(pronom("text/plain; charset=utf-8", b""), Some("x-fmt/111"));
        assert_eq!(pronom("application/pdf", b"%PDF-1.4\n"), Some("fmt/18"));
        assert_eq!(pronom("Application/PDF", b"garbage"), Some("fmt/276"));
        assert_eq!(pronom("application/x-unknown", b""), None);
    }

    #[test]
    fn file_names_cannot_escape_or_hide() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("tegning fra Åse.pdf"), "tegning_fra__se.pdf");
        assert_eq!(safe_file_name(".."), "vedlegg");
        assert_eq!(safe_file_name(&"a".repeat(300)).len(), 80);
    }
}
