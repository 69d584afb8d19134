//! Torg's interface text from Fluent catalogues (`locales/<lang>.ftl`), in a crate of its own
//! so that the web layer, the core's workers (acknowledgements, warnings) and the CLI all say
//! the same thing.
//!
//! Bokmål (`nb`) is the default and the fallback for any missing message. A language is
//! added by dropping a `.ftl` file into `locales/` (embedded at build time) or into the
//! directory given at start-up (read at run time): no code changes.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use unic_langid::LanguageIdentifier;

pub mod words;

#[derive(rust_embed::Embed)]
#[folder = "locales/"]
struct Embedded;

pub const DEFAULT_LANGUAGE: &str = "nb";

/// All loaded languages.
pub struct Catalog {
    bundles: BTreeMap<String, FluentBundle<FluentResource>>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("the default language {DEFAULT_LANGUAGE} has no catalogue")]
    NoDefault,
}

impl Catalog {
    /// Loads the embedded catalogues and then any `*.ftl` in `extra_dir`.
    pub fn load(extra_dir: Option<&Path>) -> Result<Catalog, CatalogError> {
        let mut sources: Vec<(String, String)> = Vec::new();
        for file in Embedded::iter() {
            if let Some(lang) = file.strip_suffix(".ftl")
                && let Some(content) = Embedded::get(&file)
            {
                sources.push((
                    lang.to_string(),
                    String::from_utf8_lossy(&content.data).into_owned(),
                ));
            }
        }
        if let Some(dir) = extra_dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "ftl")
                    && let (Some(stem), Ok(text)) = (
                        path.file_stem().and_then(|s| s.to_str()),
                        std::fs::read_to_string(&path),
                    )
                {
                    sources.push((stem.to_string(), text));
                }
            }
        }
        let mut bundles = BTreeMap::new();
        for (lang, text) in sources {
            let id: LanguageIdentifier = lang.parse().map_err(|_| CatalogError::Parse {
                file: format!("{lang}.ftl"),
                message: "the file name is not a language code".into(),
            })?;
            let resource =
                FluentResource::try_new(text).map_err(|(_, errs)| CatalogError::Parse {
                    file: format!("{lang}.ftl"),
                    message: format!("{errs:?}"),
                })?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            bundle.set_use_isolating(false);
            bundle.add_resource_overriding(resource);
            bundles.insert(lang, bundle);
        }
        if !bundles.contains_key(DEFAULT_LANGUAGE) {
            return Err(CatalogError::NoDefault);
        }
        Ok(Catalog { bundles })
    }

    /// The language codes available, sorted.
    pub fn languages(&self) -> Vec<String> {
        self.bundles.keys().cloned().collect()
    }

    pub fn has(&self, lang: &str) -> bool {
        self.bundles.contains_key(lang)
    }

    /// The message `key` in `lang`, falling back to bokmål, then to the key itself.
    pub fn text(&self, lang: &str, key: &str, args: &[(&str, &str)]) -> String {
        for l in [lang, DEFAULT_LANGUAGE] {
            if let Some(bundle) = self.bundles.get(l)
                && let Some(msg) = bundle.get_message(key)
                && let Some(pattern) = msg.value()
            {
                let mut fargs = FluentArgs::new();
                for (k, v) in args {
                    fargs.set(*k, FluentValue::from(*v));
                }
                let mut errors = vec![];
                return bundle
                    .format_pattern(pattern, Some(&fargs), &mut errors)
                    .into_owned();
            }
        }
        key.to_string()
    }

    /// Whether `key` is defined in `lang` or in bokmål.
    pub fn defines(&self, lang: &str, key: &str) -> bool {
        [lang, DEFAULT_LANGUAGE]
            .iter()
            .any(|l| self.bundles.get(*l).is_some_and(|b| b.has_message(key)))
    }

    /// The keys defined in `lang`.
    pub fn keys(&self, lang: &str) -> Vec<String> {
        self.bundles
            .get(lang)
            .map(|b| {
                let mut keys: Vec<String> = Embedded::get(&format!("{lang}.ftl"))
                    .map(|f| {
                        String::from_utf8_lossy(&f.data)
                            .lines()
                            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
                            .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with(' '))
                            .filter(|k| b.has_message(k))
                            .collect()
                    })
                    .unwrap_or_default();
                keys.sort();
                keys
            })
            .unwrap_or_default()
    }
}

/// A translator bound to one language, handed to templates as `t`.
#[derive(Clone)]
pub struct Tr {
    pub lang: String,
    catalog: Arc<Catalog>,
}

impl Tr {
    pub fn new(catalog: Arc<Catalog>, lang: &str) -> Tr {
        let lang = if catalog.has(lang) {
            lang
        } else {
            DEFAULT_LANGUAGE
        };
        Tr {
            lang: lang.to_string(),
            catalog,
        }
    }
    /// A message without arguments.
    pub fn get(&self, key: &str) -> String {
        self.catalog.text(&self.lang, key, &[])
    }
    /// A message with one argument.
    pub fn get1(&self, key: &str, name: &str, value: &str) -> String {
        self.catalog.text(&self.lang, key, &[(name, value)])
    }
    /// A message with several arguments.
    pub fn args(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.catalog.text(&self.lang, key, args)
    }
    /// The success banner named by a page's `?done=` (`done-{name}`), only when the
    /// catalogue has it: an address never puts its own words on a page.
    pub fn done(&self, name: &str) -> Option<String> {
        let key = format!("done-{name}");
        let named = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        (named && self.catalog.defines(&self.lang, &key)).then(|| self.get(&key))
    }
    /// The other languages, as (code, own name), for the language switcher.
    pub fn languages(&self) -> Vec<(String, String)> {
        self.catalog
            .languages()
            .into_iter()
            .map(|l| {
                let name = self.catalog.text(&l, "language-name", &[]);
                (l, name)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bokmal_is_default_and_every_shipped_language_is_complete() {
        let c = Catalog::load(None).expect("catalogue");
        assert!(c.has("nb") && c.has("en") && c.has("nn") && c.has("sv"));
        let nb = c.keys("nb");
        assert!(nb.len() > 50, "nb has {} keys", nb.len());
        for lang in ["en", "nn", "sv"] {
            let other = c.keys(lang);
            let missing: Vec<_> = nb.iter().filter(|k| !other.contains(k)).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        }
    }

    #[test]
    fn missing_messages_fall_back_to_bokmal_then_the_key() {
        let c = Catalog::load(None).expect("catalogue");
        assert_eq!(c.text("xx", "language-name", &[]), "Norsk bokmål");
        assert_eq!(c.text("en", "no-such-key", &[]), "no-such-key");
        assert_eq!(c.text("en", "language-name", &[]), "English");
    }

    #[test]
    fn a_banner_is_only_one_the_catalogue_has() {
        let tr = Tr::new(Arc::new(Catalog::load(None).expect("catalogue")), "nb");
        assert_eq!(tr.done("reply").as_deref(), Some("Svaret er sendt."));
        for forged in [
            "",
            "Ring 22 22 22 22 for å få pengene",
            "reply ",
            "no-such",
            "REPLY",
        ] {
            assert_eq!(tr.done(forged), None, "{forged}");
        }
    }

    #[test]
    fn a_language_can_be_added_as_a_file() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("fi.ftl"), "language-name = Suomi\n").expect("write");
        let c = Catalog::load(Some(dir.path())).expect("catalogue");
        assert!(c.has("fi"));
        assert_eq!(c.text("fi", "language-name", &[]), "Suomi");
    }
}
