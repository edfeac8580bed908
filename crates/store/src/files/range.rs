//! Byte ranges of a download (HTTP `Range: bytes=…`, one range per request).

use std::ops::Range;

/// One requested byte range, as HTTP writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last` (both inclusive).
    Bounded { first: u64, last: u64 },
    /// `bytes=first-`: from `first` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Last(u64),
}

impl ByteRange {
    /// Parses a `Range` header value with a single range (`bytes=0-99`, `bytes=100-`,
    /// `bytes=-500`). Several ranges, other units and malformed values give None: the
    /// server then answers with the whole file, as RFC 9110 allows.
    pub fn parse(header: &str) -> Option<ByteRange> {
        let spec = header.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.split_once('-')?;
        let num = |s: &str| -> Option<u64> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        match (a.trim().is_empty(), b.trim().is_empty()) {
            (true, false) => Some(ByteRange::Last(num(b)?)),
            (false, true) => Some(ByteRange::From(num(a)?)),
            (false, false) => {
                let (first, last) = (num(a)?, num(b)?);
                (first <= last).then_some(ByteRange::Bounded { first, last })
            }
            (true, true) => None,
        }
    }

    /// The bytes this range selects of a file of `size` bytes (end exclusive), or None when
    /// it selects nothing (HTTP 416 Range Not Satisfiable).
    pub fn resolve(self, size: u64) -> Option<Range<u64>> {
        let r = match self {
            ByteRange::Bounded { first, last } => first..last.saturating_add(1).min(size),
            ByteRange::From(first) => first..size,
            ByteRange::Last(n) => size.saturating_sub(n)..size,
        };
        (r.start < r.end).then_some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::ByteRange::{self, *};

    #[test]
    fn parses_single_ranges() {
        assert_eq!(
            ByteRange::parse("bytes=0-99"),
            Some(Bounded { first: 0, last: 99 })
        );
        assert_eq!(ByteRange::parse("bytes=100-"), Some(From(100)));
        assert_eq!(ByteRange::parse("bytes=-500"), Some(Last(500)));
        for bad in [
            "bytes=5-1",
            "bytes=-",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(ByteRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn resolves_against_the_size() {
        assert_eq!(Bounded { first: 0, last: 9 }.resolve(100), Some(0..10));
        assert_eq!(
            Bounded {
                first: 90,
                last: 200
            }
            .resolve(100),
            Some(90..100)
        );
        assert_eq!(
            Bounded {
                first: 100,
                last: 200
            }
            .resolve(100),
            None
        );
        assert_eq!(From(99).resolve(100), Some(99..100));
        assert_eq!(From(100).resolve(100), None);
        assert_eq!(Last(10).resolve(100), Some(90..100));
        assert_eq!(Last(1000).resolve(100), Some(0..100));
        assert_eq!(Last(0).resolve(100), None);
        assert_eq!(From(0).resolve(0), None);
        assert_eq!(
            Bounded {
                first: 0,
                last: u64::MAX
            }
            .resolve(5),
            Some(0..5)
        );
    }
}
