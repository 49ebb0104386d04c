//! novasim: a deterministic discrete-event simulator of an OpenStack-Nova compute cloud
//! handling server admin actions.

pub mod alloc;
pub mod analysis;
pub mod api;
pub mod calibrate;
pub mod cli;
pub mod config;
pub mod engine;
pub mod expect;
pub mod model;
pub mod output;
pub mod plot;
pub mod rally;
pub mod redraw;
pub mod report;
pub mod results;
pub mod run;
pub mod scenario;
pub mod scheduler;
pub mod sim;
pub mod sweep;
pub mod text;
pub mod trace;
pub mod vocab;
