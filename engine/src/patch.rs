//! The patch format shared by presets, sessions and plugin state.
//!
//! ```json
//! { "format": 1, "name": "Warm saw bass",
//!   "params": { "osc1_wave": "saw", "filter_cutoff_hz": 420.0, "amp_release_ms": 80.0 } }
//! ```
//! Values are named by the parameter's stable id ([`crate::params`]); choices by the option's
//! name. A parameter the patch does not name takes its default, so patches written before a
//! parameter existed keep sounding the same as long as the new parameter's default is neutral.
//! `format` is the format's version: a newer one is refused with [`Error::Format`], an older
//! one is migrated by [`Patch::values`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::params::{index_of, Kind, Values, SPECS};

/// The patch format this engine writes (and the newest it reads).
pub const PATCH_FORMAT: u32 = 1;

/// A stored value: a number, or a choice's option name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A number in the parameter's unit.
    Number(f32),
    /// The name of a choice parameter's option.
    Choice(String),
}

/// A synth patch as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// Format version ([`PATCH_FORMAT`]).
    pub format: u32,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Values by parameter id; absent ones take their defaults.
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
}

impl Default for Patch {
    fn default() -> Self {
        Self {
            format: PATCH_FORMAT,
            name: String::new(),
            params: BTreeMap::new(),
        }
    }
}

impl Patch {
    /// The dense values this patch sets (defaults for what it leaves out).
    ///
    /// Errors name the parameter: an id this engine does not know, a choice option it does not
    /// know, a number that is not finite or lies outside the parameter's range, or a format
    /// newer than [`PATCH_FORMAT`].
    pub fn values(&self) -> Result<Values> {
        if self.format > PATCH_FORMAT || self.format == 0 {
            return Err(Error::Format {
                found: self.format,
                newest: PATCH_FORMAT,
            });
        }
        let mut out = Values::default();
        for (id, value) in &self.params {
            let i = index_of(id).ok_or_else(|| Error::UnknownParam(id.clone()))?;
            let spec = &SPECS[i];
            out.0[i] = match (value, spec.kind) {
                (Value::Choice(name), Kind::Choice { options, .. }) => options
                    .iter()
                    .position(|o| o == name)
                    .ok_or_else(|| Error::UnknownOption {
                        param: id.clone(),
                        option: name.clone(),
                    })?
                    as f32,
                (Value::Number(x), Kind::Choice { .. }) | (Value::Number(x), _) => {
                    let (lo, hi) = spec.range();
                    if !x.is_finite() || *x < lo || *x > hi {
                        return Err(Error::OutOfRange {
                            param: id.clone(),
                            value: *x,
                            min: lo,
                            max: hi,
                        });
                    }
                    spec.clamp(*x)
                }
                (Value::Choice(name), _) => {
                    return Err(Error::UnknownOption {
                        param: id.clone(),
                        option: name.clone(),
                    })
                }
            };
        }
        Ok(out)
    }

    /// A patch that stores every value of `values` that differs from its default.
    pub fn from_values(name: &str, values: &Values) -> Self {
        let defaults = Values::default();
        let mut params = BTreeMap::new();
        for (i, spec) in SPECS.iter().enumerate() {
            let v = values.0[i];
            if v == defaults.0[i] {
                continue;
            }
            let stored = match spec.kind {
                Kind::Choice { options, .. } => {
                    Value::Choice(options[(v.max(0.0) as usize).min(options.len() - 1)].into())
                }
                _ => Value::Number(v),
            };
            params.insert(spec.id.to_string(), stored);
        }
        Self {
            format: PATCH_FORMAT,
            name: name.to_string(),
            params,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::P;

    #[test]
    fn values_round_trip_through_json() {
        let mut v = Values::default();
        v.set(P::Osc1Wave, 3.0);
        v.set(P::FilterCutoff, 420.0);
        v.set(P::AmpRelease, 80.0);
        let patch = Patch::from_values("test", &v);
        let json = serde_json::to_string(&patch).unwrap();
        assert!(json.contains("\"osc1_wave\":\"pulse\""), "{json}");
        let back: Patch = serde_json::from_str(&json).unwrap();
        assert_eq!(back.values().unwrap(), v);
    }

    #[test]
    fn bad_patches_are_refused_with_the_parameter_named() {
        let parse = |s: &str| serde_json::from_str::<Patch>(s).unwrap().values();
        let e = parse(r#"{"format":1,"params":{"cutoff":3}}"#).unwrap_err();
        assert!(e.to_string().contains("cutoff"), "{e}");
        let e = parse(r#"{"format":1,"params":{"osc1_wave":"kazoo"}}"#).unwrap_err();
        assert!(e.to_string().contains("kazoo"), "{e}");
        let e = parse(r#"{"format":1,"params":{"filter_cutoff_hz":1e9}}"#).unwrap_err();
        assert!(e.to_string().contains("filter_cutoff_hz"), "{e}");
        let e = parse(r#"{"format":99}"#).unwrap_err();
        assert!(matches!(e, Error::Format { found: 99, .. }), "{e}");
        // Absent values take their defaults.
        assert_eq!(parse(r#"{"format":1}"#).unwrap(), Values::default());
    }
}
