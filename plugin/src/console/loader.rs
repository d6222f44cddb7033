//! Loads the chosen chain off the audio thread and hands it over without blocking, as the
//! Instrument's loader does for parts: a thread polls four times a second for a new choice,
//! a new rate, or a session file changed on disk, loads the chain and leaves it in the
//! [`Slot`]; the audio thread takes it with `try_lock` and leaves the one it replaces for the
//! loader to free.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::chain::Loaded;
use crate::instrument::part::SessionRef;

const POLL: Duration = Duration::from_millis(250);

/// The hand-over between the loader and the audio thread.
#[derive(Debug, Default)]
pub struct Slot {
    pub incoming: Option<Box<Loaded>>,
    pub retired: Option<Box<Loaded>>,
}

#[derive(Debug, Default)]
struct Known {
    source: SessionRef,
    rate: f32,
    stamps: Vec<(PathBuf, Option<SystemTime>)>,
}

/// State shared by the plugin, its loader thread and the audio thread.
#[derive(Debug)]
pub struct Shared {
    /// The chosen session and chain (the persisted field).
    pub session: Arc<RwLock<SessionRef>>,
    pub slot: Mutex<Slot>,
    /// The last load error, empty when the chain loaded.
    pub status: Mutex<String>,
    rate: AtomicU32,
    known: Mutex<Known>,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn stamps_changed(stamps: &[(PathBuf, Option<SystemTime>)]) -> bool {
    stamps
        .iter()
        .any(|(p, t)| std::fs::metadata(p).and_then(|m| m.modified()).ok() != *t)
}

impl Shared {
    pub fn new(session: Arc<RwLock<SessionRef>>) -> Self {
        Self {
            session,
            slot: Mutex::new(Slot::default()),
            status: Mutex::new(String::new()),
            rate: AtomicU32::new(0),
            known: Mutex::new(Known::default()),
            stop: AtomicBool::new(false),
        }
    }

    fn chosen(&self) -> SessionRef {
        self.session.read().map(|s| s.clone()).unwrap_or_default()
    }

    fn load(&self, source: &SessionRef, rate: f32, known: &mut Known) -> Loaded {
        let loaded = if source.is_set() {
            match Loaded::load(source, rate) {
                Ok(l) => {
                    *lock(&self.status) = String::new();
                    l
                }
                Err(message) => {
                    *lock(&self.status) = message;
                    let file = source.session_file();
                    let t = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
                    let mut l = Loaded::through(rate);
                    l.source = source.clone();
                    l.stamps = vec![(file, t)];
                    l
                }
            }
        } else {
            *lock(&self.status) = String::new();
            Loaded::through(rate)
        };
        *known = Known {
            source: source.clone(),
            rate,
            stamps: loaded.stamps.clone(),
        };
        loaded
    }

    /// The chain chosen now, loaded at `rate` (main thread, at activation).
    pub fn load_now(&self, rate: f32) -> Loaded {
        self.rate.store(rate.to_bits(), Ordering::Release);
        let mut known = lock(&self.known);
        let source = self.chosen();
        let loaded = self.load(&source, rate, &mut known);
        let stale = lock(&self.slot).incoming.take();
        drop(stale);
        loaded
    }

    /// One look for changes.
    pub fn poll(&self) {
        let retired = lock(&self.slot).retired.take();
        drop(retired);
        let rate = f32::from_bits(self.rate.load(Ordering::Acquire));
        if rate <= 0.0 {
            return;
        }
        let mut known = lock(&self.known);
        let source = self.chosen();
        if known.source == source && known.rate == rate && !stamps_changed(&known.stamps) {
            return;
        }
        let loaded = Box::new(self.load(&source, rate, &mut known));
        let replaced = lock(&self.slot).incoming.replace(loaded);
        drop(replaced);
    }
}

/// The loader thread; stopped and joined when dropped.
#[derive(Debug)]
pub struct Loader {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Loader {
    pub fn start(shared: Arc<Shared>) -> Self {
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("auralis-console-loader".into())
            .spawn(move || {
                while !s.stop.load(Ordering::Acquire) {
                    s.poll();
                    std::thread::park_timeout(POLL);
                }
            })
            .ok();
        Self { shared, thread }
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
