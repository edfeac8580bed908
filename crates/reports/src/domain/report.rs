//! The values a report and a category take: workflow status, moderation state, priority,
//! source, attribute types, and the ids that keep one table's row apart from another's.
//! The database keeps the strings of `as_str` (the columns stay text); the store converts
//! at its boundary with `FromStr`.

use std::fmt;
use std::str::FromStr;

/// A value that is not one of an enum's strings (a corrupted row, a forged form field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown value {:?}", self.0)
    }
}

impl std::error::Error for UnknownValue {}

/// Declares an enum with its database/URL strings, `as_str`, `FromStr`, `Display` and `ALL`.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v,)+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($s => Ok($name::$v),)+
                    _ => Err(UnknownValue(s.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == other.as_str()
            }
        }
    };
}

string_enum! {
    /// Where a report is in the workflow; the first four are open (Open311 `open`), the rest
    /// closed. Declared in workflow order.
    Status {
        New = "new",
        Confirmed = "confirmed",
        InProgress = "in_progress",
        Planned = "planned",
        Done = "done",
        NotResponsible = "not_responsible",
        Rejected = "rejected",
        Duplicate = "duplicate",
    }
}

impl Status {
    /// Open311's `open`: still being worked on.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::New | Status::Confirmed | Status::InProgress | Status::Planned
        )
    }
}

string_enum! {
    /// Whether the public sees a report.
    ModerationState {
        /// Waiting for a moderator (reports without proof of work, or all when configured).
        Pending = "pending",
        Published = "published",
        Hidden = "hidden",
    }
}

string_enum! {
    /// How urgent staff rate a report.
    Priority {
        Low = "low",
        Normal = "normal",
        High = "high",
    }
}

string_enum! {
    /// Where a report came from.
    Source {
        /// The web form with the proof of work solved.
        Web = "web",
        /// The web form without JavaScript: no proof of work, so it waits for moderation.
        WebNoJs = "web_nojs",
        Open311 = "open311",
        /// Entered by staff before the channel was recorded (older reports).
        Staff = "staff",
        /// Entered by staff from a phone call.
        Phone = "phone",
        /// Entered by staff from a letter.
        Letter = "letter",
        /// Entered by staff from an e-mail.
        Email = "email",
        /// Entered by staff for a citizen at the counter.
        InPerson = "in_person",
    }
}

impl Source {
    /// The channels staff choose from when they enter a report for a citizen.
    pub const STAFF_CHANNELS: &'static [Source] = &[
        Source::Phone,
        Source::Letter,
        Source::Email,
        Source::InPerson,
    ];
}

string_enum! {
    /// The Open311 datatype of a category's additional question.
    AttributeType {
        String = "string",
        Number = "number",
        Datetime = "datetime",
        Text = "text",
        SingleValueList = "singlevaluelist",
        MultiValueList = "multivaluelist",
    }
}

impl AttributeType {
    /// The list types carry (key, name) values.
    pub fn is_list(self) -> bool {
        matches!(
            self,
            AttributeType::SingleValueList | AttributeType::MultiValueList
        )
    }
}

/// Declares an id newtype over the table's `i64` key.
macro_rules! id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id!(
    /// A report (`reports_reports.id`); the public sees its reference instead.
    ReportId
);
id!(
    /// A category (`reports_categories.id`).
    CategoryId
);
id!(
    /// A photo of a report (`reports_photos.id`).
    PhotoId
);
id!(
    /// An Open311 API key (`reports_api_keys.id`).
    ApiKeyId
);
id!(
    /// A follower of a report (`reports_followers.id`).
    FollowerId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_string() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(*s));
        }
        for m in ModerationState::ALL {
            assert_eq!(m.as_str().parse::<ModerationState>(), Ok(*m));
        }
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>(), Ok(*p));
        }
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>(), Ok(*s));
        }
        for a in AttributeType::ALL {
            assert_eq!(a.as_str().parse::<AttributeType>(), Ok(*a));
        }
        assert!("open".parse::<Status>().is_err());
        assert_eq!(
            Status::ALL.iter().filter(|s| s.is_open()).count(),
            4,
            "new, confirmed, in progress, planned"
        );
    }
}
