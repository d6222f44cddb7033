//! Loads the chosen element off the audio thread and hands it over without blocking.
//!
//! A loader thread per plugin instance polls four times a second: when the chosen session or
//! element changed (a state load, the editor), the rate changed, or a file it came from was
//! modified on disk (the analyzer ran another iteration), it loads the part again and leaves it
//! in the [`Slot`]. The audio thread takes it with `try_lock` (never waits) and leaves the part
//! it replaces in the slot, for the loader to free: the audio thread neither allocates nor
//! frees.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::part::{Part, SessionRef};

/// How often the loader looks for changes.
const POLL: Duration = Duration::from_millis(250);

/// The hand-over between the loader and the audio thread.
#[derive(Debug, Default)]
pub struct Slot {
    /// A part waiting to be played.
    pub incoming: Option<Box<Part>>,
    /// A part the audio thread is done with.
    pub retired: Option<Box<Part>>,
}

/// What was last loaded (or tried): the loader compares against it.
#[derive(Debug, Default)]
struct Known {
    source: SessionRef,
    rate: f32,
    /// Files and their modification times when loaded.
    stamps: Vec<(PathBuf, Option<SystemTime>)>,
}

/// State shared by the plugin, its loader thread and the audio thread.
#[derive(Debug)]
pub struct Shared {
    /// The chosen session and element (the persisted parameter field).
    pub session: Arc<RwLock<SessionRef>>,
    /// Parts on their way in and out of the audio thread.
    pub slot: Mutex<Slot>,
    /// The last load error, empty when the part loaded.
    pub status: Mutex<String>,
    /// The plugin's sample rate as `f32` bits; 0 before activation.
    rate: AtomicU32,
    known: Mutex<Known>,
    stop: AtomicBool,
}

impl Shared {
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

    fn rate(&self) -> f32 {
        f32::from_bits(self.rate.load(Ordering::Acquire))
    }

    /// The part chosen now, loaded at `rate` (main thread, at activation): errors give an empty
    /// part and are kept in `status`. Whatever the loader had queued is dropped.
    pub fn load_now(&self, rate: f32) -> Part {
        self.rate.store(rate.to_bits(), Ordering::Release);
        let mut known = lock(&self.known);
        let source = self.chosen();
        let part = self.load(&source, rate, &mut known);
        let stale = lock(&self.slot).incoming.take();
        drop(stale);
        part
    }

    fn chosen(&self) -> SessionRef {
        self.session.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Loads `source`, records what was loaded in `known`.
    fn load(&self, source: &SessionRef, rate: f32, known: &mut Known) -> Part {
        let (part, stamps) = if !source.is_set() {
            *lock(&self.status) = String::new();
            (Part::empty(rate), Vec::new())
        } else {
            match Part::load(source, rate) {
                Ok(p) => {
                    *lock(&self.status) = String::new();
                    let stamps = p.stamps.clone();
                    (p, stamps)
                }
                Err(message) => {
                    *lock(&self.status) = message;
                    // Watch the session file, so fixing it (or writing it) retries.
                    let file = source.session_file();
                    let t = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
                    let mut p = Part::empty(rate);
                    p.source = source.clone();
                    (p, vec![(file, t)])
                }
            }
        };
        *known = Known {
            source: source.clone(),
            rate,
            stamps,
        };
        part
    }

    /// One look for changes (the loader thread's step; also callable from tests).
    pub fn poll(&self) {
        let retired = lock(&self.slot).retired.take();
        drop(retired);
        let mut known = lock(&self.known);
        let rate = self.rate();
        if rate <= 0.0 {
            return;
        }
        let source = self.chosen();
        let changed_files = known
            .stamps
            .iter()
            .any(|(p, t)| std::fs::metadata(p).and_then(|m| m.modified()).ok() != *t);
        let same = known.source == source && known.rate == rate;
        if same && !changed_files {
            return;
        }
        if same && source.is_set() {
            // A file of the playing part changed: a part that fails to load now (a file
            // half-edited by hand) leaves the current one playing, and is tried again when
            // one of its files changes again.
            match Part::load(&source, rate) {
                Ok(part) => {
                    *lock(&self.status) = String::new();
                    known.stamps = part.stamps.clone();
                    let replaced = lock(&self.slot).incoming.replace(Box::new(part));
                    drop(replaced);
                }
                Err(message) => {
                    *lock(&self.status) = message;
                    for (path, t) in known.stamps.iter_mut() {
                        *t = std::fs::metadata(&*path).and_then(|m| m.modified()).ok();
                    }
                }
            }
            return;
        }
        let part = Box::new(self.load(&source, rate, &mut known));
        let replaced = lock(&self.slot).incoming.replace(part);
        drop(replaced);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The loader thread; stopped and joined when dropped.
#[derive(Debug)]
pub struct Loader {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Loader {
    /// Starts the thread.
    pub fn start(shared: Arc<Shared>) -> Self {
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("auralis-instrument-loader".into())
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
