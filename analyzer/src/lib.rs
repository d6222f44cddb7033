//! AURALIS analyzer: decodes any track, measures its musical profile and writes the session
//! folder that the plugins read.
//!
//! The pipeline is a chain of stages with typed inputs and outputs:
//! decode ([`frontend`]) → rhythm ([`rhythm`]) → harmony ([`harmony`]) → structure
//! ([`structure`]) → levels ([`level`]) → session ([`session`]). [`profile`] runs the chain;
//! [`eval`] measures it against ground truth.

pub mod brain;
pub mod console;
pub mod decode;
pub mod demo;
pub mod effects;
pub mod elements;
pub mod error;
pub mod eval;
pub mod export;
pub mod frontend;
pub mod hands;
pub mod harmony;
pub mod level;
pub mod midi;
pub mod models;
pub mod onset;
pub mod profile;
pub mod progress;
pub mod qc;
pub mod reconstruct;
pub mod report;
pub mod resample;
pub mod rhythm;
pub mod separate;
pub mod serve;
pub mod session;
pub mod spectrum;
pub mod structure;
pub mod transcribe;

pub use error::{Error, Result};
