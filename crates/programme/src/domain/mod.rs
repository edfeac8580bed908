//! Pure rules of the programme: the priority formula, sizes, categories, concern kinds and
//! statuses, the default phases, and positions of cards within a phase. No I/O.

pub mod burnup;

/// Gap between neighbouring card positions: a card is put between two others without
/// touching them as long as a gap is left.
pub const GAP: i64 = 1024;

/// Scores run from 1 to 5.
pub const SCORE_MIN: i32 = 1;
pub const SCORE_MAX: i32 = 5;

/// The priority of a measure from its benefit and effort (each 1–5) with the default
/// formula: high benefit at low effort first. `benefit × (6 − effort)`, from 1 to 25.
pub fn priority(benefit: i32, effort: i32) -> i32 {
    PriorityFormula::Product.compute(benefit, effort)
}

/// Weights of the weighted formula run from 1 to 5.
pub const WEIGHT_MIN: i32 = 1;
pub const WEIGHT_MAX: i32 = 5;

/// How a tenant computes priorities from benefit and effort. Both reward benefit and
/// punish effort; the weighted sum lets a tenant value one more than the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PriorityFormula {
    /// `benefit × (6 − effort)`, 1–25.
    #[default]
    Product,
    /// `b × benefit + e × (6 − effort)`.
    Weighted { benefit: i32, effort: i32 },
}

impl PriorityFormula {
    pub fn compute(self, benefit: i32, effort: i32) -> i32 {
        let b = benefit.clamp(SCORE_MIN, SCORE_MAX);
        let ease = SCORE_MAX + 1 - effort.clamp(SCORE_MIN, SCORE_MAX);
        match self {
            PriorityFormula::Product => b * ease,
            PriorityFormula::Weighted {
                benefit: wb,
                effort: we,
            } => wb * b + we * ease,
        }
    }

    /// The stored code (`product` or `weighted`).
    pub fn code(self) -> &'static str {
        match self {
            PriorityFormula::Product => "product",
            PriorityFormula::Weighted { .. } => "weighted",
        }
    }

    /// The formula from its stored parts; unknown codes fall back to the default.
    pub fn from_parts(code: &str, benefit: i32, effort: i32) -> PriorityFormula {
        match code {
            "weighted" => PriorityFormula::Weighted { benefit, effort },
            _ => PriorityFormula::Product,
        }
    }

    /// The weights (1, 1 for the product, which has none).
    pub fn weights(self) -> (i32, i32) {
        match self {
            PriorityFormula::Product => (1, 1),
            PriorityFormula::Weighted { benefit, effort } => (benefit, effort),
        }
    }

    /// The lowest and highest priority it gives.
    pub fn range(self) -> (i32, i32) {
        (
            self.compute(SCORE_MIN, SCORE_MAX),
            self.compute(SCORE_MAX, SCORE_MIN),
        )
    }
}

/// The default phases of a new tenant: key, translation key of the name, WIP limit.
pub const DEFAULT_PHASES: &[(&str, &str, Option<i32>)] = &[
    ("idee", "programme.phase.idee", None),
    ("bewertet", "programme.phase.bewertet", None),
    ("geplant", "programme.phase.geplant", Some(30)),
    ("in_umsetzung", "programme.phase.in_umsetzung", Some(15)),
    ("im_test", "programme.phase.im_test", Some(10)),
    ("erledigt", "programme.phase.erledigt", None),
];

/// The phase a finished measure is in (counted as done in reports).
pub const DONE_PHASE: &str = "erledigt";

pub const SIZES: &[&str] = &["small", "medium", "large"];
pub const CATEGORIES: &[&str] = &[
    "citizen_services",
    "internal_processes",
    "infrastructure",
    "smart_city",
    "ozg",
];
pub const CONCERN_KINDS: &[&str] = &["concern", "resistance", "risk", "idea"];
pub const CONCERN_STATUSES: &[&str] = &["open", "addressed", "resolved"];

/// Where a card lands between its neighbours `prev` (above) and `next` (below) in the target
/// phase: the midpoint, or None when there is no gap left (then the cards from `next` on
/// shift down by `GAP` and the card takes `next`'s old place).
pub fn between(prev: Option<i64>, next: Option<i64>) -> Option<i64> {
    match (prev, next) {
        (None, None) => Some(GAP),
        (Some(a), None) => Some(a + GAP),
        (None, Some(b)) => Some(b - GAP),
        (Some(a), Some(b)) => {
            let m = a + (b - a) / 2;
            (m > a && m < b).then_some(m)
        }
    }
}

/// Whether a move into a phase holding `count` cards (the moved card not among them) is
/// beyond its WIP limit.
pub fn beyond_limit(limit: Option<i32>, count: u64) -> bool {
    limit.is_some_and(|l| count >= u64::try_from(l.max(0)).unwrap_or(0))
}

/// Days (rounded down) between two instants, never negative.
pub fn days_between(from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>) -> i64 {
    (to - from).num_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_priorities_follow_their_weights() {
        let f = PriorityFormula::Weighted {
            benefit: 3,
            effort: 1,
        };
        assert_eq!(f.compute(5, 5), 16);
        assert_eq!(f.compute(1, 1), 8);
        assert_eq!(f.range(), (4, 20));
        assert_eq!(PriorityFormula::Product.range(), (1, 25));
        assert_eq!(
            PriorityFormula::from_parts("weighted", 2, 4),
            PriorityFormula::Weighted {
                benefit: 2,
                effort: 4
            }
        );
        assert_eq!(
            PriorityFormula::from_parts("x", 2, 4),
            PriorityFormula::Product
        );
    }

    #[test]
    fn priority_rewards_benefit_and_punishes_effort() {
        assert_eq!(priority(5, 1), 25);
        assert_eq!(priority(1, 5), 1);
        assert_eq!(priority(3, 3), 9);
        assert!(priority(4, 2) > priority(4, 4));
    }

    #[test]
    fn positions_go_between_or_ask_for_a_shift() {
        assert_eq!(between(None, None), Some(GAP));
        assert_eq!(between(Some(2048), None), Some(3072));
        assert_eq!(between(None, Some(1024)), Some(0));
        assert_eq!(between(Some(1024), Some(2048)), Some(1536));
        assert_eq!(between(Some(5), Some(6)), None);
    }

    #[test]
    fn the_limit_counts_the_cards_already_there() {
        assert!(!beyond_limit(None, 1000));
        assert!(!beyond_limit(Some(3), 2));
        assert!(beyond_limit(Some(3), 3));
        assert!(beyond_limit(Some(0), 0));
    }
}
