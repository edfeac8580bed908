//! Every word a user reads comes from a translation file: German first, English second.
//! Files are embedded at compile time; a key missing in English falls back to German.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

pub struct Catalog {
    lang: Lang,
    /// Texts live for the whole process (they are loaded once at start-up), so lookups can
    /// hand out `&'static str` while modules may still add their files.
    map: RwLock<HashMap<String, &'static str>>,
    fallback: Option<&'static Catalog>,
}

fn leak(m: HashMap<String, String>) -> RwLock<HashMap<String, &'static str>> {
    RwLock::new(
        m.into_iter()
            .map(|(k, v)| (k, &*Box::leak(v.into_boxed_str())))
            .collect(),
    )
}

/// Adds a module's translation file (TOML, same layout as locales/de.toml). Keys already
/// present are kept: a module cannot overwrite the platform's texts.
pub fn register(lang: Lang, src: &str) {
    let c = catalog(lang);
    if let Ok(mut m) = c.map.write() {
        for (k, v) in parse(src) {
            m.entry(k).or_insert_with(|| Box::leak(v.into_boxed_str()));
        }
    }
}

fn parse(src: &str) -> HashMap<String, String> {
    let table: toml::Table = match src.parse() {
        Ok(t) => t,
        Err(e) => panic!("translation file is not valid TOML: {e}"),
    };
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

fn flatten(prefix: &str, t: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => flatten(&key, inner, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

pub fn catalog(lang: Lang) -> &'static Catalog {
    static DE: OnceLock<Catalog> = OnceLock::new();
    static EN: OnceLock<Catalog> = OnceLock::new();
    let de = DE.get_or_init(|| Catalog {
        lang: Lang::De,
        map: leak(parse(include_str!("../locales/de.toml"))),
        fallback: None,
    });
    match lang {
        Lang::De => de,
        Lang::En => EN.get_or_init(|| Catalog {
            lang: Lang::En,
            map: leak(parse(include_str!("../locales/en.toml"))),
            fallback: Some(de),
        }),
    }
}

impl Catalog {
    pub fn lang(&self) -> &'static str {
        self.lang.code()
    }

    /// The text for `key`; the key itself when no file has it, so a gap is visible, not fatal.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        let found = self.map.read().ok().and_then(|m| m.get(key).copied());
        match found {
            Some(v) => v,
            None => match self.fallback {
                Some(f) => f.get(key),
                None => key,
            },
        }
    }

    /// `get` with `{arg}` replaced.
    pub fn fmt(&self, key: &str, arg: &str) -> String {
        self.get(key).replace("{arg}", arg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_english_key_exists_in_german() {
        let de = catalog(Lang::De);
        let en = catalog(Lang::En);
        let de_map = de.map.read().unwrap();
        for k in en.map.read().unwrap().keys() {
            assert!(
                de_map.contains_key(k),
                "key {k} is in en.toml but not in de.toml"
            );
        }
        drop(de_map);
        assert_eq!(de.get("nav.skip"), "Zum Inhalt springen");
        assert_eq!(en.get("nav.skip"), "Skip to content");
        assert_eq!(de.get("no.such.key"), "no.such.key");
    }

    #[test]
    fn modules_add_texts_but_cannot_overwrite() {
        register(
            Lang::De,
            "[test_module]\ntitle = \"Notizen\"\n[nav]\nskip = \"Überschrieben\"\n",
        );
        let de = catalog(Lang::De);
        assert_eq!(de.get("test_module.title"), "Notizen");
        assert_eq!(de.get("nav.skip"), "Zum Inhalt springen");
        // English falls back to the module's German text until it has its own.
        assert_eq!(catalog(Lang::En).get("test_module.title"), "Notizen");
    }

    #[test]
    fn every_permission_and_error_key_is_translated() {
        let de = catalog(Lang::De);
        for p in rathaus_core::permissions::all() {
            assert!(
                de.map.read().unwrap().contains_key(p.label_key),
                "missing {}",
                p.label_key
            );
        }
        for k in [
            "err.required",
            "err.too_long",
            "err.email",
            "err.password_short",
            "err.password_common",
            "err.email_taken",
            "err.invalid_choice",
            "err.name_taken",
        ] {
            assert!(de.map.read().unwrap().contains_key(k), "missing {k}");
        }
    }
}
