//! One chain of a session, ready to run: an element's insert chain (`mix_chain`) or the
//! master chain (`master.chain`), allocated at the host's rate.
//!
//! Loading reads `session.json` (main or loader thread; it allocates and does I/O).

use std::path::PathBuf;
use std::time::SystemTime;

use auralis_engine::fx::master::{Master, MasterSettings};
use auralis_engine::fx::{Chain, ChainSettings};

use crate::instrument::part::{find_element, read_session, SessionRef};

/// The element name that chooses the master chain.
pub const MASTER: &str = "master";

/// What runs.
#[derive(Debug, Clone)]
pub enum Processor {
    /// Nothing chosen (or it failed to load): the sound passes through.
    Through,
    /// An element's insert chain.
    Element(Box<Chain>),
    /// The master chain.
    Master(Box<Master>),
}

/// A loaded chain.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// What was loaded.
    pub source: SessionRef,
    /// Rate it was allocated at.
    pub rate: f32,
    /// The processor.
    pub processor: Processor,
    /// The session's tempo (the echo follows it unless the host plays at another).
    pub bpm: f32,
    /// Modification time of the session file when loaded, for reloading.
    pub stamps: Vec<(PathBuf, Option<SystemTime>)>,
}

impl Loaded {
    /// Passes the sound through.
    pub fn through(rate: f32) -> Self {
        Self {
            source: SessionRef::default(),
            rate,
            processor: Processor::Through,
            bpm: 120.0,
            stamps: Vec::new(),
        }
    }

    /// Samples the processor delays the sound by.
    pub fn latency(&self) -> usize {
        match &self.processor {
            Processor::Through => 0,
            Processor::Element(c) => c.latency(),
            Processor::Master(m) => m.latency(),
        }
    }

    /// Loads the chain `source` names, allocated at `rate`.
    pub fn load(source: &SessionRef, rate: f32) -> Result<Self, String> {
        let (file, doc, stamp) = read_session(source)?;
        let bpm = doc
            .get("tempo")
            .and_then(|t| t.get("bpm"))
            .and_then(|b| b.as_f64())
            .unwrap_or(120.0) as f32;
        let processor = if source.element == MASTER {
            let chain = doc
                .get("master")
                .and_then(|m| m.get("chain"))
                .ok_or_else(|| {
                    format!(
                        "{}: the session has no master chain (run `auralis reconstruct`)",
                        file.display()
                    )
                })?;
            let settings: MasterSettings = serde_json::from_value(chain.clone())
                .map_err(|e| format!("{}: master chain: {e}", file.display()))?;
            let mut m = Box::<Master>::default();
            m.allocate(rate);
            m.set(&settings);
            Processor::Master(m)
        } else {
            let element = find_element(&file, &doc, &source.element)?;
            let chain = element.get("mix_chain").ok_or_else(|| {
                format!(
                    "{}: element {:?} has no mix chain (run `auralis reconstruct`)",
                    file.display(),
                    source.element
                )
            })?;
            let settings: ChainSettings = serde_json::from_value(chain.clone())
                .map_err(|e| format!("{}: {}'s mix chain: {e}", file.display(), source.element))?;
            let mut c = Box::<Chain>::default();
            c.set(&settings);
            c.allocate(rate);
            c.set_tempo(bpm);
            Processor::Element(c)
        };
        Ok(Self {
            source: source.clone(),
            rate,
            processor,
            bpm,
            stamps: vec![(file, stamp)],
        })
    }
}

impl crate::loader::Loadable for Loaded {
    fn load(source: &SessionRef, rate: f32) -> Result<Self, String> {
        Loaded::load(source, rate)
    }

    fn empty(rate: f32) -> Self {
        Loaded::through(rate)
    }

    fn rate(&self) -> f32 {
        self.rate
    }

    fn stamps(&self) -> crate::loader::Stamps {
        self.stamps.clone()
    }
}
