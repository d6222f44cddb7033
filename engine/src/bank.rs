//! The generic preset bank (`presets/bank.json`, embedded): patches tagged with the role they
//! may rebuild, their family and descriptor tags. `tools/make_presets.py` writes the file.

use serde::Deserialize;

use crate::patch::Patch;

/// One preset of the bank.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Preset {
    /// Unique display name.
    pub name: String,
    /// Element role it rebuilds: `bass`, `lead`, `vocals`, `keys`, `guitar`, `other`, `drums`.
    pub role: String,
    /// Sound family (`sub`, `reese`, `pad`, `electric piano`, `drum kit`, …).
    pub family: String,
    /// Descriptor tags (`bright`, `plucky`, `sustained`, …).
    pub tags: Vec<String>,
    /// The patch.
    pub patch: Patch,
}

#[derive(Deserialize)]
struct BankFile {
    format: u32,
    presets: Vec<Preset>,
}

const BANK_JSON: &str = include_str!("../../presets/bank.json");

/// The embedded bank (parsed on each call: keep the result).
pub fn presets() -> Vec<Preset> {
    // The bank is ours and checked by the tests; a broken file is a build defect, so the
    // fallback is an empty bank rather than a panic at run time.
    match serde_json::from_str::<BankFile>(BANK_JSON) {
        Ok(b) if b.format == 1 => b.presets,
        _ => Vec::new(),
    }
}
