//! The German analyzer, the same at index and query time (ADR 0011):
//!
//! words (letters and digits) → drop words over 48 bytes → lower case → German folding
//! (ß→ss, ä/ö/ü→a/o/u, and the spellings ae/oe/ue→a/o/u) → other accents to ASCII → stop words
//! → compound parts (the whole word, then its parts at the same position) → Snowball German
//! stemming.
//!
//! Folding before stemming means "Straße", "Strasse" and "STRASSE" are one term, and "Müller",
//! "Mueller" and "Muller" another, whichever way a document or a query spells them.

use std::collections::HashSet;
use std::mem;
use std::ops::Range;
use std::sync::{Arc, LazyLock};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const GERMAN: &str = "rathaus_de";

/// Longer tokens (hashes, base64, garbage) are not indexed.
const MAX_TOKEN_BYTES: usize = 48;

/// Frequent German function words, spelled as the folding leaves them. Removed at index and
/// query time, so a query "Antrag auf Wohngeld" needs no document to contain "auf".
const STOP_WORDS: &[&str] = &[
    "aber", "als", "am", "an", "auch", "auf", "aus", "bei", "bin", "bis", "da", "dann", "das",
    "dass", "dem", "den", "der", "des", "die", "dies", "diese", "dieser", "dieses", "doch", "du",
    "durch", "ein", "eine", "einem", "einen", "einer", "eines", "er", "es", "fur", "hat", "hatte",
    "ich", "ihr", "im", "in", "ist", "ja", "mit", "nach", "noch", "nur", "ob", "oder", "sie",
    "sind", "so", "uber", "um", "und", "unter", "vom", "von", "vor", "war", "was", "wie", "wir",
    "wird", "zu", "zum", "zur",
];

/// The compound dictionary (folded parts, one a line, `#` comments).
static COMPOUND_PARTS: LazyLock<Arc<Dictionary>> = LazyLock::new(|| {
    Arc::new(Dictionary::new(
        include_str!("compounds.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#')),
    ))
});

/// The analyzer for titles, bodies and tags.
pub fn german() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(GermanFolding)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(STOP_WORDS.iter().map(|w| fold(w))))
        .filter(CompoundSplitter {
            dict: COMPOUND_PARTS.clone(),
        })
        .filter(Stemmer::new(Language::German))
        .build()
}

/// The words of a text as the index sees them: per word, its term first and then the terms
/// of its compound parts (empty when it is no known compound). Stop words are gone.
pub fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut last_pos = usize::MAX;
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        match out.last_mut() {
            Some(w) if t.position == last_pos => w.parts.push(t.text.clone()),
            _ => out.push(Word {
                term: t.text.clone(),
                parts: Vec::new(),
            }),
        }
        last_pos = t.position;
    }
    out
}

/// One word of a query after analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub term: String,
    pub parts: Vec<String>,
}

/// The German folding of one lower-cased word: ß→ss; ä, ö, ü → a, o, u; and the transcriptions
/// ae, oe, ue → a, o, u, except after a vowel or q ("Feuer", "Bauer", "neue", "Quelle" keep
/// their "ue", which never stands for an umlaut there).
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    fold_into(word, &mut out);
    out
}

fn fold_into(word: &str, out: &mut String) {
    out.clear();
    let mut prev: Option<char> = None;
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        let c = match c {
            '\u{df}' | '\u{1e9e}' => {
                out.push_str("ss");
                prev = Some('s');
                continue;
            }
            '\u{e4}' | '\u{c4}' => 'a',
            '\u{f6}' | '\u{d6}' => 'o',
            '\u{fc}' | '\u{dc}' => 'u',
            c => c,
        };
        if matches!(c, 'a' | 'o' | 'u')
            && chars.peek() == Some(&'e')
            && !prev.is_some_and(|p| is_vowel(p) || p == 'q')
        {
            chars.next();
            out.push(c);
            prev = Some('e');
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// Token filter: the German folding of `fold`.
#[derive(Clone)]
struct GermanFolding;

impl TokenFilter for GermanFolding {
    type Tokenizer<T: Tokenizer> = GermanFoldingFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> GermanFoldingFilter<T> {
        GermanFoldingFilter {
            inner: tokenizer,
            buffer: String::new(),
        }
    }
}

#[derive(Clone)]
struct GermanFoldingFilter<T> {
    inner: T,
    buffer: String,
}

impl<T: Tokenizer> Tokenizer for GermanFoldingFilter<T> {
    type TokenStream<'a> = GermanFoldingStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        GermanFoldingStream {
            tail: self.inner.token_stream(text),
            buffer: &mut self.buffer,
        }
    }
}

