//! The names of instance actions and of their events, as `instance_actions.csv` writes them:
//! closed vocabularies the simulator records, the results reader parses and `explain` tells
//! (one sentence per event name, in a match without a catch-all).

/// Declares a closed vocabulary: the enum, its texts, `ALL` and the parser, kept together.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$doc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$doc])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// An instance action (`nova/compute/instance_actions.py`).
    ActionName {
        Create => "create",
        Delete => "delete",
        Migrate => "migrate",
        Resize => "resize",
        ConfirmResize => "confirmResize",
        RevertResize => "revertResize",
        LiveMigration => "live-migration",
        LiveMigrationCancel => "live_migration_cancel",
        ResetState => "resetState",
    }
}

vocabulary! {
    /// An instance-action event: the function `wrap_instance_event` decorates, prefixed by
    /// its service (`EventReporter` names).
    EventName {
        ConductorMigrateServer => "conductor_migrate_server",
        ColdMigrate => "cold_migrate",
        ComputePrepResize => "compute_prep_resize",
        ComputeResizeInstance => "compute_resize_instance",
        ComputeFinishResize => "compute_finish_resize",
        ComputeConfirmResize => "compute_confirm_resize",
        ComputeRevertResize => "compute_revert_resize",
        ComputeFinishRevertResize => "compute_finish_revert_resize",
        ConductorLiveMigrateInstance => "conductor_live_migrate_instance",
        ComputeCheckCanLiveMigrateDestination => "compute_check_can_live_migrate_destination",
        ComputeCheckCanLiveMigrateSource => "compute_check_can_live_migrate_source",
        ComputeLiveMigration => "compute_live_migration",
        ComputePreLiveMigration => "compute_pre_live_migration",
        ComputePostLiveMigrationAtDestination => "compute_post_live_migration_at_destination",
        ComputeRollbackLiveMigrationAtDestination => "compute_rollback_live_migration_at_destination",
        ComputeLiveMigrationAbort => "compute_live_migration_abort",
        ComputeBuildAndRunInstance => "compute__do_build_and_run_instance",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in ActionName::ALL {
            assert_eq!(ActionName::parse(a.as_str()), Some(*a));
        }
        for e in EventName::ALL {
            assert_eq!(EventName::parse(e.as_str()), Some(*e));
        }
        assert_eq!(EventName::parse("compute_reboot_instance"), None);
    }
}
