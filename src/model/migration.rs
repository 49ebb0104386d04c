//! Migration records (spec §1.4).

use super::ids::{FlavorId, HostId, RequestId, ServerId};
use crate::engine::SimTime;

/// `nova/objects/fields.py` `MigrationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationType {
    /// Cold migration with the same flavor.
    Migration,
    Resize,
    LiveMigration,
    Evacuation,
}

impl MigrationType {
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationType::Migration => "migration",
            MigrationType::Resize => "resize",
            MigrationType::LiveMigration => "live-migration",
            MigrationType::Evacuation => "evacuation",
        }
    }
}

/// The status vocabulary of spec §1.4 (a free-form string in Nova; closed here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MigrationStatus {
    PreMigrating,
    Migrating,
    PostMigrating,
    Finished,
    Confirming,
    Confirmed,
    Reverting,
    Reverted,
    Accepted,
    Queued,
    Preparing,
    Running,
    RunningPostCopy,
    Completed,
    Error,
    Failed,
    Cancelled,
    Done,
}

impl MigrationStatus {
    /// Every status, in a fixed order (for parsing names).
    pub const ALL: [MigrationStatus; 18] = {
        use MigrationStatus::*;
        [
            PreMigrating,
            Migrating,
            PostMigrating,
            Finished,
            Confirming,
            Confirmed,
            Reverting,
            Reverted,
            Accepted,
            Queued,
            Preparing,
            Running,
            RunningPostCopy,
            Completed,
            Error,
            Failed,
            Cancelled,
            Done,
        ]
    };

    pub fn as_str(self) -> &'static str {
        use MigrationStatus::*;
        match self {
            PreMigrating => "pre-migrating",
            Migrating => "migrating",
            PostMigrating => "post-migrating",
            Finished => "finished",
            Confirming => "confirming",
            Confirmed => "confirmed",
            Reverting => "reverting",
            Reverted => "reverted",
            Accepted => "accepted",
            Queued => "queued",
            Preparing => "preparing",
            Running => "running",
            RunningPostCopy => "running (post-copy)",
            Completed => "completed",
            Error => "error",
            Failed => "failed",
            Cancelled => "cancelled",
            Done => "done",
        }
    }

    /// "Not in progress" statuses (`migration_get_in_progress_by_host_and_node`); `finished` is
    /// not terminal — the resize still awaits confirm or revert.
    pub fn is_terminal(self) -> bool {
        use MigrationStatus::*;
        matches!(
            self,
            Confirmed | Reverted | Error | Failed | Completed | Cancelled | Done
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub server: ServerId,
    pub kind: MigrationType,
    pub source: HostId,
    pub dest: Option<HostId>,
    pub status: MigrationStatus,
    pub old_flavor: FlavorId,
    pub new_flavor: FlavorId,
    /// The request that created it (the `migrate` action's request id).
    pub request: RequestId,
    pub created_at: SimTime,
    /// Bumped by every save; the confirm window is measured from the `finished` save (§6.2).
    pub updated_at: SimTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ALL` lists each status once (as_str is injective over it).
    #[test]
    fn all_statuses_listed_once() {
        let mut names: Vec<&str> = MigrationStatus::ALL.iter().map(|s| s.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MigrationStatus::ALL.len());
    }

    /// Spec §1.4: terminal statuses; `finished` is not terminal.
    #[test]
    fn terminal_statuses_spec_1_4() {
        use MigrationStatus::*;
        for s in [
            Confirmed, Reverted, Error, Failed, Completed, Cancelled, Done,
        ] {
            assert!(s.is_terminal(), "{}", s.as_str());
        }
        for s in [
            PreMigrating,
            Migrating,
            PostMigrating,
            Finished,
            Confirming,
            Reverting,
            Queued,
        ] {
            assert!(!s.is_terminal(), "{}", s.as_str());
        }
    }
}
