//! The burn-up of the status report: for every week (or month, when the programme runs longer
//! than half a year) of the programme's life, how many measures existed (the scope) and how
//! many of them were in the done phase at its end. A measure moved out of the done phase
//! (reopened) counts as not done from that day on. Pure: the service hands in each measure's
//! creation day and its phase changes.

use chrono::{Datelike, Duration, NaiveDate};

/// One measure's life as far as the burn-up needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// The day it was created (it counts to the scope from then on).
    pub created: NaiveDate,
    /// Its phase changes in the order they happened: the day and whether the change landed in
    /// the done phase. Before the first change a measure is not done.
    pub changes: Vec<(NaiveDate, bool)>,
}

/// The length of one step of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Weeks from Monday.
    Week,
    /// Calendar months.
    Month,
}

/// The state at the end of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// The first day of the step (a Monday or the first of a month).
    pub start: NaiveDate,
    /// Measures done at its end.
    pub done: i64,
    /// Measures existing at its end.
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BurnUp {
    pub step: Step,
    /// One point per step from the first measure's step to today's, empty steps included.
    pub points: Vec<Point>,
}

/// Up to this many weeks the chart goes by week; beyond, by month (a point stays readable).
pub const MAX_WEEKS: i64 = 26;

/// The first day of the step holding `d`.
pub fn step_start(step: Step, d: NaiveDate) -> NaiveDate {
    match step {
        Step::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
        Step::Month => d.with_day(1).unwrap_or(d),
    }
}

/// The first day of the step after the one starting at `start`.
fn next_start(step: Step, start: NaiveDate) -> NaiveDate {
    match step {
        Step::Week => start + Duration::days(7),
        Step::Month => start
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX),
    }
}

