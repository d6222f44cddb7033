//! AURALIS plugins (CLAP and VST3, built with nice-plug): one binary, bundled by
//! `cargo xtask bundle auralis-plugin`.
//!
//! - [`instrument::Instrument`]: plays one element of a session with its fitted patch, in time
//!   with the host, through the same engine the analyzer rendered it with.
//!
//! The Console (mix and master chains) and the A/B plugin join this binary later.

pub mod instrument;

use nice_plug::prelude::*;

pub use instrument::Instrument;

nice_export_clap!(Instrument);
nice_export_vst3!(Instrument);
