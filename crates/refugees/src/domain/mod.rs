//! Pure types and rules of refugee accommodation: the maintained lists (residence status,
//! accommodation type, sex, special needs), dated intervals and who sees which fields.

pub mod import;

use std::borrow::Cow;

use chrono::NaiveDate;
use rathaus_import::{Choice, words};

/// A value of a maintained list: the stored code and the words a file or form may use.
pub trait Coded: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.iter().copied().find(|v| v.code() == s)
    }
    /// Translation key of the label, `<prefix>.<code>`.
    fn label_key(self) -> String;
}

macro_rules! coded {
    ($name:ident, $prefix:literal, { $($v:ident = $code:literal),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($v),* }
        impl Coded for $name {
            const ALL: &'static [Self] = &[$($name::$v),*];
            fn code(self) -> &'static str {
                match self { $($name::$v => $code),* }
            }
            fn label_key(self) -> String {
                format!("{}.{}", $prefix, self.code())
            }
        }
    };
}

coded!(ResidenceStatus, "refugees.status", {
    Gestattung = "gestattung",
    Duldung = "duldung",
    Erlaubnis = "erlaubnis",
    Para24 = "para24",
    Buema = "buema",
    Niederlassung = "niederlassung",
    Other = "other",
});

coded!(AccommodationKind, "refugees.kind", {
    Municipal = "municipal",
    RentedFlat = "rented_flat",
    ContainerSite = "container_site",
    EmergencyShelter = "emergency_shelter",
});

coded!(Sex, "refugees.sex", {
    Female = "female",
    Male = "male",
    Diverse = "diverse",
});

coded!(Need, "refugees.need", {
    Wheelchair = "wheelchair",
    GroundFloor = "ground_floor",
    Infants = "infants",
});

/// What the Excel lists write for a residence status (matched ignoring case, spaces and
/// punctuation by the import pipeline).
pub const STATUS_CHOICES: &[Choice] = &[
    Choice {
        value: Cow::Borrowed("gestattung"),
        synonyms: words!["Aufenthaltsgestattung", "Gestattung", "AG", "Asylbewerber"],
    },
    Choice {
        value: Cow::Borrowed("duldung"),
        synonyms: words!["Duldung", "geduldet", "§ 60a AufenthG", "60a"],
    },
    Choice {
        value: Cow::Borrowed("para24"),
        synonyms: words![
            "§ 24 AufenthG",
            "§24",
            "24 AufenthG",
            "Para 24",
            "§ 24",
            "Ukraine",
        ],
    },
    Choice {
        value: Cow::Borrowed("erlaubnis"),
        synonyms: words![
            "Aufenthaltserlaubnis",
            "AE",
            "Erlaubnis",
            "§ 25 AufenthG",
            "§ 25 Abs. 1",
            "§ 25 Abs. 2",
            "§ 25 Abs. 3",
        ],
    },
    Choice {
        value: Cow::Borrowed("buema"),
        synonyms: words!["BueMA", "BUMA", "Ankunftsnachweis", "AKN"],
    },
    Choice {
        value: Cow::Borrowed("niederlassung"),
        synonyms: words!["Niederlassungserlaubnis", "NE"],
    },
    Choice {
        value: Cow::Borrowed("other"),
        synonyms: words!["sonstige", "sonstiges", "andere"],
    },
];

pub const SEX_CHOICES: &[Choice] = &[
    Choice {
        value: Cow::Borrowed("female"),
        synonyms: words!["w", "weiblich", "f", "Frau"],
    },
    Choice {
        value: Cow::Borrowed("male"),
        synonyms: words!["m", "maennlich", "Mann"],
    },
    Choice {
        value: Cow::Borrowed("diverse"),
        synonyms: words!["d", "divers", "x"],
    },
];

/// A stay `[starts_on, ends_on)`: the move-out day belongs to the next occupant, so a bed can
/// be handed over on the same day. `ends_on == None` is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

impl Stay {
    /// Whether both stays hold at least one common day.
    pub fn overlaps(&self, o: &Stay) -> bool {
        self.ends_on.is_none_or(|e| o.starts_on < e) && o.ends_on.is_none_or(|e| self.starts_on < e)
    }

    /// Whether the person is there on day `d`.
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.starts_on <= d && self.ends_on.is_none_or(|e| d < e)
    }

    /// Whether the stay touches a closure `[from, until]` (both days inclusive; an open
    /// closure without `until` lasts until further notice).
    pub fn meets_closure(&self, from: NaiveDate, until: Option<NaiveDate>) -> bool {
        let closure = Stay {
            starts_on: from,
            ends_on: until.and_then(|u| u.succ_opt()),
        };
        self.overlaps(&closure)
    }
}

/// Which field groups a reader sees (see `permissions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Visibility {
    pub basic: bool,
    pub social: bool,
    pub residence: bool,
}

impl Visibility {
    pub fn of(has: impl Fn(&str) -> bool) -> Self {
        Visibility {
            basic: has(crate::permissions::READ_BASIC)
                || has(crate::permissions::READ_SOCIAL)
                || has(crate::permissions::READ_RESIDENCE),
            social: has(crate::permissions::READ_SOCIAL),
            residence: has(crate::permissions::READ_RESIDENCE),
        }
    }

    pub fn all() -> Self {
        Visibility {
            basic: true,
            social: true,
            residence: true,
        }
    }
}

/// Codes of special needs as stored: a comma-separated list of known codes.
pub fn needs_from(list: &str) -> Vec<Need> {
    list.split(',').filter_map(Need::parse).collect()
}

pub fn needs_to_string(needs: &[Need]) -> String {
    needs.iter().map(|n| n.code()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn stays_hand_over_on_the_move_out_day() {
        let a = Stay {
            starts_on: d("2026-01-01"),
            ends_on: Some(d("2026-02-01")),
        };
        let b = Stay {
            starts_on: d("2026-02-01"),
            ends_on: None,
        };
        assert!(!a.overlaps(&b));
        assert!(!b.overlaps(&a));
        let c = Stay {
            starts_on: d("2026-01-31"),
            ends_on: None,
        };
        assert!(a.overlaps(&c) && c.overlaps(&a));
        assert!(a.covers(d("2026-01-31")) && !a.covers(d("2026-02-01")));
        assert!(b.meets_closure(d("2030-01-01"), None));
        assert!(!a.meets_closure(d("2026-02-01"), Some(d("2026-03-01"))));
        assert!(a.meets_closure(d("2025-12-01"), Some(d("2026-01-01"))));
    }

    #[test]
    fn codes_round_trip() {
        for s in ResidenceStatus::ALL {
            assert_eq!(ResidenceStatus::parse(s.code()), Some(*s));
        }
        assert_eq!(needs_from("wheelchair,bogus,infants").len(), 2);
    }
}
