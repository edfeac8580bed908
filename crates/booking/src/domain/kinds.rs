//! The booking module's statuses, kinds and roles. The database keeps them as text (the
//! same text as `as_str`); `store::values` converts at the boundary.

use super::text_enum;

text_enum! {
    /// Where a reservation (or a whole series) stands.
    ReservationStatus {
        /// Waiting for staff (resources that require approval).
        Requested = "requested",
        Confirmed = "confirmed",
        Cancelled = "cancelled",
        Rejected = "rejected",
    }
}

impl ReservationStatus {
    /// These statuses block their slot.
    pub const ACTIVE: &'static [ReservationStatus] =
        &[ReservationStatus::Requested, ReservationStatus::Confirmed];

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
}

text_enum! {
    /// What a resource is. A `HallPart` belongs to a `Hall` (`parent_id`); the two block
    /// each other.
    ResourceKind {
        Hall = "hall",
        HallPart = "hall_part",
        Field = "field",
        Room = "room",
        Equipment = "equipment",
    }
}

text_enum! {
    /// Who may book a resource.
    BookableBy {
        /// Every signed-in user, citizens included.
        Public = "public",
        /// Members of an organisation (and staff).
        Organisations = "organisations",
        /// Staff only (`booking.book` / `booking.manage`).
        Staff = "staff",
    }
}

text_enum! {
    /// Where a season stands: requests are taken while open; publishing books them.
    SeasonStatus {
        Open = "open",
        Published = "published",
    }
}

text_enum! {
    /// Where a season request stands.
    RequestStatus {
        Pending = "pending",
        Allocated = "allocated",
        Declined = "declined",
    }
}

text_enum! {
    /// The role of an organisation: decides its fee group and its season priority.
    OrgKind {
        School = "school",
        Club = "club",
        Other = "other",
    }
}

text_enum! {
    /// The fee group of a booking: staff, an organisation's kind, or a citizen.
    FeeGroup {
        Staff = "staff",
        School = "school",
        Club = "club",
        Other = "other",
        Citizen = "citizen",
    }
}

impl From<OrgKind> for FeeGroup {
    fn from(k: OrgKind) -> Self {
        match k {
            OrgKind::School => FeeGroup::School,
            OrgKind::Club => FeeGroup::Club,
            OrgKind::Other => FeeGroup::Other,
        }
    }
}

/// What a blackout covers: one resource, or every resource of the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlackoutScope {
    All,
    Resource(super::ResourceId),
}

impl BlackoutScope {
    /// From the stored column (`None` = every resource).
    pub fn of(resource_id: Option<i64>) -> Self {
        resource_id.map_or(BlackoutScope::All, |id| {
            BlackoutScope::Resource(super::ResourceId(id))
        })
    }

    /// Whether the blackout closes `resource`.
    pub fn covers(self, resource: super::ResourceId) -> bool {
        match self {
            BlackoutScope::All => true,
            BlackoutScope::Resource(r) => r == resource,
        }
    }
}

/// Where a blackout came from: entered by hand, imported (with the VEVENT's UID, so that a
/// second import updates instead of duplicating), or taken over from the holiday calendar of
/// the tenant's Land (with a UID of `holidays::CALENDAR_UID_PREFIX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlackoutSource {
    Manual,
    Imported { uid: String },
    Calendar { uid: String },
}

impl BlackoutSource {
    /// From the stored column (`""` = by hand).
    pub fn of(source_uid: &str) -> Self {
        if source_uid.is_empty() {
            BlackoutSource::Manual
        } else if source_uid.starts_with(super::holidays::CALENDAR_UID_PREFIX) {
            BlackoutSource::Calendar {
                uid: source_uid.to_string(),
            }
        } else {
            BlackoutSource::Imported {
                uid: source_uid.to_string(),
            }
        }
    }

    /// The translation key of its label in the list.
    pub fn label_key(&self) -> &'static str {
        match self {
            BlackoutSource::Manual => "booking.blackouts.manual",
            BlackoutSource::Imported { .. } => "booking.blackouts.imported",
            BlackoutSource::Calendar { .. } => "booking.blackouts.from_calendar",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_from_its_text() {
        for s in ReservationStatus::ALL {
            assert_eq!(s.as_str().parse::<ReservationStatus>(), Ok(*s));
        }
        for k in ResourceKind::ALL {
            assert_eq!(k.as_str().parse::<ResourceKind>(), Ok(*k));
        }
        assert!("halle".parse::<ResourceKind>().is_err());
        assert_eq!(FeeGroup::from(OrgKind::Club), FeeGroup::Club);
    }
}

text_enum! {
    /// How many resources one page of the occupancy grid shows (`?anzahl=`).
    #[derive(Default)]
    GridPageSize {
        #[default]
        P25 = "25",
        P50 = "50",
        P100 = "100",
        All = "alle",
    }
}

impl GridPageSize {
    /// Resources per page; `All` shows every matching resource on one page.
    pub fn limit(self) -> usize {
        match self {
            GridPageSize::P25 => 25,
            GridPageSize::P50 => 50,
            GridPageSize::P100 => 100,
            GridPageSize::All => usize::MAX,
        }
    }
}
