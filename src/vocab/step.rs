//! The `step` column of transitions.csv: one variant per state change the simulator makes,
//! each named after the Nova function that makes it. The simulator writes only these; the
//! results reader parses them back; `explain` has one sentence per variant in a `match` without
//! a catch-all arm, so a step added here without its sentence does not compile.

use crate::model::{MigrationStatus, VmState};
use std::borrow::Cow;
use std::fmt;

/// Why a live migration was rolled back (`_rollback_live_migration`, spec §4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RollbackCause {
    /// `live_migration_abort` found the migration still in the executor's queue.
    AbortedWhileQueued,
    /// `live_migration_abort` while `pre_live_migration` ran.
    AbortedWhilePreparing,
    /// `live_migration_abort` cancelled the running libvirt job.
    AbortedByApi,
    PreLiveMigrationFailed,
    /// The destination did not answer `pre_live_migration` (stopped): MessagingTimeout.
    PreLiveMigrationTimedOut,
    VifPlugTimeout,
    /// The libvirt job failed.
    JobFailed,
    /// `live_migration_completion_timeout` with `live_migration_timeout_action = abort`.
    CompletionTimeout,
}

impl RollbackCause {
    pub const ALL: [RollbackCause; 8] = [
        RollbackCause::AbortedWhileQueued,
        RollbackCause::AbortedWhilePreparing,
        RollbackCause::AbortedByApi,
        RollbackCause::PreLiveMigrationFailed,
        RollbackCause::PreLiveMigrationTimedOut,
        RollbackCause::VifPlugTimeout,
        RollbackCause::JobFailed,
        RollbackCause::CompletionTimeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RollbackCause::AbortedWhileQueued => "aborted while queued",
            RollbackCause::AbortedWhilePreparing => "aborted while preparing",
            RollbackCause::AbortedByApi => "aborted by the API: job cancelled",
            RollbackCause::PreLiveMigrationFailed => "pre_live_migration failed",
            RollbackCause::PreLiveMigrationTimedOut => "pre_live_migration timed out",
            RollbackCause::VifPlugTimeout => "timed out waiting for network-vif-plugged",
            RollbackCause::JobFailed => "libvirt job failed",
            RollbackCause::CompletionTimeout => "completion timeout: job aborted",
        }
    }

    pub fn parse(s: &str) -> Option<RollbackCause> {
        RollbackCause::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Declares [`Step`]: its fixed-text variants with their texts, then the variants that carry
/// a value, so that the text, the parser and the list of fixed steps cannot disagree.
macro_rules! steps {
    ($($(#[$doc:meta])* $name:ident => $text:literal,)*) => {
        /// One state change of a server or a migration, as transitions.csv names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Step {
            $($(#[$doc])* $name,)*
            /// `os-resetState` wrote this vm_state (and task_state None).
            ResetState(VmState),
            /// `_rollback_live_migration` on the source cleared the task, for this cause.
            LiveRollback(RollbackCause),
            /// `_rollback_live_migration` saved the migration with this status.
            LiveRollbackStatus(MigrationStatus),
        }

        impl Step {
            /// Every step whose text is fixed, in declaration order ([`Step::fixed_index`]).
            pub const FIXED: &'static [Step] = &[$(Step::$name,)*];

            /// The text of a fixed step; `None` for a step that carries a value.
            pub const fn fixed_text(self) -> Option<&'static str> {
                match self {
                    $(Step::$name => Some($text),)*
                    _ => None,
                }
            }

            /// Position in [`Step::FIXED`] (the trace writer's dense cache is indexed by it).
            pub fn fixed_index(self) -> Option<usize> {
                let mut i = 0usize;
                $(
                    if self == Step::$name {
                        return Some(i);
                    }
                    i += 1;
                )*
                let _ = i;
                None
            }

            fn parse_fixed(s: &str) -> Option<Step> {
                match s {
                    $($text => Some(Step::$name),)*
                    _ => None,
                }
            }
        }
    };
}

steps! {
    InitialPlacement => "initial placement",
    // Cold migration (spec §4.1).
    MigrateApi => "migrate: task_state resize_prep",
    ResizeApi => "resize: task_state resize_prep",
    ColdMigrateCreated => "_cold_migrate: migration created pre-migrating",
    ColdMigrateNoValidHost => "_cold_migrate: NoValidHost, migration error",
    ColdMigrateMaxRetries => "_cold_migrate: MaxRetriesExceeded, migration error",
    SetVmStateAndNotify => "set_vm_state_and_notify: task_state None",
    DeletedDuringMove => "instance deleted during the move",
    PrepResizeReschedule => "prep_resize failed: reschedule",
    PrepResizeMigrationError => "prep_resize failed: migration error",
    PrepResizeFailed => "prep_resize failed",
    ResizeInstanceMigrating => "resize_instance: migration migrating",
    ResizeInstanceTask => "resize_instance: task_state resize_migrating",
    ResizeInstanceMigrationError => "resize_instance failed: migration error",
    ResizeInstanceFailed => "resize_instance failed",
    ResizeInstancePostMigrating => "resize_instance: migration post-migrating",
    ResizeInstanceMigrated => "resize_instance: host := dest, task_state resize_migrated",
    FinishResizeTask => "finish_resize: task_state resize_finish",
    FinishResizeTaskNewFlavor => "finish_resize: flavor := new, task_state resize_finish",
    FinishResizeMigrationError => "finish_resize failed: migration error",
    FinishResizeFailed => "finish_resize failed",
    FinishResizeMigrationFinished => "finish_resize: migration finished",
    FinishResizeResized => "finish_resize: vm_state resized, task_state None",
    // Confirm and revert (spec §4.3–§4.6, §6).
    ConfirmResizeApi => "confirmResize: migration confirming",
    AutoConfirm => "_poll_unconfirmed_resizes: auto-confirm, migration confirming",
    AutoConfirmMigrationError => "_poll_unconfirmed_resizes: migration error",
    ConfirmResizeMigrationError => "confirm_resize failed: migration error",
    ConfirmResizeFailed => "confirm_resize failed",
    ConfirmResizeConfirmed => "confirm_resize: migration confirmed",
    ConfirmResizeDone => "confirm_resize: vm_state active/stopped, task_state None",
    RevertResizeApi => "revertResize: task_state resize_reverting",
    RevertResizeApiMigration => "revertResize: migration reverting",
    RevertResizeReverted => "revert_resize: migration reverted",
    RevertMigrationError => "revert failed: migration error",
    RevertFailed => "revert failed",
    FinishRevertHostErrorSave => "finish_revert_resize: host := source (error save)",
    FinishRevertHost => "finish_revert_resize: host := source",
    FinishRevertPoweringOff => "finish_revert_resize: task_state powering-off",
    FinishRevertDone => "finish_revert_resize: reverted to source",
    // Build and delete.
    CreateApi => "create: vm_state building",
    BuildNoValidHost => "schedule_and_build_instances: NoValidHost",
    BuildSpawning => "build_and_run_instance: task_state spawning",
    BuildActive => "build_and_run_instance: active",
    BuildFailed => "build failed",
    DeleteApi => "delete: task_state deleting",
    DeleteMoveEnded => "delete: move ended",
    DeleteDone => "delete: vm_state deleted",
    // Live migration (spec §4.8–§4.11).
    LiveMigrateApi => "os-migrateLive: task_state migrating",
    LiveMigrateCreated => "live_migrate: migration created accepted",
    FindDestinationMaxRetries => "_find_destination: max retries exceeded, migration failed",
    LivePreCheckFailed => "_live_migrate: pre-check failed, task_state None",
    LiveMigrateMigrationError => "_live_migrate: migration error",
    LiveMigrationQueued => "live_migration: migration queued",
    LiveMigrationPreparing => "_do_live_migration: migration preparing",
    LiveMigrationRunning => "_live_migration: migration running",
    LiveMigrationPostCopy => "_live_migration_monitor: switched to post-copy",
    PostAtDestinationMigrationError => "post_live_migration_at_destination failed: migration error",
    PostAtDestinationFailed => "post_live_migration_at_destination failed",
    PostAtDestination => "post_live_migration_at_destination: host := dest, task_state None",
    PostLiveMigrationCompleted => "_post_live_migration: migration completed",
    PostLiveMigrationCompletedWithoutDestination =>
        "_post_live_migration: post_live_migration_at_destination timed out, migration completed",
    DoLiveMigrationError => "_do_live_migration: migration error",
    QueuedAbortNoRollback =>
        "live_migration_abort: migration cancelled (queued job dropped, no rollback)",
    // A compute process restarted (`ComputeManager.init_host` → `_init_instance`).
    InitBuildInterrupted => "_init_instance: build interrupted, vm_state error",
    InitResizePrepCleared => "_init_instance: task_state None",
    InitCrashedResizeReverted => "_init_instance: crashed migration reverted, task_state None",
    InitStopRetried => "_init_instance: stop retried, vm_state stopped",
    InitLiveMigrationReset => "_reset_live_migration: task_state None",
    InitLiveMigrationError => "_reset_live_migration: migration error",
}

impl Step {
    /// The text written in transitions.csv.
    pub fn text(self) -> Cow<'static, str> {
        match self {
            Step::ResetState(vm) => {
                format!("os-resetState: vm_state {}, task_state None", vm.as_str()).into()
            }
            Step::LiveRollback(cause) => format!(
                "_rollback_live_migration ({}): task_state None",
                cause.as_str()
            )
            .into(),
            Step::LiveRollbackStatus(status) => {
                format!("_rollback_live_migration: migration {}", status.as_str()).into()
            }
            fixed => fixed.fixed_text().unwrap_or_default().into(),
        }
    }

    /// The step a text of transitions.csv names; `None` for a text this version never writes.
    pub fn parse(s: &str) -> Option<Step> {
        if let Some(step) = Step::parse_fixed(s) {
            return Some(step);
        }
        if let Some(vm) = s
            .strip_prefix("os-resetState: vm_state ")
            .and_then(|x| x.strip_suffix(", task_state None"))
        {
            return VmState::ALL
                .into_iter()
                .find(|v| v.as_str() == vm)
                .map(Step::ResetState);
        }
        if let Some(cause) = s
            .strip_prefix("_rollback_live_migration (")
            .and_then(|x| x.strip_suffix("): task_state None"))
        {
            return RollbackCause::parse(cause).map(Step::LiveRollback);
        }
        let status = s.strip_prefix("_rollback_live_migration: migration ")?;
        MigrationStatus::ALL
            .into_iter()
            .find(|m| m.as_str() == status)
            .map(Step::LiveRollbackStatus)
    }

    /// An error save: the instance was saved in its error state after the step's exception
    /// (`_error_out_instance_on_exception` and its kind); such a save also writes what the
    /// failed save had pending.
    pub fn is_error_save(self) -> bool {
        matches!(
            self,
            Step::PrepResizeFailed
                | Step::ResizeInstanceFailed
                | Step::FinishResizeFailed
                | Step::ConfirmResizeFailed
                | Step::RevertFailed
                | Step::PostAtDestinationFailed
                | Step::BuildFailed
        )
    }

    /// The scheduler found no host for this step.
    pub fn is_no_valid_host(self) -> bool {
        matches!(self, Step::ColdMigrateNoValidHost | Step::BuildNoValidHost)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every step's text parses back to the step, and no two steps share a text.
    #[test]
    fn every_step_round_trips_through_its_text() {
        let mut all: Vec<Step> = Step::FIXED.to_vec();
        all.extend(VmState::ALL.map(Step::ResetState));
        all.extend(RollbackCause::ALL.map(Step::LiveRollback));
        all.extend(MigrationStatus::ALL.map(Step::LiveRollbackStatus));
        let mut texts = BTreeSet::new();
        for step in all {
            let text = step.text();
            assert_eq!(Step::parse(&text), Some(step), "{text}");
            assert!(texts.insert(text.to_string()), "two steps write {text}");
        }
        for (i, s) in Step::FIXED.iter().enumerate() {
            assert_eq!(s.fixed_index(), Some(i));
        }
        assert_eq!(Step::parse("a step of another version"), None);
    }
}
