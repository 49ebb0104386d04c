//! Newtype ids. Each is an index into the owning `Vec` of the world, assigned in declaration
//! order, so iteration by id is deterministic.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(/// A compute host (one nova-compute service, one node, one resource provider).
    HostId, "host#");
id_type!(/// A server (instance).
    ServerId, "server#");
id_type!(/// A migration record; displayed as `mig-N` in traces.
    MigrationId, "mig-");
id_type!(/// A flavor.
    FlavorId, "flavor#");
id_type!(/// An API request, or a periodic task run acting with its own request id; `req-N` in traces.
    RequestId, "req-");
id_type!(/// An instance action row.
    ActionId, "action#");
