//! The NovaServers scenarios as programs of client steps, in the order Rally's plugins make
//! their calls (`rally_openstack/task/scenarios/nova/servers.py`, helpers of `utils.py`
//! `NovaScenario`), with Rally's atomic action names and nesting.

use super::profile::{self, Era, Poll, Wait};
use super::RallyError;
use crate::model::{Flavor, FlavorId};
use serde_json::{Map, Value};

/// An API call of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `servers.create` (with a root volume for boot from volume).
    Boot {
        flavor: FlavorId,
        volume: bool,
    },
    Delete,
    /// Admin `server.migrate()`.
    Migrate,
    /// Admin `server.live_migrate(host, block_migration, disk_over_commit)`; the host is the
    /// one `nova.find_host_to_migrate` picked, if it ran.
    LiveMigrate {
        block_migration: bool,
        disk_over_commit: bool,
    },
    Resize(FlavorId),
    Confirm,
    Revert,
}

/// What a wait polls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Until {
    /// `wait_for_status(ready_statuses=…)`, failure status ERROR.
    Status(&'static str),
    /// `wait_for_status(ready_statuses=["deleted"], check_deletion=True)`: a 404.
    Deleted,
    /// `_LiveMigrateReady`: an admin GET, ACTIVE on a host other than the one before.
    ActiveElsewhere,
}

/// One step of an iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `atomic.ActionTimer.__enter__`.
    Enter(&'static str),
    /// `atomic.ActionTimer.__exit__`.
    Exit,
    Call(Call),
    /// `time.sleep` (`idle: false`) or `sleep_between` (idle time).
    Sleep {
        ms: u64,
        idle: bool,
    },
    /// `sleep_between(min_sleep, max_sleep)`: uniform, idle.
    SleepBetween {
        min_ms: u64,
        max_ms: u64,
    },
    Wait {
        until: Until,
        poll: Poll,
    },
    /// `servers.get` as admin: the host before a move.
    RecordHost,
    /// The host check after a migration reached its state.
    HostChanged {
        exception: &'static str,
        prefix: &'static str,
    },
    /// `_find_host_to_migrate`: a random available host of the server's zone but its own.
    FindHost,
    /// `len(self._list_hypervisors()) < 2` → RallyException.
    AtLeastTwoComputes {
        what: &'static str,
    },
}

/// The scenarios novasim runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BootAndDelete,
    BootAndMigrate,
    BootAndLiveMigrate,
    BootFromVolumeAndLiveMigrate,
    ResizeServer,
    BootFromVolumeAndResize,
}

pub const KNOWN: &str = "NovaServers.boot_and_delete_server, NovaServers.boot_and_migrate_server, \
                         NovaServers.boot_and_live_migrate_server, \
                         NovaServers.boot_server_from_volume_and_live_migrate, \
                         NovaServers.resize_server, \
                         NovaServers.boot_server_from_volume_and_resize";

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "NovaServers.boot_and_delete_server" => Kind::BootAndDelete,
            "NovaServers.boot_and_migrate_server" => Kind::BootAndMigrate,
            "NovaServers.boot_and_live_migrate_server" => Kind::BootAndLiveMigrate,
            "NovaServers.boot_server_from_volume_and_live_migrate" => {
                Kind::BootFromVolumeAndLiveMigrate
            }
            "NovaServers.resize_server" => Kind::ResizeServer,
            "NovaServers.boot_server_from_volume_and_resize" => Kind::BootFromVolumeAndResize,
            _ => return None,
        })
    }
}

/// A scenario with its arguments resolved against the cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub kind: Kind,
    pub steps: Vec<Step>,
    /// The arguments nobody models (passed to `servers.create` as `**kwargs` by Rally).
    pub ignored_args: Vec<String>,
}

