//! The interface catalogue lives in `torg-i18n`; this module re-exports it for the web layer
//! and checks that every key its templates and code use exists.

pub use torg_i18n::{Catalog, DEFAULT_LANGUAGE, Tr};

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_key_used_in_templates_and_code_exists_in_bokmal() {
        let c = Catalog::load(None).expect("catalogue");
        let nb = c.keys("nb");
        let mut used = vec![];
        // The web layer and the core's workers use the catalogue.
        for dir in ["templates", "src", "../torg-core/src", "../torg-i18n/src"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(path).expect("dir").flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                for marker in ["t.get(\"", "t.get1(\"", "tr.get(\"", "tr.get1(\""] {
                    for part in text.split(marker).skip(1) {
                        if let Some(key) = part.split('"').next() {
                            used.push(key.to_string());
                        }
                    }
                }
            }
        }
        assert!(used.len() > 30);
        let missing: Vec<_> = used.iter().filter(|k| !nb.contains(k)).collect();
        assert!(missing.is_empty(), "bokmål lacks {missing:?}");
    }
}
