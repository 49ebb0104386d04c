//! Integer virtual time. One tick is one millisecond; floats never enter the clock.

use serde::Serialize;
use std::fmt;
use std::ops::{Add, Sub};

/// A point in virtual time, in milliseconds since the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct SimTime(pub u64);

/// A span of virtual time, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Duration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub fn ms(self) -> u64 {
        self.0
    }
    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Duration {
    pub const ZERO: Duration = Duration(0);
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s.saturating_mul(1000))
    }
    pub const fn from_ms(ms: u64) -> Duration {
        Duration(ms)
    }
    pub fn ms(self) -> u64 {
        self.0
    }
}

impl Add<Duration> for SimTime {
    type Output = SimTime;
    fn add(self, d: Duration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration(self.0.saturating_add(d.0))
    }
}

impl Sub<Duration> for SimTime {
    type Output = SimTime;
    fn sub(self, d: Duration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }
}

/// Printed as seconds with millisecond precision ("61.250"), the unit of every trace column.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_seconds_with_millis() {
        assert_eq!(SimTime(61_250).to_string(), "61.250");
        assert_eq!(SimTime(5).to_string(), "0.005");
        assert_eq!(Duration::from_secs(300).to_string(), "300.000");
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(SimTime(5) - Duration(10), SimTime(0));
        assert_eq!(SimTime(u64::MAX) + Duration(1), SimTime(u64::MAX));
        assert_eq!(SimTime(10).since(SimTime(20)), Duration(0));
    }
}
