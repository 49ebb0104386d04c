//! The closed vocabularies of a run's trace: where a step ran (`Hop`), what it did (`Step`),
//! why the scheduler dropped a host (`DropReason`) and which Nova exception ended a request
//! (`Exception`). The simulator writes only these, the trace writer encodes them, the results
//! reader parses them back and `explain` tells each in words. Above the model (steps carry
//! states), below the trace and the results reader.

mod exception;
mod hop;
mod scheduling;
mod step;

pub use exception::Exception;
pub use hop::Hop;
pub use scheduling::{DropReason, Purpose};
pub use step::{RollbackCause, Step};
