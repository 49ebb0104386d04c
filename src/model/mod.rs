//! The Nova cloud as plain data: hosts, flavors, servers, migrations, instance actions and
//! placement allocations, with the state vocabulary of the spec (§1) and pure transition
//! helpers. Nothing here schedules events or reads a clock: time is passed in.

pub mod action;
pub mod host;
pub mod ids;
pub mod migration;
pub mod names;
pub mod placement;
pub mod server;
pub mod state;
pub mod transfer;
pub mod world;

pub use action::{
    ActionCounts, ActionEvent, ActionLog, ActionWritten, EventResult, InstanceAction, NO_OWNER,
};
pub use host::{Flavor, Host, Resources};
pub use ids::{ActionId, FlavorId, HostId, MigrationId, RequestId, ServerId};
pub use migration::{Migration, MigrationStatus, MigrationType};
pub use names::{ActionName, EventName};
pub use placement::{Consumer, Placement};
pub use server::{PowerState, Server};
pub use state::{status_from_state, Status, TaskState, VmState};
pub use world::{ServiceLiveness, World};
