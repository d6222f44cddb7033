//! AURALIS plugins (CLAP and VST3, built with nice-plug): one binary, bundled by
//! `cargo xtask bundle auralis-plugin`.
//!
//! - [`instrument::Instrument`]: plays one element of a session with its fitted patch, in time
//!   with the host, through the same engine the analyzer rendered it with.
//! - [`console::Console`]: runs an element's insert chain or the master chain of a session,
//!   fitted by the analyzer's CONSOLE stage, with a sidechain input for the pump.
//!
//! - [`ab::Ab`]: on the master bus, switches between the mix and the session's original,
//!   played in time with the host and matched in loudness.

pub mod ab;
pub mod console;
pub mod instrument;
pub mod loader;

use nice_plug::prelude::*;

pub use ab::Ab;
pub use console::Console;
pub use instrument::Instrument;

nice_export_clap!(Instrument, Console, Ab);
nice_export_vst3!(Instrument, Console, Ab);
