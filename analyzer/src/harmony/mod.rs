//! Harmony: chroma features, chords per beat and key.

pub mod chords;
pub mod chroma;
pub mod key;
