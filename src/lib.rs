//! novasim: a deterministic discrete-event simulator of an OpenStack-Nova compute cloud
//! handling server admin actions.

pub mod engine;
pub mod model;
