//! AURALIS plugins (CLAP + VST3 through nice-plug): Instrument, Console and A/B.
//!
//! Empty until the HANDS issue lands; `bundler.toml` already names this package so that
//! `cargo xtask bundle` picks it up once it exports plugins. Nothing here is built into a
//! bundle yet, on purpose: no fake plugin ships.
