//! AURALIS plugins (CLAP and VST3, built with nice-plug): one binary, bundled by
//! `cargo xtask bundle auralis-plugin`.
//!
//! - [`instrument::Instrument`]: plays one element of a session with its fitted patch, in time
//!   with the host, through the same engine the analyzer rendered it with.
//! - [`console::Console`]: runs an element's insert chain or the master chain of a session,
//!   fitted by the analyzer's CONSOLE stage, with a sidechain input for the pump.
//!
//! The A/B plugin joins this binary later.

pub mod console;
pub mod instrument;

use nice_plug::prelude::*;

pub use console::Console;
pub use instrument::Instrument;

nice_export_clap!(Instrument, Console);
nice_export_vst3!(Instrument, Console);
