//! Rally's wait/poll defaults per era (`CONF.openstack.nova_server_<action>_{prepoll_delay,
//! timeout,poll_interval}`), and the behaviours of its Nova plugins that changed between eras.
//!
//! Source of the table: the calibration notes `rally_poll_defaults.csv` of the project's shared
//! data, which reads Rally's option defaults (`rally/plugins/openstack/cfg/nova.py`, later
//! `rally_openstack/common/cfg/nova.py`) across its history. Values in milliseconds.

use super::RallyError;

/// The Rally eras whose defaults differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// Rally ≤ 0.9 (2014 – 2017-04), as measured in 2016 (Rally 0.4): boot polled every 1 s after
    /// a plain 1 s sleep counted in the duration (`time.sleep`, before `sleep_between` in 0.7),
    /// live migration to a host picked by `_find_host_to_migrate`.
    Legacy,
    /// Rally ≥ 0.10 and rally-openstack < 2.2: boot polled every 2 s, its pre-poll sleep idle
    /// time (`sleep_between`); Nova picks the live-migration destination; migrations first list
    /// the hypervisors (rally-openstack ≥ 1.4).
    Mid,
    /// rally-openstack ≥ 2.2.0 (HEAD): resize polled every 4 s (commit 0ec255aa); each poll of
    /// a live migration is an admin GET that waits for ACTIVE on another host
    /// (`_LiveMigrateReady`).
    Current,
}

impl Era {
    pub const NAMES: &'static str = "current, 2.1 (also mid), 0.9 (also legacy)";

    pub fn parse(s: &str) -> Result<Era, RallyError> {
        match s {
            "current" | "head" | "2.2" => Ok(Era::Current),
            "2.1" | "mid" | "0.10" => Ok(Era::Mid),
            "0.9" | "legacy" | "0.4" => Ok(Era::Legacy),
            other => Err(RallyError::Usage(format!(
                "--rally-profile: unknown Rally era {other:?} (known: {})",
                Era::NAMES
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Era::Legacy => "0.9",
            Era::Mid => "2.1",
            Era::Current => "current",
        }
    }

    /// The boot pre-poll sleep is `sleep_between` (idle time) rather than `time.sleep`.
    pub fn boot_prepoll_is_idle(self) -> bool {
        self != Era::Legacy
    }

    /// `nova.find_host_to_migrate` picks the live-migration destination (removed 2017-11,
    /// rally commit eabce92c).
    pub fn finds_host_to_migrate(self) -> bool {
        self == Era::Legacy
    }

    /// `_migrate` / `_live_migrate` list the hypervisors first (`nova.list_hypervisors`,
    /// rally-openstack 172542c0, 1.4.0).
    pub fn lists_hypervisors(self) -> bool {
        self != Era::Legacy
    }

    /// Each live-migration poll checks ACTIVE and a changed host (`_LiveMigrateReady`,
    /// rally-openstack 4f9224d6); before, one host check after ACTIVE.
    pub fn live_ready_checks_host(self) -> bool {
        self == Era::Current
    }

    /// The atomic action of `cinder.create_volume` (`cinder_v3.create_volume` since the block
    /// storage service wrappers).
    pub fn volume_create_atomic(self) -> &'static str {
        match self {
            Era::Legacy => "cinder.create_volume",
            _ => "cinder_v3.create_volume",
        }
    }
}

/// The actions Rally waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Boot,
    Delete,
    Resize,
    ResizeConfirm,
    ResizeRevert,
    Migrate,
    LiveMigrate,
    VolumeCreate,
}

/// How Rally waits for one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poll {
    /// `<action>_prepoll_delay` (used only where the plugin sleeps: boot, volume create).
    pub prepoll_ms: u64,
    pub timeout_ms: u64,
    pub interval_ms: u64,
}

/// action, prepoll, timeout, poll interval for ≤ 0.9, 0.10 – 2.1, ≥ 2.2 (ms).
const TABLE: [(Wait, u64, u64, [u64; 3]); 8] = [
    (Wait::Boot, 1_000, 300_000, [1_000, 2_000, 2_000]),
    (Wait::Delete, 2_000, 300_000, [2_000, 2_000, 2_000]),
    (Wait::Resize, 2_000, 400_000, [5_000, 5_000, 4_000]),
    (Wait::ResizeConfirm, 0, 200_000, [2_000, 2_000, 2_000]),
    (Wait::ResizeRevert, 0, 200_000, [2_000, 2_000, 2_000]),
    (Wait::Migrate, 1_000, 400_000, [2_000, 2_000, 2_000]),
    (Wait::LiveMigrate, 1_000, 400_000, [2_000, 2_000, 2_000]),
    (Wait::VolumeCreate, 2_000, 600_000, [2_000, 2_000, 2_000]),
];

/// The defaults of `wait` in `era`.
pub fn poll(era: Era, wait: Wait) -> Poll {
    let col = match era {
        Era::Legacy => 0,
        Era::Mid => 1,
        Era::Current => 2,
    };
    let (_, prepoll_ms, timeout_ms, intervals) = TABLE
        .iter()
        .find(|(w, ..)| *w == wait)
        .copied()
        .unwrap_or(TABLE[0]);
    Poll {
        prepoll_ms,
        timeout_ms,
        interval_ms: intervals[col],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eras_follow_the_table() {
        assert_eq!(poll(Era::Legacy, Wait::Boot).interval_ms, 1_000);
        assert_eq!(poll(Era::Current, Wait::Boot).interval_ms, 2_000);
        assert_eq!(poll(Era::Mid, Wait::Resize).interval_ms, 5_000);
        assert_eq!(poll(Era::Current, Wait::Resize).interval_ms, 4_000);
        assert_eq!(poll(Era::Current, Wait::Resize).timeout_ms, 400_000);
        assert_eq!(poll(Era::Current, Wait::ResizeConfirm).prepoll_ms, 0);
        assert!(Era::parse("1.0").is_err());
        assert_eq!(Era::parse("legacy").unwrap(), Era::Legacy);
    }
}
