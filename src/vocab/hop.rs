//! Where a step runs: the `hop` column of transitions.csv.

use std::fmt;

/// The process where a step runs (spec §0 hop labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hop {
    Api,
    Conductor,
    Scheduler,
    Source,
    Destination,
    /// The compute host of a server being built or deleted.
    Compute,
    Placement,
    /// A scripted operator action (service disable/enable, process stop/start).
    Operator,
}

impl Hop {
    /// Every hop, in declaration order (the trace writer's dense tables are indexed by it).
    pub const ALL: [Hop; 8] = [
        Hop::Api,
        Hop::Conductor,
        Hop::Scheduler,
        Hop::Source,
        Hop::Destination,
        Hop::Compute,
        Hop::Placement,
        Hop::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hop::Api => "API",
            Hop::Conductor => "CON",
            Hop::Scheduler => "SCH",
            Hop::Source => "SRC",
            Hop::Destination => "DST",
            Hop::Compute => "CMP",
            Hop::Placement => "PLC",
            Hop::Operator => "OPS",
        }
    }
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Hop {
    pub fn parse(s: &str) -> Option<Hop> {
        Hop::ALL.into_iter().find(|h| h.as_str() == s)
    }
}
