//! Stem Preflight: catches clipped, hot or limited stems before they go to mastering.

pub mod analysis;
