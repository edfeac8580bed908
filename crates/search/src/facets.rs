//! Facet counts (kind, department, year) of every matching document, read from fast fields:
//! a few array increments per hit, so counting hundreds of thousands of hits stays cheap.

use std::collections::HashMap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Years beyond this are not counted.
const MAX_YEAR: usize = 3000;

pub(crate) struct FacetCounts;

#[derive(Default)]
pub(crate) struct Counts {
    pub total: u64,
    pub kinds: HashMap<String, u64>,
    pub departments: HashMap<String, u64>,
    pub years: HashMap<i32, u64>,
}

pub(crate) struct SegmentCounts {
    kind: Option<StrColumn>,
    department: Option<StrColumn>,
    year: Option<Column<u64>>,
    total: u64,
    k: Vec<u64>,
    d: Vec<u64>,
    y: Vec<u64>,
}

fn bump(v: &mut Vec<u64>, ord: u64) {
    let i = ord as usize;
    if i >= v.len() {
        v.resize(i + 1, 0);
    }
    v[i] += 1;
}

impl Collector for FacetCounts {
    type Fruit = Counts;
    type Child = SegmentCounts;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentCounts> {
        let ff = segment.fast_fields();
        Ok(SegmentCounts {
            kind: ff.str("kind")?,
            department: ff.str("department")?,
            year: ff.u64("year").ok(),
            total: 0,
            k: Vec::new(),
            d: Vec::new(),
            y: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut all = Counts::default();
        for f in fruits {
            all.total += f.total;
            for (k, n) in f.kinds {
                *all.kinds.entry(k).or_default() += n;
            }
            for (k, n) in f.departments {
                *all.departments.entry(k).or_default() += n;
            }
            for (k, n) in f.years {
                *all.years.entry(k).or_default() += n;
            }
        }
        Ok(all)
    }
}

fn named(col: &Option<StrColumn>, counts: &[u64]) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let Some(col) = col else { return out };
    let mut s = String::new();
    for (ord, n) in counts.iter().enumerate() {
        if *n > 0 && col.ord_to_str(ord as u64, &mut s).unwrap_or(false) {
            *out.entry(s.clone()).or_default() += n;
        }
    }
    out
}

impl SegmentCollector for SegmentCounts {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.total += 1;
        if let Some(o) = self.kind.as_ref().and_then(|c| c.ords().first(doc)) {
            bump(&mut self.k, o);
        }
        if let Some(o) = self.department.as_ref().and_then(|c| c.ords().first(doc)) {
            bump(&mut self.d, o);
        }
        if let Some(y) = self.year.as_ref().and_then(|c| c.first(doc))
            && (y as usize) <= MAX_YEAR
        {
            bump(&mut self.y, y);
        }
    }

    fn harvest(self) -> Counts {
        Counts {
            total: self.total,
            kinds: named(&self.kind, &self.k),
            departments: named(&self.department, &self.d),
            years: self
                .y
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .filter_map(|(y, n)| i32::try_from(y).ok().map(|y| (y, *n)))
                .collect(),
        }
    }
}
