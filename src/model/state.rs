//! vm_state, task_state and the API status derived from them (spec §1.1–§1.3).

use serde::Serialize;

/// `nova/compute/vm_states.py` (spec §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum VmState {
    Active,
    Building,
    Paused,
    Suspended,
    Stopped,
    Rescued,
    Resized,
    SoftDeleted,
    Deleted,
    Error,
    Shelved,
    ShelvedOffloaded,
}

impl VmState {
    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Active => "active",
            VmState::Building => "building",
            VmState::Paused => "paused",
            VmState::Suspended => "suspended",
            VmState::Stopped => "stopped",
            VmState::Rescued => "rescued",
            VmState::Resized => "resized",
            VmState::SoftDeleted => "soft-delete",
            VmState::Deleted => "deleted",
            VmState::Error => "error",
            VmState::Shelved => "shelved",
            VmState::ShelvedOffloaded => "shelved_offloaded",
        }
    }

    pub const ALL: [VmState; 12] = [
        VmState::Active,
        VmState::Building,
        VmState::Paused,
        VmState::Suspended,
        VmState::Stopped,
        VmState::Rescued,
        VmState::Resized,
        VmState::SoftDeleted,
        VmState::Deleted,
        VmState::Error,
        VmState::Shelved,
        VmState::ShelvedOffloaded,
    ];

    pub fn parse(s: &str) -> Option<VmState> {
        VmState::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The task states the simulator drives (spec §1.2), plus the build/delete ones it needs for
/// server create and delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TaskState {
    Scheduling,
    Spawning,
    ResizePrep,
    ResizeMigrating,
    ResizeMigrated,
    ResizeFinish,
    ResizeReverting,
    Migrating,
    PoweringOff,
    Deleting,
    SoftDeleting,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Scheduling => "scheduling",
            TaskState::Spawning => "spawning",
            TaskState::ResizePrep => "resize_prep",
            TaskState::ResizeMigrating => "resize_migrating",
            TaskState::ResizeMigrated => "resize_migrated",
            TaskState::ResizeFinish => "resize_finish",
            TaskState::ResizeReverting => "resize_reverting",
            TaskState::Migrating => "migrating",
            TaskState::PoweringOff => "powering-off",
            TaskState::Deleting => "deleting",
            TaskState::SoftDeleting => "soft-deleting",
        }
    }

    pub const ALL: [TaskState; 11] = [
        TaskState::Scheduling,
        TaskState::Spawning,
        TaskState::ResizePrep,
        TaskState::ResizeMigrating,
        TaskState::ResizeMigrated,
        TaskState::ResizeFinish,
        TaskState::ResizeReverting,
        TaskState::Migrating,
        TaskState::PoweringOff,
        TaskState::Deleting,
        TaskState::SoftDeleting,
    ];

    pub fn parse(s: &str) -> Option<TaskState> {
        TaskState::ALL.into_iter().find(|t| t.as_str() == s)
    }

    fn is_resize_in_progress(self) -> bool {
        matches!(
            self,
            TaskState::ResizePrep
                | TaskState::ResizeMigrating
                | TaskState::ResizeMigrated
                | TaskState::ResizeFinish
        )
    }
}

