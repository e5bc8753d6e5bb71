//! Helpers shared by the integration tests.
#![allow(dead_code)] // NOTE: each test crate uses a different subset.

pub mod checker;
pub mod clap_host;
pub mod corpus;
pub mod delivery;
pub mod dynamics;
pub mod external;
pub mod files;
pub mod screen;
pub mod signals;
