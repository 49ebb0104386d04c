//! The discrete-event engine. It knows nothing of Nova: integer virtual time, a totally ordered
//! queue of cancellable timers, seeded random streams and sampled durations.

pub mod dist;
pub mod queue;
pub mod rng;
pub mod time;

pub use dist::Dist;
pub use queue::{EventQueue, TimerKey};
pub use rng::{RngStreams, Stream};
pub use time::{Duration, SimTime};