/// The API `status` of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Status {
    Active,
    Build,
    Deleted,
    Error,
    Migrating,
    Paused,
    Resize,
    RevertResize,
    Shelved,
    ShelvedOffloaded,
    Shutoff,
    SoftDeleted,
    Suspended,
    Rescue,
    VerifyResize,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::Build => "BUILD",
            Status::Deleted => "DELETED",
            Status::Error => "ERROR",
            Status::Migrating => "MIGRATING",
            Status::Paused => "PAUSED",
            Status::Resize => "RESIZE",
            Status::RevertResize => "REVERT_RESIZE",
            Status::Shelved => "SHELVED",
            Status::ShelvedOffloaded => "SHELVED_OFFLOADED",
            Status::Shutoff => "SHUTOFF",
            Status::SoftDeleted => "SOFT_DELETED",
            Status::Suspended => "SUSPENDED",
            Status::Rescue => "RESCUE",
            Status::VerifyResize => "VERIFY_RESIZE",
            Status::Unknown => "UNKNOWN",
        }
    }

    /// Every status, in a fixed order (columns of throughput.csv).
    pub const ALL: [Status; 16] = [
        Status::Active,
        Status::Build,
        Status::Deleted,
        Status::Error,
        Status::Migrating,
        Status::Paused,
        Status::Resize,
        Status::RevertResize,
        Status::Shelved,
        Status::ShelvedOffloaded,
        Status::Shutoff,
        Status::SoftDeleted,
        Status::Suspended,
        Status::Rescue,
        Status::VerifyResize,
        Status::Unknown,
    ];

    pub fn index(self) -> usize {
        Status::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// Spec §1.3: `nova/api/openstack/common.py` `_STATE_MAP` / `status_from_state`. Take the row
/// for vm_state; a task_state with an entry in that row wins, else the row's default.
pub fn status_from_state(vm: VmState, task: Option<TaskState>) -> Status {
    use TaskState as T;
    match vm {
        VmState::Active => match task {
            Some(T::Migrating) => Status::Migrating,
            Some(t) if t.is_resize_in_progress() => Status::Resize,
            // Nova's row also maps rebuild/reboot/password tasks, which are not modelled.
            _ => Status::Active,
        },
        VmState::Building => Status::Build,
        VmState::Stopped => match task {
            Some(t) if t.is_resize_in_progress() => Status::Resize,
            _ => Status::Shutoff,
        },
        VmState::Resized => match task {
            Some(T::ResizeReverting) => Status::RevertResize,
            _ => Status::VerifyResize,
        },
        VmState::Paused => match task {
            Some(T::Migrating) => Status::Migrating,
            _ => Status::Paused,
        },
        VmState::Suspended => Status::Suspended,
        VmState::Rescued => Status::Rescue,
        VmState::SoftDeleted => Status::SoftDeleted,
        VmState::Deleted => Status::Deleted,
        VmState::Error => Status::Error,
        VmState::Shelved => Status::Shelved,
        VmState::ShelvedOffloaded => Status::ShelvedOffloaded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskState as T;

    /// Spec §1.3, row by row.
    #[test]
    fn status_table_spec_1_3() {
        let rows: &[(VmState, Option<TaskState>, Status)] = &[
            (VmState::Active, None, Status::Active),
            (VmState::Active, Some(T::Migrating), Status::Migrating),
            (VmState::Active, Some(T::ResizePrep), Status::Resize),
            (VmState::Active, Some(T::ResizeMigrating), Status::Resize),
            (VmState::Active, Some(T::ResizeMigrated), Status::Resize),
            (VmState::Active, Some(T::ResizeFinish), Status::Resize),
            (VmState::Active, Some(T::ResizeReverting), Status::Active),
            (VmState::Active, Some(T::PoweringOff), Status::Active),
            (VmState::Stopped, None, Status::Shutoff),
            (VmState::Stopped, Some(T::PoweringOff), Status::Shutoff),
            (VmState::Stopped, Some(T::ResizePrep), Status::Resize),
            (VmState::Stopped, Some(T::ResizeMigrating), Status::Resize),
            (VmState::Stopped, Some(T::ResizeMigrated), Status::Resize),
            (VmState::Stopped, Some(T::ResizeFinish), Status::Resize),
            (VmState::Paused, None, Status::Paused),
            (VmState::Paused, Some(T::Migrating), Status::Migrating),
            (VmState::Resized, None, Status::VerifyResize),
            (VmState::Resized, Some(T::PoweringOff), Status::VerifyResize),
            (
                VmState::Resized,
                Some(T::ResizeReverting),
                Status::RevertResize,
            ),
            (VmState::Error, None, Status::Error),
            (VmState::Error, Some(T::ResizePrep), Status::Error),
            (VmState::Building, Some(T::Scheduling), Status::Build),
        ];
        for (vm, task, want) in rows {
            assert_eq!(status_from_state(*vm, *task), *want, "{vm:?}/{task:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for v in VmState::ALL {
            assert_eq!(VmState::parse(v.as_str()), Some(v));
        }
        for t in TaskState::ALL {
            assert_eq!(TaskState::parse(t.as_str()), Some(t));
        }
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
    }
}