/// `types.Convert("nova_flavor")`: `{name}`, `{id}` or a plain string, matched by name.
fn flavor(
    v: Option<&Value>,
    key: &str,
    flavors: &[Flavor],
    path: &str,
) -> Result<FlavorId, RallyError> {
    let p = format!("{path}.{key}");
    let name = match v {
        None => {
            return Err(RallyError::Invalid(format!(
                "{p}: required argument is missing"
            )))
        }
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => match (m.get("name"), m.get("id")) {
            (Some(Value::String(s)), _) | (None, Some(Value::String(s))) => s.clone(),
            (None, Some(Value::Number(n))) => n.to_string(),
            _ => {
                return Err(RallyError::Invalid(format!(
                    "{p}: a flavor is {{name: …}} or {{id: …}}"
                )))
            }
        },
        Some(other) => return Err(RallyError::Invalid(format!("{p}: not a flavor: {other}"))),
    };
    flavors
        .iter()
        .position(|f| f.name == name)
        .map(|i| FlavorId(i as u32))
        .ok_or_else(|| {
            let known: Vec<&str> = flavors.iter().map(|f| f.name.as_str()).collect();
            RallyError::Invalid(format!(
                "{p}: Flavor with name '{name}' not found (the cloud's flavors: {})",
                known.join(", ")
            ))
        })
}

fn boolean(
    args: &Map<String, Value>,
    key: &str,
    default: bool,
    path: &str,
) -> Result<bool, RallyError> {
    match args.get(key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(RallyError::Invalid(format!(
            "{path}.{key}: must be a boolean, not {v}"
        ))),
    }
}

fn seconds(args: &Map<String, Value>, key: &str, path: &str) -> Result<u64, RallyError> {
    match args.get(key) {
        None => Ok(0),
        Some(v) => match v.as_f64() {
            Some(s) if (0.0..=1.0e7).contains(&s) => Ok((s * 1000.0).round() as u64),
            _ => Err(RallyError::Invalid(format!(
                "{path}.{key}: must be seconds ≥ 0, not {v}"
            ))),
        },
    }
}

/// `_boot_server`: create, pre-poll sleep, wait ACTIVE, inside `nova.boot_server`.
fn boot(era: Era, flavor: FlavorId, volume: bool) -> Vec<Step> {
    let poll = profile::poll(era, Wait::Boot);
    vec![
        Step::Enter("nova.boot_server"),
        Step::Call(Call::Boot { flavor, volume }),
        Step::Sleep {
            ms: poll.prepoll_ms,
            idle: era.boot_prepoll_is_idle(),
        },
        Step::Wait {
            until: Until::Status("ACTIVE"),
            poll,
        },
        Step::Exit,
    ]
}

/// `_delete_server(force=False)`: delete, wait for the 404, inside `nova.delete_server`.
fn delete(era: Era) -> Vec<Step> {
    vec![
        Step::Enter("nova.delete_server"),
        Step::Call(Call::Delete),
        Step::Wait {
            until: Until::Deleted,
            poll: profile::poll(era, Wait::Delete),
        },
        Step::Exit,
    ]
}

/// `_migrate`: (hypervisor count), host before, migrate, wait VERIFY_RESIZE, host check.
fn migrate(era: Era) -> Vec<Step> {
    let mut s = vec![Step::Enter("nova.migrate")];
    if era.lists_hypervisors() {
        s.extend([
            Step::Enter("nova.list_hypervisors"),
            Step::AtLeastTwoComputes { what: "Migration" },
            Step::Exit,
        ]);
    }
    s.extend([
        Step::RecordHost,
        Step::Call(Call::Migrate),
        Step::Wait {
            until: Until::Status("VERIFY_RESIZE"),
            poll: profile::poll(era, Wait::Migrate),
        },
        Step::HostChanged {
            exception: if era == Era::Legacy {
                "MigrateException"
            } else {
                "RallyException"
            },
            prefix: "Migration failed: Migration complete but instance did not change host",
        },
        Step::Exit,
    ]);
    s
}

/// `_live_migrate` (with `_find_host_to_migrate` before it in the legacy era).
fn live_migrate(era: Era, block_migration: bool, disk_over_commit: bool) -> Vec<Step> {
    let mut s = Vec::new();
    if era.finds_host_to_migrate() {
        s.extend([
            Step::Enter("nova.find_host_to_migrate"),
            Step::FindHost,
            Step::Exit,
        ]);
    }
    s.push(Step::Enter("nova.live_migrate"));
    if era.lists_hypervisors() {
        s.extend([
            Step::Enter("nova.list_hypervisors"),
            Step::AtLeastTwoComputes {
                what: "Live Migration",
            },
            Step::Exit,
        ]);
    }
    let poll = profile::poll(era, Wait::LiveMigrate);
    s.push(Step::RecordHost);
    s.push(Step::Call(Call::LiveMigrate {
        block_migration,
        disk_over_commit,
    }));
    if era.live_ready_checks_host() {
        s.push(Step::Wait {
            until: Until::ActiveElsewhere,
            poll,
        });
    } else {
        s.push(Step::Wait {
            until: Until::Status("ACTIVE"),
            poll,
        });
        s.push(Step::HostChanged {
            exception: if era == Era::Legacy {
                "LiveMigrateException"
            } else {
                "RallyException"
            },
            prefix: "Live Migration failed: Migration complete but instance did not change host",
        });
    }
    s.push(Step::Exit);
    s
}

