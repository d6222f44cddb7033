//! Streams a stereo 32-bit float WAV from disk to the audio thread without blocking it.
//!
//! The file is read in chunks of [`CHUNK`] frames into a fixed pool of [`SLOTS`] slots by a
//! reader thread. The audio thread says where it plays (the head) and where the host's loop
//! starts; the reader keeps the chunks from just behind the head to [`AHEAD`] chunks ahead, the
//! first chunks of the loop and of the song in the pool, so that playing on, looping back and
//! starting again never wait for the disk. Each slot is a seqlock over atomics: the reader
//! clears its tag, writes the samples, then publishes the tag; the audio thread reads the tag,
//! the samples, and the tag again, and treats a chunk that changed meanwhile as missing. A
//! missing chunk (a jump to a place not read yet) plays as silence at its own position — the
//! sound is late to come in, never shifted — and is counted; in offline rendering the audio
//! thread waits for the reader instead ([`Stream::read_waiting`]).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Frames per chunk.
pub const CHUNK: usize = 4096;
/// Slots in the pool (8 MB at 4096 stereo frames a slot).
pub const SLOTS: usize = 256;
/// Places kept primed besides the song's start (section starts: where users jump).
pub const MAX_CUES: usize = 48;
/// Chunks kept ahead of the head (about 3.4 s at 48 kHz).
pub const AHEAD: u64 = 40;
/// Chunks kept from the loop's start and from the song's start.
const PRIMED: u64 = 12;
/// How long the reader sleeps when everything wanted is in.
const IDLE: Duration = Duration::from_millis(2);
/// How long an offline render waits for a chunk before giving up on it.
const OFFLINE_WAIT: Duration = Duration::from_secs(2);

const NONE: u64 = u64::MAX;

struct Slot {
    /// Chunk index + 1; 0 while empty or being written.
    tag: AtomicU64,
    /// Interleaved stereo samples as `f32` bits.
    data: Box<[AtomicU32]>,
}

