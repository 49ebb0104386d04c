//! The scheduler's words in scheduling.csv: why a host was dropped and what a decision was for.

/// Why the scheduler did not consider a host, in the order of Nova's pipeline (spec §8.1 steps
/// 1–4): the first reason that applies is the one recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// `ComputeFilter`: the compute service is disabled.
    Disabled,
    /// Placement's allocation candidates: not enough free capacity.
    NoCapacity,
    /// A destination was requested and this is not it.
    NotRequested,
    /// The source host, or a host already tried (`ignore_hosts`).
    Ignored,
    /// `AvailabilityZoneFilter`.
    OtherAz,
    /// `ComputeFilter`: the service is not seen up (`service_down_time`).
    Down,
}

impl DropReason {
    pub const ALL: [DropReason; 6] = [
        DropReason::Disabled,
        DropReason::NoCapacity,
        DropReason::NotRequested,
        DropReason::Ignored,
        DropReason::OtherAz,
        DropReason::Down,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Disabled => "disabled",
            DropReason::NoCapacity => "no-capacity",
            DropReason::NotRequested => "not-requested",
            DropReason::Ignored => "ignored",
            DropReason::OtherAz => "other-az",
            DropReason::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<DropReason> {
        DropReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a scheduler decision was for (the `purpose` column of scheduling.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// `schedule_and_build_instances` for a new server.
    Create,
    /// `MigrationTask._execute` for a cold migration.
    Migrate,
    /// An alternate host taken after `prep_resize` failed (no new scheduler call).
    Reschedule,
    /// `LiveMigrationTask._find_destination`.
    LiveMigrate,
}

impl Purpose {
    pub const ALL: [Purpose; 4] = [
        Purpose::Create,
        Purpose::Migrate,
        Purpose::Reschedule,
        Purpose::LiveMigrate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Create => "create",
            Purpose::Migrate => "migrate",
            Purpose::Reschedule => "reschedule",
            Purpose::LiveMigrate => "live-migrate",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}