fn resize_end(era: Era, confirm: bool) -> Vec<Step> {
    if confirm {
        vec![
            Step::Enter("nova.resize_confirm"),
            Step::Call(Call::Confirm),
            Step::Wait {
                until: Until::Status("ACTIVE"),
                poll: profile::poll(era, Wait::ResizeConfirm),
            },
            Step::Exit,
        ]
    } else {
        vec![
            Step::Enter("nova.resize_revert"),
            Step::Call(Call::Revert),
            Step::Wait {
                until: Until::Status("ACTIVE"),
                poll: profile::poll(era, Wait::ResizeRevert),
            },
            Step::Exit,
        ]
    }
}

/// `_resize`: resize, wait VERIFY_RESIZE, inside `nova.resize`.
fn resize(era: Era, to: FlavorId) -> Vec<Step> {
    vec![
        Step::Enter("nova.resize"),
        Step::Call(Call::Resize(to)),
        Step::Wait {
            until: Until::Status("VERIFY_RESIZE"),
            poll: profile::poll(era, Wait::Resize),
        },
        Step::Exit,
    ]
}

/// `self.cinder.create_volume(volume_size, …)`: Cinder is not simulated; the volume is
/// available at the first poll after the pre-poll sleep.
fn create_volume(era: Era, args: &Map<String, Value>, p: &str) -> Result<Vec<Step>, RallyError> {
    match args.get("volume_size") {
        Some(v) if v.as_u64().is_some_and(|n| n >= 1) || v.is_object() => {}
        _ => {
            return Err(RallyError::Invalid(format!(
                "{p}.volume_size: required, an integer ≥ 1 (GB)"
            )))
        }
    }
    let vpoll = profile::poll(era, Wait::VolumeCreate);
    Ok(vec![
        Step::Enter(era.volume_create_atomic()),
        Step::Sleep {
            ms: vpoll.prepoll_ms,
            idle: era.boot_prepoll_is_idle(),
        },
        Step::Exit,
    ])
}

/// The arguments each scenario reads (others go to `servers.create` as kwargs).
fn known_args(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::BootAndDelete => &["image", "flavor", "min_sleep", "max_sleep", "force_delete"],
        Kind::BootAndMigrate => &["image", "flavor", "confirm"],
        Kind::BootAndLiveMigrate => &[
            "image",
            "flavor",
            "block_migration",
            "disk_over_commit",
            "min_sleep",
            "max_sleep",
        ],
        Kind::BootFromVolumeAndLiveMigrate => &[
            "image",
            "flavor",
            "volume_size",
            "volume_type",
            "block_migration",
            "disk_over_commit",
            "force_delete",
            "min_sleep",
            "max_sleep",
            "create_volume_kwargs",
            "boot_server_kwargs",
        ],
        Kind::ResizeServer => &["image", "flavor", "to_flavor", "confirm", "force_delete"],
        Kind::BootFromVolumeAndResize => &[
            "image",
            "flavor",
            "to_flavor",
            "volume_size",
            "min_sleep",
            "max_sleep",
            "force_delete",
            "confirm",
            "do_delete",
            "boot_server_kwargs",
            "create_volume_kwargs",
        ],
    }
}