/// State shared by the audio thread and the reader.
pub struct Stream {
    path: PathBuf,
    frames: u64,
    slots: Box<[Slot]>,
    /// The chunk the audio thread plays, or [`NONE`].
    head: AtomicU64,
    /// The chunk the host's loop starts at, or [`NONE`].
    loop_start: AtomicU64,
    stop: AtomicBool,
    /// Chunks of the places users jump to (section starts), kept in.
    cues: Vec<u64>,
    /// Frames played as silence because their chunk was not in.
    missing: AtomicU64,
    /// Chunks read so far.
    reads: AtomicU64,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("path", &self.path)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

/// A stream and its reader thread (stopped and joined when dropped: the loader thread frees
/// it, never the audio thread).
#[derive(Debug)]
pub struct Streamer {
    pub stream: Arc<Stream>,
    thread: Option<JoinHandle<()>>,
}

impl Streamer {
    /// Opens `path` (stereo 32-bit float WAV) and starts its reader; the frames in `cues`
    /// (section starts: where users jump to; at most [`MAX_CUES`]) are kept in memory, with the
    /// song's start.
    pub fn open(path: &Path, cues: &[u64]) -> Result<Self, String> {
        let reader = hound::WavReader::open(path)
            .map_err(|e| format!("{}: cannot read the audio: {e}", path.display()))?;
        let spec = reader.spec();
        if spec.channels != 2 || spec.sample_format != hound::SampleFormat::Float {
            return Err(format!(
                "{}: the stream reads stereo 32-bit float WAV, this is {} channel(s) of {:?}",
                path.display(),
                spec.channels,
                spec.sample_format
            ));
        }
        let frames = u64::from(reader.duration());
        let slots = (0..SLOTS)
            .map(|_| Slot {
                tag: AtomicU64::new(0),
                data: (0..CHUNK * 2).map(|_| AtomicU32::new(0)).collect(),
            })
            .collect();
        let stream = Arc::new(Stream {
            path: path.to_path_buf(),
            frames,
            slots,
            head: AtomicU64::new(0),
            loop_start: AtomicU64::new(NONE),
            cues: {
                let mut c: Vec<u64> = cues.iter().map(|f| f / CHUNK as u64).collect();
                c.sort_unstable();
                c.dedup();
                c.truncate(MAX_CUES);
                c
            },
            stop: AtomicBool::new(false),
            missing: AtomicU64::new(0),
            reads: AtomicU64::new(0),
        });
        // The song's start is in before the audio thread first looks.
        let (mut reader, mut wanted, mut buf) =
            (reader, Vec::with_capacity(SLOTS), vec![0f32; CHUNK * 2]);
        while stream.fill_one(&mut reader, &mut wanted, &mut buf) {}
        let s = stream.clone();
        let thread = std::thread::Builder::new()
            .name("auralis-ab-stream".into())
            .spawn(move || s.run(reader, wanted, buf))
            .map_err(|e| format!("starting the reader thread: {e}"))?;
        Ok(Self {
            stream,
            thread: Some(thread),
        })
    }
}

impl Drop for Streamer {
    fn drop(&mut self) {
        self.stream.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Stream {
    /// Frames in the file.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Frames played as silence so far because the disk had not delivered them.
    pub fn missing(&self) -> u64 {
        self.missing.load(Ordering::Relaxed)
    }

    /// Chunks the reader has read so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Audio thread: where playing goes next (frame), and where the host's loop starts.
    pub fn cue(&self, head: i64, loop_start: Option<i64>) {
        let chunk = |f: i64| {
            if f < 0 {
                0
            } else {
                f as u64 / CHUNK as u64
            }
        };
        self.head.store(chunk(head), Ordering::Relaxed);
        self.loop_start.store(
            loop_start.map_or(NONE, |f| chunk(f.max(0))),
            Ordering::Relaxed,
        );
    }

    /// Audio thread: the frames from `start` into `left`/`right` (silence outside the file and
    /// where a chunk is not in); returns the frames that were missing.
    pub fn read(&self, start: i64, left: &mut [f32], right: &mut [f32]) -> usize {
        self.read_inner(start, left, right, None)
    }

    /// [`Stream::read`] that waits for missing chunks (offline rendering only).
    pub fn read_waiting(&self, start: i64, left: &mut [f32], right: &mut [f32]) -> usize {
        self.read_inner(start, left, right, Some(OFFLINE_WAIT))
    }

    fn read_inner(
        &self,
        start: i64,
        left: &mut [f32],
        right: &mut [f32],
        wait: Option<Duration>,
    ) -> usize {
        let n = left.len().min(right.len());
        let mut missing = 0;
        let mut i = 0;
        while i < n {
            let f = start + i as i64;
            if f < 0 || f as u64 >= self.frames {
                // Outside the file: silence up to where it begins (or to the end).
                let run = if f < 0 {
                    ((-f) as usize).min(n - i)
                } else {
                    n - i
                };
                left[i..i + run].fill(0.0);
                right[i..i + run].fill(0.0);
                i += run;
                continue;
            }
            let f = f as u64;
            let chunk = f / CHUNK as u64;
            let offset = (f % CHUNK as u64) as usize;
            let run = (CHUNK - offset).min(n - i);
            let ok = self.copy(chunk, offset, &mut left[i..i + run], &mut right[i..i + run])
                || wait.is_some_and(|w| {
                    let deadline = Instant::now() + w;
                    self.head.store(chunk, Ordering::Relaxed);
                    loop {
                        if self.copy(chunk, offset, &mut left[i..i + run], &mut right[i..i + run]) {
                            break true;
                        }
                        if Instant::now() > deadline {
                            break false;
                        }
                        std::thread::sleep(Duration::from_micros(200));
                    }
                });
            if !ok {
                left[i..i + run].fill(0.0);
                right[i..i + run].fill(0.0);
                missing += run;
            }
            i += run;
        }
        if missing > 0 {
            self.missing.fetch_add(missing as u64, Ordering::Relaxed);
        }
        missing
    }

    /// Copies frames `offset..` of `chunk` if its slot holds it intact.
    fn copy(&self, chunk: u64, offset: usize, left: &mut [f32], right: &mut [f32]) -> bool {
        let tag = chunk + 1;
        let Some(slot) = self
            .slots
            .iter()
            .find(|s| s.tag.load(Ordering::Acquire) == tag)
        else {
            return false;
        };
        for (j, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
            let k = 2 * (offset + j);
            *l = f32::from_bits(slot.data[k].load(Ordering::Relaxed));
            *r = f32::from_bits(slot.data[k + 1].load(Ordering::Relaxed));
        }
        fence(Ordering::Acquire);
        slot.tag.load(Ordering::Relaxed) == tag
    }

    /// The chunks to keep, most urgent first.
    fn wanted(&self, out: &mut Vec<u64>) {
        out.clear();
        let last = self.frames.div_ceil(CHUNK as u64);
        let add = |c: u64, out: &mut Vec<u64>| {
            if c < last && !out.contains(&c) && out.len() < SLOTS {
                out.push(c);
            }
        };
        let head = self.head.load(Ordering::Relaxed);
        if head != NONE {
            for c in head..head + 4 {
                add(c, out);
            }
        }
        let ls = self.loop_start.load(Ordering::Relaxed);
        if ls != NONE {
            for c in ls..ls + 4 {
                add(c, out);
            }
        }
        for c in 0..4 {
            add(c, out);
        }
        if head != NONE {
            add(head.saturating_sub(1), out);
            for c in head + 4..head + AHEAD {
                add(c, out);
            }
        }
        if ls != NONE {
            for c in ls + 4..ls + PRIMED {
                add(c, out);
            }
        }
        for c in 4..PRIMED {
            add(c, out);
        }
        // The chunk before each cue too: a compensation delay reads a little earlier.
        for &c in &self.cues {
            add(c.saturating_sub(1), out);
            add(c, out);
            add(c + 1, out);
        }
    }

    /// Reads the most urgent wanted chunk that is not in; false when all are in.
    fn fill_one(
        &self,
        reader: &mut hound::WavReader<BufReader<File>>,
        wanted: &mut Vec<u64>,
        buf: &mut [f32],
    ) -> bool {
        self.wanted(wanted);
        let mut held = [0u64; SLOTS];
        for (h, s) in held.iter_mut().zip(self.slots.iter()) {
            *h = s.tag.load(Ordering::Relaxed);
        }
        let Some(&chunk) = wanted.iter().find(|&&c| !held.contains(&(c + 1))) else {
            return false;
        };
        // A slot holding nothing wanted.
        let Some(slot) = held
            .iter()
            .position(|&t| t == 0 || !wanted.contains(&(t - 1)))
        else {
            return false;
        };
        let start = chunk * CHUNK as u64;
        let frames = (self.frames - start).min(CHUNK as u64) as usize;
        buf.fill(0.0);
        let ok = reader.seek(start as u32).is_ok()
            && reader
                .samples::<f32>()
                .take(frames * 2)
                .zip(buf.iter_mut())
                .all(|(s, b)| match s {
                    Ok(v) => {
                        *b = v;
                        true
                    }
                    Err(_) => false,
                });
        if !ok {
            // A file cut short or replaced under us: the loader sees the change and reloads;
            // until then the chunk plays as silence.
            return false;
        }
        let s = &self.slots[slot];
        s.tag.store(0, Ordering::Relaxed);
        fence(Ordering::Release);
        for (d, v) in s.data.iter().zip(buf.iter()) {
            d.store(v.to_bits(), Ordering::Relaxed);
        }
        s.tag.store(chunk + 1, Ordering::Release);
        self.reads.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// The reader thread.
    fn run(
        self: Arc<Self>,
        mut reader: hound::WavReader<BufReader<File>>,
        mut wanted: Vec<u64>,
        mut buf: Vec<f32>,
    ) {
        while !self.stop.load(Ordering::Acquire) {
            if !self.fill_one(&mut reader, &mut wanted, &mut buf) {
                std::thread::park_timeout(IDLE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, frames: usize) -> Vec<f32> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        let data: Vec<f32> = (0..frames * 2).map(|i| i as f32 * 1e-6).collect();
        for &x in &data {
            w.write_sample(x).unwrap();
        }
        w.finalize().unwrap();
        data
    }

    fn wait_for(stream: &Stream, start: i64, n: usize) -> (Vec<f32>, Vec<f32>) {
        let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
        let deadline = Instant::now() + Duration::from_secs(5);
        while stream.read(start, &mut l, &mut r) > 0 {
            assert!(Instant::now() < deadline, "chunks at {start} never came");
            std::thread::sleep(Duration::from_millis(1));
        }
        (l, r)
    }

    #[test]
    fn every_frame_comes_back_at_its_position() {
        let dir = std::env::temp_dir().join(format!("auralis-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.wav");
        let frames = CHUNK * 150 + 77;
        let data = write(&path, frames);
        let s = Streamer::open(&path, &[]).unwrap();
        assert_eq!(s.stream.frames(), frames as u64);
        // Across chunk borders, before the start and past the end.
        for start in [-100i64, 0, 4000, 20_000, (frames - 50) as i64, 300_000] {
            s.stream.cue(start, None);
            let (l, r) = wait_for(&s.stream, start, 1000);
            for i in 0..1000 {
                let f = start + i as i64;
                let (wl, wr) = if f < 0 || f >= frames as i64 {
                    (0.0, 0.0)
                } else {
                    (data[2 * f as usize], data[2 * f as usize + 1])
                };
                assert_eq!((l[i], r[i]), (wl, wr), "frame {f}");
            }
        }
        // The song's start and the loop's start stay in while the head is far away.
        s.stream
            .cue((CHUNK * 100) as i64, Some((CHUNK * 60) as i64));
        wait_for(&s.stream, (CHUNK * 100) as i64, 64);
        let settle = Instant::now() + Duration::from_secs(5);
        loop {
            let (mut l, mut r) = (vec![0.0; 64], vec![0.0; 64]);
            let a = s.stream.read(0, &mut l, &mut r);
            let b = s.stream.read((CHUNK * 60) as i64, &mut l, &mut r);
            if a == 0 && b == 0 {
                break;
            }
            assert!(Instant::now() < settle, "primed chunks never came");
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(s);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_offline_read_waits_for_the_disk() {
        let dir = std::env::temp_dir().join(format!("auralis-stream-off-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.wav");
        let frames = CHUNK * 200;
        let data = write(&path, frames);
        let s = Streamer::open(&path, &[]).unwrap();
        let start = (CHUNK * 150 + 3) as i64;
        let (mut l, mut r) = (vec![0.0; 512], vec![0.0; 512]);
        assert_eq!(s.stream.read_waiting(start, &mut l, &mut r), 0);
        assert_eq!(l[0], data[2 * start as usize]);
        drop(s);
        std::fs::remove_dir_all(&dir).ok();
    }
}
