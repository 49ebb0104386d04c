//! The request vocabulary of the compute API: actions, roles, microversions and the caller.
//! Below the API layer, the scenario loader, the simulator, the trace and the results reader,
//! which all speak it.

/// Roles of the caller (spec §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Manager,
    Member,
    /// A user of the project with none of the roles above (e.g. only `reader`).
    Reader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Member => "member",
            Role::Reader => "reader",
        }
    }
}

/// API actions the workload can issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    Migrate,
    ConfirmResize,
    RevertResize,
    Create,
    Delete,
    LiveMigrate,
    ResetState,
    InjectNetworkInfo,
    ResetNetwork,
    /// `DELETE /servers/{id}/migrations/{migration_id}` on the server's live migration.
    AbortLiveMigration,
    /// `resize` with a `flavorRef`: the cold migration with a flavor change (spec §3.8). Not in
    /// [`ActionKind::ALL`]: that list is throughput.csv's columns, and a new column would change
    /// every results folder; resize requests are counted in requests.csv and summary.json.
    Resize,
}

impl ActionKind {
    pub const ALL: [ActionKind; 10] = [
        ActionKind::Migrate,
        ActionKind::ConfirmResize,
        ActionKind::RevertResize,
        ActionKind::Create,
        ActionKind::Delete,
        ActionKind::LiveMigrate,
        ActionKind::ResetState,
        ActionKind::InjectNetworkInfo,
        ActionKind::ResetNetwork,
        ActionKind::AbortLiveMigration,
    ];

    /// Position in [`ActionKind::ALL`] (column order of throughput.csv).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The throughput.csv column of the action, if it has one (see [`ActionKind::Resize`]).
    pub fn column(self) -> Option<usize> {
        (self.index() < ActionKind::ALL.len()).then_some(self.index())
    }

    /// Every action a request can name: the columns of throughput.csv, then resize.
    pub fn every() -> impl Iterator<Item = ActionKind> {
        ActionKind::ALL.into_iter().chain([ActionKind::Resize])
    }

    /// The name used in scenarios and traces (the API's action key, or create/delete).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Migrate => "migrate",
            ActionKind::ConfirmResize => "confirmResize",
            ActionKind::RevertResize => "revertResize",
            ActionKind::Create => "create",
            ActionKind::Delete => "delete",
            ActionKind::LiveMigrate => "os-migrateLive",
            ActionKind::ResetState => "os-resetState",
            ActionKind::InjectNetworkInfo => "injectNetworkInfo",
            ActionKind::ResetNetwork => "resetNetwork",
            ActionKind::AbortLiveMigration => "abortLiveMigration",
            ActionKind::Resize => "resize",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        ActionKind::every().find(|a| a.as_str() == s)
    }
}

/// A microversion `major.minor` (only 2.x exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion(pub u16, pub u16);

impl Microversion {
    pub const MIN: Microversion = Microversion(2, 1);
    /// The newest microversion a scenario may write (Nova master after 33.0.0); a release
    /// answers 406 above its own maximum (`Release::max_microversion`).
    pub const MAX: Microversion = Microversion(2, 104);
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Microversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Who sends a request and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub microversion: Microversion,
    pub role: Role,
    /// The caller's project; `None` means the target server's own project.
    pub project: Option<std::sync::Arc<str>>,
}