/// The steps of scenario `name` with `args` (workload `path`) against the cloud's `flavors`.
pub fn plan(
    name: &str,
    args: &Map<String, Value>,
    flavors: &[Flavor],
    era: Era,
    path: &str,
) -> Result<Plan, RallyError> {
    let kind = Kind::parse(name).ok_or_else(|| {
        RallyError::Invalid(format!(
            "{path}.scenario: unknown scenario {name:?} (novasim runs: {KNOWN})"
        ))
    })?;
    let p = format!("{path}.scenario.{name}");
    if !args.contains_key("image") {
        return Err(RallyError::Invalid(format!(
            "{p}.image: required argument is missing"
        )));
    }
    let f = flavor(args.get("flavor"), "flavor", flavors, &p)?;
    // force_delete sends `forceDelete`, which Nova refuses unless the server was soft-deleted;
    // the simulator models neither.
    if boolean(args, "force_delete", false, &p)? {
        return Err(RallyError::Invalid(format!(
            "{p}.force_delete: true is not modelled (no forceDelete action in novasim)"
        )));
    }
    let (min_sleep, max_sleep) = (
        seconds(args, "min_sleep", &p)?,
        seconds(args, "max_sleep", &p)?,
    );
    let sleep = if max_sleep > 0 || min_sleep > 0 {
        if min_sleep > max_sleep.max(min_sleep) {
            return Err(RallyError::Invalid(format!(
                "{p}: 0 <= min_sleep <= max_sleep"
            )));
        }
        vec![Step::SleepBetween {
            min_ms: min_sleep,
            max_ms: max_sleep.max(min_sleep),
        }]
    } else {
        Vec::new()
    };
    let mut steps = Vec::new();
    match kind {
        Kind::BootAndDelete => {
            steps.extend(boot(era, f, false));
            steps.extend(sleep);
            steps.extend(delete(era));
        }
        Kind::BootAndMigrate => {
            steps.extend(boot(era, f, false));
            steps.extend(migrate(era));
            // `kwargs.get("confirm", True)`: cold migration and resize share the code path.
            steps.extend(resize_end(era, boolean(args, "confirm", true, &p)?));
            steps.extend(delete(era));
        }
        Kind::BootAndLiveMigrate => {
            steps.extend(boot(era, f, false));
            steps.extend(sleep);
            steps.extend(live_migrate(
                era,
                boolean(args, "block_migration", false, &p)?,
                boolean(args, "disk_over_commit", false, &p)?,
            ));
            steps.extend(delete(era));
        }
        Kind::BootFromVolumeAndLiveMigrate => {
            steps.extend(create_volume(era, args, &p)?);
            steps.extend(boot(era, f, true));
            steps.extend(sleep);
            steps.extend(live_migrate(
                era,
                boolean(args, "block_migration", false, &p)?,
                boolean(args, "disk_over_commit", false, &p)?,
            ));
            steps.extend(delete(era));
        }
        Kind::ResizeServer => {
            let to = flavor(args.get("to_flavor"), "to_flavor", flavors, &p)?;
            steps.extend(boot(era, f, false));
            steps.extend(resize(era, to));
            steps.extend(resize_end(era, boolean(args, "confirm", true, &p)?));
            steps.extend(delete(era));
        }
        Kind::BootFromVolumeAndResize => {
            let to = flavor(args.get("to_flavor"), "to_flavor", flavors, &p)?;
            steps.extend(create_volume(era, args, &p)?);
            steps.extend(boot(era, f, true));
            steps.extend(sleep);
            steps.extend(resize(era, to));
            steps.extend(resize_end(era, boolean(args, "confirm", true, &p)?));
            // `do_delete: false` leaves the server to Rally's cleanup (not timed).
            if boolean(args, "do_delete", true, &p)? {
                steps.extend(delete(era));
            }
        }
    }
    let known = known_args(kind);
    let ignored_args = args
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .cloned()
        .collect();
    Ok(Plan {
        kind,
        steps,
        ignored_args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flavors() -> Vec<Flavor> {
        ["m1.tiny", "m1.small"]
            .iter()
            .map(|n| Flavor {
                name: n.to_string(),
                vcpus: 1,
                memory_mb: 512,
                disk_gb: 1,
                dirty_rate_mib_s: None,
            })
            .collect()
    }

    fn atomics(steps: &[Step]) -> Vec<String> {
        let mut depth = 0;
        let mut out = Vec::new();
        for s in steps {
            match s {
                Step::Enter(n) => {
                    out.push(format!("{}{n}", "  ".repeat(depth)));
                    depth += 1;
                }
                Step::Exit => depth -= 1,
                _ => {}
            }
        }
        out
    }

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn resize_server_calls_in_rallys_order() {
        let a = args(
            json!({"image": {"name": "cirros"}, "flavor": {"name": "m1.tiny"}, "to_flavor": {"name": "m1.small"}}),
        );
        let p = plan(
            "NovaServers.resize_server",
            &a,
            &flavors(),
            Era::Current,
            "w",
        )
        .unwrap();
        let calls: Vec<&Call> = p
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Call(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(
            calls,
            [
                &Call::Boot {
                    flavor: FlavorId(0),
                    volume: false
                },
                &Call::Resize(FlavorId(1)),
                &Call::Confirm,
                &Call::Delete
            ]
        );
        assert_eq!(
            atomics(&p.steps),
            [
                "nova.boot_server",
                "nova.resize",
                "nova.resize_confirm",
                "nova.delete_server"
            ]
        );
        // The resize is polled every 4 s at HEAD, 5 s before rally-openstack 2.2.
        let resize_poll = |era| match &plan("NovaServers.resize_server", &a, &flavors(), era, "w")
            .unwrap()
            .steps[7]
        {
            Step::Wait { poll, .. } => poll.interval_ms,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            (resize_poll(Era::Current), resize_poll(Era::Mid)),
            (4000, 5000)
        );
    }

    #[test]
    fn live_migration_nests_as_rally_does_per_era() {
        let a = args(json!({"image": {"name": "c"}, "flavor": {"name": "m1.tiny"}}));
        let cur = plan(
            "NovaServers.boot_and_live_migrate_server",
            &a,
            &flavors(),
            Era::Current,
            "w",
        )
        .unwrap();
        assert_eq!(
            atomics(&cur.steps),
            [
                "nova.boot_server",
                "nova.live_migrate",
                "  nova.list_hypervisors",
                "nova.delete_server"
            ]
        );
        let old = plan(
            "NovaServers.boot_and_live_migrate_server",
            &a,
            &flavors(),
            Era::Legacy,
            "w",
        )
        .unwrap();
        assert_eq!(
            atomics(&old.steps),
            [
                "nova.boot_server",
                "nova.find_host_to_migrate",
                "nova.live_migrate",
                "nova.delete_server"
            ]
        );
        let bfv =
            args(json!({"image": {"name": "c"}, "flavor": {"name": "m1.tiny"}, "volume_size": 1}));
        let v = plan(
            "NovaServers.boot_server_from_volume_and_live_migrate",
            &bfv,
            &flavors(),
            Era::Current,
            "w",
        )
        .unwrap();
        assert_eq!(atomics(&v.steps)[0], "cinder_v3.create_volume");
        assert!(v.steps.contains(&Step::Call(Call::Boot {
            flavor: FlavorId(0),
            volume: true
        })));
        let r = args(
            json!({"image": {"name": "c"}, "flavor": {"name": "m1.tiny"},
            "to_flavor": {"name": "m1.small"}, "volume_size": 1, "do_delete": false}),
        );
        let bfvr = plan(
            "NovaServers.boot_server_from_volume_and_resize",
            &r,
            &flavors(),
            Era::Current,
            "w",
        )
        .unwrap();
        assert_eq!(
            atomics(&bfvr.steps),
            [
                "cinder_v3.create_volume",
                "nova.boot_server",
                "nova.resize",
                "nova.resize_confirm"
            ]
        );
        let m = plan(
            "NovaServers.boot_and_migrate_server",
            &a,
            &flavors(),
            Era::Current,
            "w",
        )
        .unwrap();
        assert_eq!(
            atomics(&m.steps),
            [
                "nova.boot_server",
                "nova.migrate",
                "  nova.list_hypervisors",
                "nova.resize_confirm",
                "nova.delete_server"
            ]
        );
    }

    #[test]
    fn bad_arguments_name_their_key() {
        let a = args(json!({"image": {"name": "c"}, "flavor": {"name": "m9.huge"}}));
        let e = plan(
            "NovaServers.boot_and_delete_server",
            &a,
            &flavors(),
            Era::Current,
            "subtasks[0]",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("subtasks[0].scenario.NovaServers.boot_and_delete_server.flavor: Flavor with name 'm9.huge' not found"), "{e}");
        let e = plan(
            "NovaServers.boot_and_dance",
            &a,
            &flavors(),
            Era::Current,
            "w",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown scenario \"NovaServers.boot_and_dance\""),
            "{e}"
        );
    }
}
