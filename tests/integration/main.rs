//! Integration tests, one module per concern. Spec sections are named in each test.

mod cli;
mod cold_migration;
mod determinism;
mod golden;
mod interleavings;
mod live_migration;
mod properties;
mod releases;
mod resize;
mod restart;
mod support;