/// The burn-up of `tracks` up to `today`. Changes dated before their measure's creation (a
/// clock set wrong) count from the creation day; `today` earlier than the last event is
/// moved to it, so the last point always shows the current state.
pub fn burn_up(tracks: &[Track], today: NaiveDate) -> BurnUp {
    // Day → (change of the scope, change of the done count).
    let mut deltas: Vec<(NaiveDate, i64, i64)> = Vec::new();
    for t in tracks {
        deltas.push((t.created, 1, 0));
        let mut done = false;
        for &(day, to_done) in &t.changes {
            if to_done != done {
                deltas.push((day.max(t.created), 0, if to_done { 1 } else { -1 }));
                done = to_done;
            }
        }
    }
    let (Some(first), Some(last)) = (
        deltas.iter().map(|d| d.0).min(),
        deltas.iter().map(|d| d.0).max(),
    ) else {
        return BurnUp {
            step: Step::Week,
            points: vec![],
        };
    };
    let end = today.max(last);
    let weeks = (step_start(Step::Week, end) - step_start(Step::Week, first)).num_days() / 7 + 1;
    let step = if weeks <= MAX_WEEKS {
        Step::Week
    } else {
        Step::Month
    };
    deltas.sort_unstable_by_key(|d| d.0);
    let mut points = Vec::new();
    let (mut total, mut done) = (0, 0);
    let mut next = deltas.iter().peekable();
    let mut start = step_start(step, first);
    while start <= end {
        let following = next_start(step, start);
        while let Some(&&(_, t, d)) = next.peek().filter(|x| x.0 < following) {
            total += t;
            done += d;
            next.next();
        }
        points.push(Point { start, done, total });
        if following == NaiveDate::MAX {
            break;
        }
        start = following;
    }
    BurnUp { step, points }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn track(created: &str, changes: &[(&str, bool)]) -> Track {
        Track {
            created: day(created),
            changes: changes.iter().map(|&(d, b)| (day(d), b)).collect(),
        }
    }

    fn figures(b: &BurnUp) -> Vec<(String, i64, i64)> {
        b.points
            .iter()
            .map(|p| (p.start.to_string(), p.done, p.total))
            .collect()
    }

    #[test]
    fn no_measures_no_points() {
        let b = burn_up(&[], day("2026-12-04"));
        assert!(b.points.is_empty());
        assert_eq!(b.step, Step::Week);
    }

    #[test]
    fn weeks_start_on_monday_and_empty_weeks_carry_the_count() {
        // 2026-11-02 is a Monday; nothing happens in the weeks of 9, 16 and 23 November.
        let b = burn_up(
            &[
                track("2026-11-03", &[("2026-11-03", false), ("2026-11-05", true)]),
                track("2026-11-04", &[("2026-11-04", false), ("2026-12-01", true)]),
            ],
            day("2026-12-04"),
        );
        assert_eq!(b.step, Step::Week);
        assert_eq!(
            figures(&b),
            vec![
                ("2026-11-02".into(), 1, 2),
                ("2026-11-09".into(), 1, 2),
                ("2026-11-16".into(), 1, 2),
                ("2026-11-23".into(), 1, 2),
                ("2026-11-30".into(), 2, 2),
            ]
        );
    }

    #[test]
    fn all_done_ends_with_done_equal_to_the_scope() {
        let b = burn_up(
            &[
                track("2026-11-02", &[("2026-11-02", true)]),
                track("2026-11-02", &[("2026-11-02", false), ("2026-11-10", true)]),
            ],
            day("2026-11-12"),
        );
        assert_eq!(
            figures(&b),
            vec![("2026-11-02".into(), 1, 2), ("2026-11-09".into(), 2, 2)]
        );
    }

    #[test]
    fn a_reopened_measure_counts_as_not_done_and_again_when_done_again() {
        let t = track(
            "2026-11-02",
            &[
                ("2026-11-02", false),
                ("2026-11-03", true),
                ("2026-11-10", false), // moved back a phase
                ("2026-11-11", false), // and once more, still not done
                ("2026-11-24", true),
            ],
        );
        let b = burn_up(&[t], day("2026-11-25"));
        let done: Vec<i64> = b.points.iter().map(|p| p.done).collect();
        assert_eq!(done, vec![1, 0, 0, 1]);
        // Reopened and done again within one week: counted once.
        let t = track(
            "2026-11-02",
            &[
                ("2026-11-03", true),
                ("2026-11-04", false),
                ("2026-11-05", true),
            ],
        );
        let b = burn_up(&[t], day("2026-11-05"));
        assert_eq!(figures(&b), vec![("2026-11-02".into(), 1, 1)]);
    }

    #[test]
    fn a_change_before_the_creation_counts_from_the_creation() {
        let b = burn_up(
            &[track("2026-11-10", &[("2026-11-01", true)])],
            day("2026-11-10"),
        );
        assert_eq!(figures(&b), vec![("2026-11-09".into(), 1, 1)]);
    }

    #[test]
    fn today_before_the_last_event_still_shows_the_current_state() {
        let b = burn_up(
            &[track("2026-11-02", &[("2026-11-20", true)])],
            day("2026-11-03"),
        );
        assert_eq!(b.points.last().map(|p| (p.done, p.total)), Some((1, 1)));
    }

    #[test]
    fn a_long_programme_goes_by_month() {
        let b = burn_up(
            &[
                track("2026-01-15", &[("2026-03-31", true)]),
                track("2026-02-01", &[("2026-04-01", true), ("2026-05-20", false)]),
            ],
            day("2026-09-02"),
        );
        assert_eq!(b.step, Step::Month);
        assert_eq!(
            figures(&b),
            vec![
                ("2026-01-01".into(), 0, 1),
                ("2026-02-01".into(), 0, 2),
                ("2026-03-01".into(), 1, 2),
                ("2026-04-01".into(), 2, 2),
                ("2026-05-01".into(), 1, 2),
                ("2026-06-01".into(), 1, 2),
                ("2026-07-01".into(), 1, 2),
                ("2026-08-01".into(), 1, 2),
                ("2026-09-01".into(), 1, 2),
            ]
        );
    }

    #[test]
    fn twenty_six_weeks_still_go_by_week() {
        let b = burn_up(&[track("2026-01-05", &[])], day("2026-06-29"));
        assert_eq!(b.step, Step::Week);
        assert_eq!(b.points.len(), 26);
        let b = burn_up(&[track("2026-01-05", &[])], day("2026-07-06"));
        assert_eq!(b.step, Step::Month);
        assert_eq!(b.points.len(), 7);
    }
}
