//! The Nova exception classes the simulator raises, with their HTTP codes: the class's own
//! and what the API answers when it catches one. The API layer, the simulator's failure
//! outcomes, the trace and `explain` share these names.

/// A Nova exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exception {
    NoValidHost,
    /// `MaxRetriesExceeded(NoValidHost)`.
    MaxRetriesExceeded,
    /// `InstanceNotFound`.
    InstanceNotFound,
    /// `InstanceNotReady`.
    InstanceNotReady,
    /// `InstanceInvalidState`.
    InstanceInvalidState,
    /// `MigrationPreCheckError`.
    MigrationPreCheckError,
    /// `ComputeServiceUnavailable`.
    ComputeServiceUnavailable,
    /// `InvalidSharedStorage`: a non-block live migration without shared storage.
    InvalidSharedStorage,
    /// `InvalidLocalStorage`: a block migration on shared storage.
    InvalidLocalStorage,
    /// `InvalidHypervisorType`: the hosts' hypervisor types differ.
    InvalidHypervisorType,
    /// `DestinationHypervisorTooOld`.
    DestinationHypervisorTooOld,
    /// `UnableToMigrateToSelf`: the requested destination is the source.
    UnableToMigrateToSelf,
    /// libvirt's `libvirtError` (not a Nova class: 500).
    LibvirtError,
    /// oslo.messaging's `MessagingTimeout`: an RPC call got no answer in time (500).
    MessagingTimeout,
}

impl Exception {
    pub const ALL: [Exception; 14] = [
        Exception::NoValidHost,
        Exception::MaxRetriesExceeded,
        Exception::InstanceNotFound,
        Exception::InstanceNotReady,
        Exception::InstanceInvalidState,
        Exception::MigrationPreCheckError,
        Exception::ComputeServiceUnavailable,
        Exception::InvalidSharedStorage,
        Exception::InvalidLocalStorage,
        Exception::InvalidHypervisorType,
        Exception::DestinationHypervisorTooOld,
        Exception::UnableToMigrateToSelf,
        Exception::LibvirtError,
        Exception::MessagingTimeout,
    ];

    /// The class name, as Nova's logs and instance faults show it.
    pub fn name(self) -> &'static str {
        match self {
            Exception::NoValidHost => "NoValidHost",
            Exception::MaxRetriesExceeded => "MaxRetriesExceeded",
            Exception::InstanceNotFound => "InstanceNotFound",
            Exception::InstanceNotReady => "InstanceNotReady",
            Exception::InstanceInvalidState => "InstanceInvalidState",
            Exception::MigrationPreCheckError => "MigrationPreCheckError",
            Exception::ComputeServiceUnavailable => "ComputeServiceUnavailable",
            Exception::InvalidSharedStorage => "InvalidSharedStorage",
            Exception::InvalidLocalStorage => "InvalidLocalStorage",
            Exception::InvalidHypervisorType => "InvalidHypervisorType",
            Exception::DestinationHypervisorTooOld => "DestinationHypervisorTooOld",
            Exception::UnableToMigrateToSelf => "UnableToMigrateToSelf",
            Exception::LibvirtError => "libvirtError",
            Exception::MessagingTimeout => "MessagingTimeout",
        }
    }

    /// A subclass of `exception.Invalid` (`nova/exception.py`; `ServiceUnavailable` is one).
    pub fn is_invalid(self) -> bool {
        match self {
            Exception::InstanceNotReady
            | Exception::InstanceInvalidState
            | Exception::ComputeServiceUnavailable
            | Exception::InvalidHypervisorType
            | Exception::DestinationHypervisorTooOld
            | Exception::UnableToMigrateToSelf => true,
            Exception::NoValidHost
            | Exception::MaxRetriesExceeded
            | Exception::InstanceNotFound
            | Exception::MigrationPreCheckError
            | Exception::InvalidSharedStorage
            | Exception::InvalidLocalStorage
            | Exception::LibvirtError
            | Exception::MessagingTimeout => false,
        }
    }

    /// The class's own `code` in `nova/exception.py`: 400 for the `Invalid` family, 404 for
    /// `NotFound`, 500 for the rest.
    pub fn class_code(self) -> u16 {
        if self.is_invalid() {
            400
        } else if self == Exception::InstanceNotFound {
            404
        } else {
            500
        }
    }

    /// What a synchronous `os-migrateLive` (< 2.34) answers when the conductor's pre-checks
    /// raise this class: `MigrateServerController._migrate_live` turns the listed pre-check
    /// classes into 400 and `InstanceInvalidState` into 409
    /// (`raise_http_conflict_for_instance_invalid_state`); anything else is a 500.
    pub fn live_migrate_http_code(self) -> u16 {
        match self {
            Exception::NoValidHost
            | Exception::MaxRetriesExceeded
            | Exception::ComputeServiceUnavailable
            | Exception::InvalidLocalStorage
            | Exception::InvalidSharedStorage
            | Exception::MigrationPreCheckError
            | Exception::InvalidHypervisorType
            | Exception::DestinationHypervisorTooOld
            | Exception::UnableToMigrateToSelf => 400,
            Exception::InstanceInvalidState => 409,
            Exception::InstanceNotFound => 404,
            Exception::InstanceNotReady | Exception::LibvirtError | Exception::MessagingTimeout => {
                500
            }
        }
    }

    /// Whether `LiveMigrationTask._find_destination` skips the host and tries another when
    /// its checks raise this class: it catches `exception.Invalid` and
    /// `MigrationPreCheckError` only.
    pub fn skips_host(self) -> bool {
        self.is_invalid() || self == Exception::MigrationPreCheckError
    }

    pub fn parse(s: &str) -> Option<Exception> {
        Exception::ALL.into_iter().find(|e| e.name() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `nova/exception.py`: `Invalid` (and its `ServiceUnavailable`) 400, `NotFound` 404, a
    /// bare `NovaException` 500; `_migrate_live`'s except clauses (spec §3.2 rows 15–15b).
    #[test]
    fn codes_follow_nova_exception_classes_and_the_live_migrate_api() {
        let table = [
            (Exception::InstanceNotFound, 404, 404),
            (Exception::InstanceNotReady, 400, 500),
            (Exception::InstanceInvalidState, 400, 409),
            (Exception::MigrationPreCheckError, 500, 400),
            (Exception::ComputeServiceUnavailable, 400, 400),
            (Exception::InvalidSharedStorage, 500, 400),
            (Exception::InvalidLocalStorage, 500, 400),
            (Exception::NoValidHost, 500, 400),
            (Exception::MaxRetriesExceeded, 500, 400),
            (Exception::InvalidHypervisorType, 400, 400),
            (Exception::DestinationHypervisorTooOld, 400, 400),
            (Exception::UnableToMigrateToSelf, 400, 400),
            (Exception::LibvirtError, 500, 500),
            (Exception::MessagingTimeout, 500, 500),
        ];
        assert_eq!(table.len(), Exception::ALL.len());
        for (e, class, live) in table {
            assert_eq!(e.class_code(), class, "{}", e.name());
            assert_eq!(e.live_migrate_http_code(), live, "{}", e.name());
            assert_eq!(Exception::parse(e.name()), Some(e));
        }
    }
}
