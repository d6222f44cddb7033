//! Loads what a plugin plays (a part, a chain, the original track) off the audio thread and
//! hands it over without blocking; shared by every AURALIS plugin.
//!
//! A loader thread per plugin instance polls four times a second: when the chosen session or
//! element changed (a state load, the editor), the rate changed, or a file the loaded thing
//! came from was modified on disk (the analyzer ran another iteration), it loads again and
//! leaves the result in the [`Slot`]. The audio thread takes it with `try_lock` (never waits)
//! and leaves the one it replaces in the slot for the loader to free: the audio thread neither
//! allocates nor frees.
//!
//! A failed load of a new choice gives the empty value (the error is kept in `status`) and
//! watches the session file, so fixing or writing it retries. A failed reload of what plays
//! (a file half-written by hand) leaves it playing, and is tried again when a file changes
//! again.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::instrument::part::SessionRef;

/// How often the loader looks for changes.
const POLL: Duration = Duration::from_millis(250);

/// Files and their modification times when loaded.
pub type Stamps = Vec<(PathBuf, Option<SystemTime>)>;

/// The modification time of `path`, if it has one.
pub fn stamp(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// What a plugin loads from a session.
pub trait Loadable: Send + Sync + Sized + 'static {
    /// Loads `source` at `rate` (loader or main thread: allocation and I/O are fine).
    fn load(source: &SessionRef, rate: f32) -> Result<Self, String>;
    /// Nothing to play at `rate`.
    fn empty(rate: f32) -> Self;
    /// The rate it was made for.
    fn rate(&self) -> f32;
    /// The files it came from, with their modification times when loaded.
    fn stamps(&self) -> Stamps;
}

/// The hand-over between the loader and the audio thread.
#[derive(Debug)]
pub struct Slot<T> {
    /// Loaded, waiting to be played.
    pub incoming: Option<Box<T>>,
    /// What the audio thread is done with.
    pub retired: Option<Box<T>>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self {
            incoming: None,
            retired: None,
        }
    }
}

/// What was last loaded (or tried): the loader compares against it.
#[derive(Debug, Default)]
struct Known {
    source: SessionRef,
    rate: f32,
    stamps: Stamps,
}

/// State shared by the plugin, its loader thread and the audio thread.
#[derive(Debug)]
pub struct Shared<T> {
    /// The chosen session and element (the persisted parameter field).
    pub session: Arc<RwLock<SessionRef>>,
    /// What is on its way in and out of the audio thread.
    pub slot: Mutex<Slot<T>>,
    /// The last load error, empty when the load succeeded.
    pub status: Mutex<String>,
    /// The plugin's sample rate as `f32` bits; 0 before activation.
    rate: AtomicU32,
    known: Mutex<Known>,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn changed(stamps: &Stamps) -> bool {
    stamps.iter().any(|(p, t)| stamp(p) != *t)
}

impl<T: Loadable> Shared<T> {
    /// Shared state for the persisted `session` field.
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

    /// The last load error, empty when the load succeeded.
    pub fn status(&self) -> String {
        lock(&self.status).clone()
    }

    /// Loads `source`, records what was loaded in `known`.
    fn load(&self, source: &SessionRef, rate: f32, known: &mut Known) -> T {
        let (value, stamps) = if !source.is_set() {
            *lock(&self.status) = String::new();
            (T::empty(rate), Vec::new())
        } else {
            match T::load(source, rate) {
                Ok(v) => {
                    *lock(&self.status) = String::new();
                    let stamps = v.stamps();
                    (v, stamps)
                }
                Err(message) => {
                    *lock(&self.status) = message;
                    let file = source.session_file();
                    let t = stamp(&file);
                    (T::empty(rate), vec![(file, t)])
                }
            }
        };
        *known = Known {
            source: source.clone(),
            rate,
            stamps,
        };
        value
    }

    /// What is chosen now, loaded at `rate` (main thread, at activation): errors give the
    /// empty value and are kept in `status`. Whatever the loader had queued is dropped.
    pub fn load_now(&self, rate: f32) -> T {
        self.rate.store(rate.to_bits(), Ordering::Release);
        let mut known = lock(&self.known);
        let source = self.chosen();
        let value = self.load(&source, rate, &mut known);
        let stale = lock(&self.slot).incoming.take();
        drop(stale);
        value
    }

    /// One look for changes (the loader thread's step; also callable from tests).
    pub fn poll(&self) {
        let retired = lock(&self.slot).retired.take();
        drop(retired);
        let rate = f32::from_bits(self.rate.load(Ordering::Acquire));
        if rate <= 0.0 {
            return;
        }
        let mut known = lock(&self.known);
        let source = self.chosen();
        let same = known.source == source && known.rate == rate;
        if same && !changed(&known.stamps) {
            return;
        }
        if same && source.is_set() {
            match T::load(&source, rate) {
                Ok(value) => {
                    *lock(&self.status) = String::new();
                    known.stamps = value.stamps();
                    let replaced = lock(&self.slot).incoming.replace(Box::new(value));
                    drop(replaced);
                }
                Err(message) => {
                    *lock(&self.status) = message;
                    for (path, t) in known.stamps.iter_mut() {
                        *t = stamp(path);
                    }
                }
            }
            return;
        }
        let value = Box::new(self.load(&source, rate, &mut known));
        let replaced = lock(&self.slot).incoming.replace(value);
        drop(replaced);
    }

    /// Audio thread: if the slot is free this instant and holds a value made at `rate`,
    /// `swap` receives it and returns the one it replaces, which is left for the loader to
    /// free. Returns whether a value came in. Never blocks, allocates or frees.
    pub fn exchange(&self, rate: f32, swap: impl FnOnce(Box<T>) -> Box<T>) -> bool {
        let mut slot = match self.slot.try_lock() {
            Ok(slot) => slot,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        if slot.retired.is_some() {
            return false;
        }
        let Some(new) = slot.incoming.take() else {
            return false;
        };
        if new.rate() != rate {
            // Made for another rate: the loader will make it again.
            slot.retired = Some(new);
            return false;
        }
        slot.retired = Some(swap(new));
        true
    }
}

/// The loader thread; stopped and joined when dropped.
#[derive(Debug)]
pub struct Loader<T: Loadable> {
    shared: Arc<Shared<T>>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Loadable> Loader<T> {
    /// Starts the thread (`name` shows in debuggers and profilers).
    pub fn start(shared: Arc<Shared<T>>, name: &str) -> Self {
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while !s.stop.load(Ordering::Acquire) {
                    s.poll();
                    std::thread::park_timeout(POLL);
                }
            })
            .ok();
        Self { shared, thread }
    }

    /// Looks for changes now instead of at the next poll.
    pub fn wake(&self) {
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }
}

impl<T: Loadable> Drop for Loader<T> {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