struct GermanFoldingStream<'a, T> {
    tail: T,
    buffer: &'a mut String,
}

impl<T: TokenStream> TokenStream for GermanFoldingStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let text = &self.tail.token().text;
        let needs = text.contains(['e', '\u{df}', '\u{e4}', '\u{f6}', '\u{fc}', '\u{1e9e}']);
        if needs {
            fold_into(text, self.buffer);
            mem::swap(&mut self.tail.token_mut().text, self.buffer);
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// The known parts of compounds.
struct Dictionary {
    words: HashSet<String>,
    min: usize,
    max: usize,
}

/// Linking elements between parts ("Geburt-s-urkunde", "Strasse-n-reinigung").
const LINKS: &[&str] = &["", "s", "n", "en", "es"];
/// Endings the last part may carry ("Bauantr-age" is stemmed later).
const ENDINGS: &[&str] = &["", "e", "en", "n", "s", "es", "er", "ern"];

impl Dictionary {
    fn new<'a>(parts: impl Iterator<Item = &'a str>) -> Dictionary {
        let words: HashSet<String> = parts.map(str::to_string).collect();
        let min = words.iter().map(String::len).min().unwrap_or(3).max(3);
        let max = words.iter().map(String::len).max().unwrap_or(0);
        Dictionary { words, min, max }
    }

    /// The parts of a folded word made entirely of known parts (two or more), with the
    /// fewest parts; None otherwise. The last part keeps its ending for the stemmer.
    fn split(&self, word: &str) -> Option<Vec<Range<usize>>> {
        let n = word.len();
        if !word.is_ascii() || n < 2 * self.min {
            return None;
        }
        // best[i]: the fewest parts that end (with their link) at byte i, and where the
        // last of them started and ended.
        let mut best: Vec<Option<(usize, usize, usize)>> = vec![None; n + 1];
        best[0] = Some((0, 0, 0));
        let mut fin: Option<(usize, usize)> = None; // (parts, start of the last part)
        for i in 0..n {
            let Some((count, _, _)) = best[i] else {
                continue;
            };
            for len in self.min..=self.max.min(n - i) {
                let end = i + len;
                if !self.words.contains(&word[i..end]) {
                    continue;
                }
                if count >= 1 && ENDINGS.contains(&&word[end..]) {
                    let parts = count + 1;
                    if fin.is_none_or(|(c, _)| parts < c) {
                        fin = Some((parts, i));
                    }
                }
                for link in LINKS {
                    let j = end + link.len();
                    if j < n && word[end..].starts_with(link) {
                        let cand = (count + 1, i, end);
                        if best[j].is_none_or(|(c, _, _)| cand.0 < c) {
                            best[j] = Some(cand);
                        }
                    }
                }
            }
        }
        let (_, last_start) = fin?;
        let mut parts = Vec::with_capacity(4);
        parts.push(last_start..n);
        let mut at = last_start;
        while at > 0 {
            let (_, start, end) = best[at]?;
            parts.push(start..end);
            at = start;
        }
        parts.reverse();
        Some(parts)
    }
}

/// Token filter: a known compound is followed by its parts at the same position.
#[derive(Clone)]
struct CompoundSplitter {
    dict: Arc<Dictionary>,
}

impl TokenFilter for CompoundSplitter {
    type Tokenizer<T: Tokenizer> = CompoundSplitterFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CompoundSplitterFilter<T> {
        CompoundSplitterFilter {
            inner: tokenizer,
            dict: self.dict,
        }
    }
}

#[derive(Clone)]
struct CompoundSplitterFilter<T> {
    inner: T,
    dict: Arc<Dictionary>,
}

impl<T: Tokenizer> Tokenizer for CompoundSplitterFilter<T> {
    type TokenStream<'a> = CompoundStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CompoundStream {
            tail: self.inner.token_stream(text),
            dict: &self.dict,
            pending: Vec::new(),
            current: Token::default(),
            on_part: false,
        }
    }
}

struct CompoundStream<'a, T> {
    tail: T,
    dict: &'a Dictionary,
    /// Parts still to yield, last first.
    pending: Vec<Token>,
    current: Token,
    on_part: bool,
}

