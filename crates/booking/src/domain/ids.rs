//! Ids of the booking module's rows, one type each, so that a resource id cannot be passed
//! where a reservation id is expected.

macro_rules! id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
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
    /// A hall, part, field, room or piece of equipment.
    ResourceId
);
id!(
    /// One booking of one resource.
    ReservationId
);
id!(
    /// A recurring booking (RRULE).
    SeriesId
);
id!(
    /// A booking season.
    SeasonId
);
id!(
    /// An organisation's request for a weekly slot in a season.
    SeasonRequestId
);
id!(
    /// A club, school or other organisation.
    OrganisationId
);
id!(
    /// A closed period of one or every resource.
    BlackoutId
);
id!(
    /// A photo of a resource.
    PhotoId
);