impl<T: TokenStream> TokenStream for CompoundStream<'_, T> {
    fn advance(&mut self) -> bool {
        if let Some(part) = self.pending.pop() {
            self.current = part;
            self.on_part = true;
            return true;
        }
        self.on_part = false;
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token();
        if let Some(parts) = self.dict.split(&token.text) {
            for r in parts.into_iter().rev() {
                self.pending.push(Token {
                    text: token.text[r].to_string(),
                    ..token.clone()
                });
            }
        }
        true
    }

    fn token(&self) -> &Token {
        if self.on_part {
            &self.current
        } else {
            self.tail.token()
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        if self.on_part {
            &mut self.current
        } else {
            self.tail.token_mut()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        let mut a = german();
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = s.next() {
            out.push(t.text.clone());
        }
        out
    }

    fn same(a: &str, b: &str) {
        assert_eq!(terms(a), terms(b), "{a} / {b}");
        assert!(!terms(a).is_empty(), "{a} has terms");
    }

    #[test]
    fn sharp_s_folds_to_ss() {
        same("Straße", "Strasse");
        same("Straße", "STRASSE");
        same("STRAẞE", "strasse");
        assert_eq!(fold("straße"), "strasse");
    }

    #[test]
    fn umlauts_fold_and_their_transcriptions_too() {
        same("Müller", "Mueller");
        same("Müller", "Muller");
        same("MÜLLER", "MUELLER");
        same("Bäcker", "Baecker");
        same("Bäcker", "Backer");
        same("Köln", "Koeln");
        same("Köln", "Koln");
        same("Übung", "Uebung");
        same("Ärger", "Aerger");
        assert_eq!(fold("müller"), "muller");
        assert_eq!(fold("mueller"), "muller");
        assert_eq!(fold("gebaeude"), "gebaude");
    }

    #[test]
    fn ue_after_a_vowel_or_q_is_no_umlaut() {
        assert_eq!(fold("feuer"), "feuer");
        assert_eq!(fold("bauer"), "bauer");
        assert_eq!(fold("neue"), "neue");
        assert_eq!(fold("quelle"), "quelle");
        assert_eq!(fold("steuer"), "steuer");
    }

    #[test]
    fn other_accents_fold_to_ascii() {
        same("Café", "Cafe");
    }

    #[test]
    fn german_stemming_joins_inflections() {
        same("Anträge", "Antrag");
        same("Antraege", "Antrag");
        same("Anträgen", "Antrag");
        same("Gebühren", "Gebühr");
        same("Genehmigungen", "Genehmigung");
    }

    #[test]
    fn stop_words_are_dropped_in_any_spelling() {
        assert_eq!(terms("Antrag für Wohngeld"), terms("Antrag fuer Wohngeld"));
        assert_eq!(terms("und oder der die das"), Vec::<String>::new());
    }

    #[test]
    fn compounds_are_split_and_keep_the_whole_word() {
        let t = terms("Wohngeldantrag");
        assert_eq!(t, vec!["wohngeldantrag", "wohngeld", "antrag"]);
        let t = terms("Wohngeldanträge");
        assert_eq!(t, vec!["wohngeldantrag", "wohngeld", "antrag"]);
        // With a linking s and n.
        assert_eq!(terms("Geburtsurkunde")[1..], terms("Geburt Urkunde")[..]);
        assert_eq!(
            terms("Straßenreinigung").len(),
            1,
            "reinigung is no known part"
        );
        assert_eq!(terms("Strassenbaumschutz").len(), 4);
        // Not every word that starts with a part.
        assert_eq!(terms("Bauer"), vec!["bau"]);
        assert_eq!(terms("Antragsteller"), vec!["antragstell"]);
    }

    #[test]
    fn query_words_group_a_compound_with_its_parts() {
        let mut a = german();
        let w = words(&mut a, "Wohngeldantrag Köln");
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].term, "wohngeldantrag");
        assert_eq!(w[0].parts, vec!["wohngeld", "antrag"]);
        assert_eq!(w[1].parts, Vec::<String>::new());
    }

    #[test]
    fn syntax_characters_and_long_tokens_are_no_words() {
        assert_eq!(terms(r#""(:^~*+-[]{})!\/<>&"#), Vec::<String>::new());
        assert_eq!(terms(&"x".repeat(100)), Vec::<String>::new());
    }
}
