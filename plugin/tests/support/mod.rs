//! A small CLAP host for the tests (and the CPU benchmark): loads the bundled plugin
//! in-process with clack-host, plays blocks with notes, parameter changes and a transport, and
//! saves and loads state.

#![allow(dead_code)]

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use clack_extensions::state::PluginState;
use clack_host::events::event_types::{
    NoteOffEvent, NoteOnEvent, ParamValueEvent, TransportEvent, TransportFlags,
};
use clack_host::events::{EventFlags, Match};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};
use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

/// The Instrument's CLAP id.
pub const INSTRUMENT_ID: &CStr = c"audio.auralis.instrument";

/// Bundles the plugin as `cargo xtask bundle auralis-plugin` does (once per test binary:
/// `cargo test` builds the crate's rlib for the tests, not its cdylib) and returns the `.clap`.
pub fn plugin_path() -> PathBuf {
    static BUNDLED: OnceLock<PathBuf> = OnceLock::new();
    BUNDLED
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let out = Command::new(env!("CARGO"))
                .current_dir(&root)
                .args(["xtask", "bundle", "auralis-plugin"])
                .output()
                .expect("running cargo xtask bundle");
            assert!(
                out.status.success(),
                "cargo xtask bundle auralis-plugin failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            // target/<profile>/deps/<test> → target/bundled
            let exe = std::env::current_exe().unwrap();
            let target = exe.parent().unwrap().parent().unwrap().parent().unwrap();
            let clap = target.join("bundled").join("AURALIS.clap");
            assert!(clap.is_file(), "{} was not written", clap.display());
            let vst3 = target.join("bundled/AURALIS.vst3/Contents/x86_64-linux/AURALIS.so");
            assert!(vst3.is_file(), "{} was not written", vst3.display());
            clap
        })
        .clone()
}

/// Loads the plugin entry (keep it alive while instances exist).
pub fn entry() -> PluginEntry {
    entry_at(&plugin_path())
}

/// Loads the plugin entry from `path`.
pub fn entry_at(path: &Path) -> PluginEntry {
    unsafe { PluginEntry::load(path) }
        .unwrap_or_else(|e| panic!("loading {}: {e:?}", path.display()))
}

/// A host that answers every callback with nothing.
pub struct Quiet;

/// The shared part of [`Quiet`].
pub struct QuietShared;

impl SharedHandler<'_> for QuietShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

impl HostHandlers for Quiet {
    type Shared<'a> = QuietShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        // A window to embed editors in (the editor test gives one; the others never open it).
        builder.register::<clack_extensions::gui::HostGui>();
    }
}

impl clack_extensions::gui::HostGuiImpl for QuietShared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _new_size: clack_extensions::gui::GuiSize) -> Result<(), HostError> {
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

/// A new instance of the plugin `id`.
pub fn instance(entry: &PluginEntry, id: &CStr) -> PluginInstance<Quiet> {
    let info = HostInfo::new("AURALIS tests", "AURALIS", "", "0").unwrap();
    PluginInstance::<Quiet>::new(|_| QuietShared, |_| (), entry, id, &info)
        .unwrap_or_else(|e| panic!("instantiating {id:?}: {e:?}"))
}

/// nice-plug's CLAP id of a parameter id.
pub fn param_id(id: &str) -> ClapId {
    let mut h: u32 = 0;
    for b in id.bytes() {
        h = h.wrapping_mul(31).wrapping_add(b as u32);
    }
    ClapId::new(h & 0x7fff_ffff)
}

/// What the host sends in one block.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Frames.
    pub len: usize,
    /// Notes: (offset, key, velocity 0..1 or `None` for a note-off).
    pub notes: Vec<(u32, u16, Option<f64>)>,
    /// Parameter changes: (offset, id, CLAP value).
    pub params: Vec<(u32, ClapId, f64)>,
    /// The transport: `None` stopped, else (position in samples, tempo).
    pub transport: Option<(i64, f64)>,
}

fn transport(rate: f64, t: Option<(i64, f64)>) -> TransportEvent {
    match t {
        Some((pos, tempo)) => transport_at(
            rate,
            &HostTransport {
                pos,
                tempo,
                playing: true,
                looping: None,
            },
        ),
        None => transport_at(
            rate,
            &HostTransport {
                pos: 0,
                tempo: 120.0,
                playing: false,
                looping: None,
            },
        ),
    }
}

/// The host's transport at the start of a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostTransport {
    /// Position, samples.
    pub pos: i64,
    /// Tempo, BPM.
    pub tempo: f64,
    /// Whether it plays.
    pub playing: bool,
    /// The active loop, samples `[start, end)`.
    pub looping: Option<(i64, i64)>,
}

fn transport_at(rate: f64, t: &HostTransport) -> TransportEvent {
    let seconds = t.pos as f64 / rate;
    let beats = |samples: i64| samples as f64 / rate * t.tempo / 60.0;
    let mut flags = TransportFlags::HAS_TEMPO
        | TransportFlags::HAS_BEATS_TIMELINE
        | TransportFlags::HAS_SECONDS_TIMELINE
        | TransportFlags::HAS_TIME_SIGNATURE;
    if t.playing {
        flags |= TransportFlags::IS_PLAYING;
    }
    let (ls, le) = t.looping.unwrap_or((0, 0));
    if t.looping.is_some() {
        flags |= TransportFlags::IS_LOOP_ACTIVE;
    }
    TransportEvent {
        header: EventHeader::new_core(0, EventFlags::empty()),
        flags,
        song_pos_beats: BeatTime::from_float(seconds * t.tempo / 60.0),
        song_pos_seconds: SecondsTime::from_float(seconds),
        tempo: t.tempo,
        tempo_inc: 0.0,
        loop_start_beats: BeatTime::from_float(beats(ls)),
        loop_end_beats: BeatTime::from_float(beats(le)),
        loop_start_seconds: SecondsTime::from_float(ls as f64 / rate),
        loop_end_seconds: SecondsTime::from_float(le as f64 / rate),
        bar_start: BeatTime::from_float(0.0),
        bar_number: 0,
        time_signature_numerator: 4,
        time_signature_denominator: 4,
    }
}

/// Activates `instance` at `rate` (blocks up to `max_block`), processes `blocks` on an audio
/// thread, deactivates; returns the stereo output.
pub fn play(
    instance: &mut PluginInstance<Quiet>,
    rate: f64,
    max_block: u32,
    blocks: &[Block],
) -> [Vec<f32>; 2] {
    play_with(instance, rate, max_block, blocks, &mut |_| {})
}

/// [`play`], calling `before(i)` on the audio thread before block `i`.
pub fn play_with(
    instance: &mut PluginInstance<Quiet>,
    rate: f64,
    max_block: u32,
    blocks: &[Block],
    before: &mut (dyn FnMut(usize) + Send),
) -> [Vec<f32>; 2] {
    let config = PluginAudioConfiguration {
        sample_rate: rate,
        min_frames_count: 1,
        max_frames_count: max_block,
    };
    let stopped = instance
        .activate(|_, _| (), config)
        .unwrap_or_else(|e| panic!("activating: {e:?}"));
    let (out, stopped) = std::thread::scope(|s| {
        s.spawn(move || {
            let mut audio = stopped.start_processing().expect("start_processing");
            let total: usize = blocks.iter().map(|b| b.len).sum();
            let mut out = [Vec::with_capacity(total), Vec::with_capacity(total)];
            let mut ports = AudioPorts::with_capacity(2, 1);
            let mut left = vec![0.0f32; max_block as usize];
            let mut right = vec![0.0f32; max_block as usize];
            let mut events = EventBuffer::with_capacity(256);
            for (i, b) in blocks.iter().enumerate() {
                before(i);
                assert!(b.len <= max_block as usize && b.len > 0);
                // Garbage in the output buffers: the plugin must write every sample.
                left.fill(f32::NAN);
                right.fill(f32::NAN);
                events.clear();
                let mut timed: Vec<(u32, u8, usize)> = Vec::new();
                for (i, p) in b.params.iter().enumerate() {
                    timed.push((p.0, 0, i));
                }
                for (i, n) in b.notes.iter().enumerate() {
                    timed.push((n.0, 1, i));
                }
                timed.sort();
                for (_, kind, i) in timed {
                    if kind == 0 {
                        let (at, id, v) = b.params[i];
                        events.push(&ParamValueEvent::new(at, id, Pckn::match_all(), v));
                    } else {
                        let (at, key, vel) = b.notes[i];
                        let pckn = Pckn::new(0u16, 0u16, key, Match::<u32>::All);
                        match vel {
                            Some(v) => events.push(&NoteOnEvent::new(at, pckn, v)),
                            None => events.push(&NoteOffEvent::new(at, pckn, 0.0)),
                        }
                    }
                }
                let t = transport(rate, b.transport);
                let mut output = ports.with_output_buffers([AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_output_only(
                        [&mut left[..b.len], &mut right[..b.len]].into_iter(),
                    ),
                }]);
                audio
                    .process(
                        &InputAudioBuffers::empty(),
                        &mut output,
                        &InputEvents::from_buffer(&events),
                        &mut OutputEvents::void(),
                        None,
                        Some(&t),
                    )
                    .expect("process");
                out[0].extend_from_slice(&left[..b.len]);
                out[1].extend_from_slice(&right[..b.len]);
            }
            (out, audio.stop_processing())
        })
        .join()
        .unwrap()
    });
    instance.deactivate(stopped);
    out
}

/// Blocks of `block` frames covering `total` frames with the transport playing from `start`.
pub fn playing(start: i64, total: usize, block: usize, tempo: f64) -> Vec<Block> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < total {
        let len = block.min(total - at);
        out.push(Block {
            len,
            transport: Some((start + at as i64, tempo)),
            ..Block::default()
        });
        at += len;
    }
    out
}

/// The plugin's saved state.
pub fn save(instance: &mut PluginInstance<Quiet>) -> Vec<u8> {
    let handle = instance.plugin_handle();
    let state: PluginState = handle.get_extension().expect("no state extension");
    let mut bytes = Vec::new();
    state.save(&handle, &mut bytes).expect("saving state");
    bytes
}

/// Loads a saved state.
pub fn load(instance: &mut PluginInstance<Quiet>, bytes: &[u8]) {
    let handle = instance.plugin_handle();
    let state: PluginState = handle.get_extension().expect("no state extension");
    state
        .load(&handle, &mut std::io::Cursor::new(bytes))
        .expect("loading state");
}

/// nice-plug's state: a little-endian u64 length, then JSON (`{version, params, fields}`).
pub fn state_json(bytes: &[u8]) -> serde_json::Value {
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[8..8 + len]).expect("state JSON")
}

/// The state bytes of `json`.
pub fn state_bytes(json: &serde_json::Value) -> Vec<u8> {
    let body = serde_json::to_vec(json).unwrap();
    let mut out = (body.len() as u64).to_le_bytes().to_vec();
    out.extend(body);
    out
}

/// Points `instance` at `element` of the session in `dir` through its saved state (as a DAW
/// project does).
pub fn choose(instance: &mut PluginInstance<Quiet>, dir: &std::path::Path, element: &str) {
    let mut state = state_json(&save(instance));
    state["fields"]["session"] = serde_json::Value::String(
        serde_json::json!({"path": dir.to_str().unwrap(), "element": element}).to_string(),
    );
    load(instance, &state_bytes(&state));
}

/// A MIDI file at 120 BPM (480 ticks per quarter) with `notes` (start s, end s, key, velocity).
pub fn midi_file(notes: &[(f64, f64, u8, u8)]) -> Vec<u8> {
    let tick = |s: f64| (s * 960.0).round() as u64;
    let mut timed: Vec<(u64, bool, u8, u8)> = Vec::new();
    for &(a, b, key, vel) in notes {
        timed.push((tick(a), true, key, vel));
        timed.push((tick(b), false, key, 0));
    }
    timed.sort_by_key(|t| (t.0, t.1));
    let mut track = vec![TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(500_000))),
    }];
    let mut last = 0;
    for (t, on, key, vel) in timed {
        let (key, vel) = (u7::new(key), u7::new(vel));
        track.push(TrackEvent {
            delta: u28::new((t - last) as u32),
            kind: TrackEventKind::Midi {
                channel: u4::new(0),
                message: if on {
                    MidiMessage::NoteOn { key, vel }
                } else {
                    MidiMessage::NoteOff { key, vel }
                },
            },
        });
        last = t;
    }
    track.push(TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    let smf = Smf {
        header: Header::new(Format::SingleTrack, Timing::Metrical(u15::new(480))),
        tracks: vec![track],
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes).unwrap();
    bytes
}

/// The Console's CLAP id.
pub const CONSOLE_ID: &CStr = c"audio.auralis.console";

/// Activates an effect `instance` at `rate`, feeds it `input` (and `sidechain` on its aux
/// port, silence without one) in blocks of the given lengths with the parameter changes at
/// each block's start, the transport playing at `tempo`; returns the stereo output.
pub fn play_effect(
    instance: &mut PluginInstance<Quiet>,
    rate: f64,
    input: [&[f32]; 2],
    sidechain: Option<[&[f32]; 2]>,
    blocks: &[(usize, Vec<(ClapId, f64)>)],
    tempo: f64,
) -> [Vec<f32>; 2] {
    let mut at = 0i64;
    let blocks: Vec<EffectBlock> = blocks
        .iter()
        .map(|(len, params)| {
            let b = EffectBlock {
                len: *len,
                params: params.clone(),
                transport: HostTransport {
                    pos: at,
                    tempo,
                    playing: true,
                    looping: None,
                },
            };
            at += *len as i64;
            b
        })
        .collect();
    run_effect(instance, rate, input, true, sidechain, &blocks, &mut |_| {})
}

/// One block for an effect: its length, the parameter changes at its start, the transport.
#[derive(Debug, Clone)]
pub struct EffectBlock {
    pub len: usize,
    pub params: Vec<(ClapId, f64)>,
    pub transport: HostTransport,
}

/// Activates an effect `instance` at `rate` and plays `blocks`, the input (and, with `aux`,
/// `sidechain` on the aux port, silence without one) read on from block to block whatever the
/// transport says; calls `before(i)` on the audio thread before block `i`; returns the stereo
/// output.
pub fn run_effect(
    instance: &mut PluginInstance<Quiet>,
    rate: f64,
    input: [&[f32]; 2],
    aux: bool,
    sidechain: Option<[&[f32]; 2]>,
    blocks: &[EffectBlock],
    before: &mut (dyn FnMut(usize) + Send),
) -> [Vec<f32>; 2] {
    let max_block = blocks.iter().map(|b| b.len).max().unwrap_or(1) as u32;
    let config = PluginAudioConfiguration {
        sample_rate: rate,
        min_frames_count: 1,
        max_frames_count: max_block,
    };
    let stopped = instance
        .activate(|_, _| (), config)
        .unwrap_or_else(|e| panic!("activating: {e:?}"));
    let (out, stopped) = std::thread::scope(|s| {
        s.spawn(move || {
            let mut audio = stopped.start_processing().expect("start_processing");
            let total: usize = blocks.iter().map(|b| b.len).sum();
            let mut out = [Vec::with_capacity(total), Vec::with_capacity(total)];
            let mut in_ports = AudioPorts::with_capacity(4, 2);
            let mut out_ports = AudioPorts::with_capacity(2, 1);
            let n = max_block as usize;
            let (mut il, mut ir, mut sl, mut sr) = (
                vec![0.0f32; n],
                vec![0.0f32; n],
                vec![0.0f32; n],
                vec![0.0f32; n],
            );
            let (mut left, mut right) = (vec![0.0f32; n], vec![0.0f32; n]);
            let mut events = EventBuffer::with_capacity(64);
            let mut at = 0;
            for (k, block) in blocks.iter().enumerate() {
                before(k);
                let len = block.len;
                let get = |x: &[f32], i: usize| x.get(at + i).copied().unwrap_or(0.0);
                for i in 0..len {
                    il[i] = get(input[0], i);
                    ir[i] = get(input[1], i);
                    sl[i] = sidechain.map_or(0.0, |s| get(s[0], i));
                    sr[i] = sidechain.map_or(0.0, |s| get(s[1], i));
                }
                left.fill(f32::NAN);
                right.fill(f32::NAN);
                events.clear();
                for &(id, v) in &block.params {
                    events.push(&ParamValueEvent::new(0, id, Pckn::match_all(), v));
                }
                let t = transport_at(rate, &block.transport);
                let mut buffers = vec![AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(
                        [
                            InputChannel::from_buffer(&mut il[..len], false),
                            InputChannel::from_buffer(&mut ir[..len], false),
                        ]
                        .into_iter(),
                    ),
                }];
                if aux {
                    buffers.push(AudioPortBuffer {
                        latency: 0,
                        channels: AudioPortBufferType::f32_input_only(
                            [
                                InputChannel::from_buffer(&mut sl[..len], false),
                                InputChannel::from_buffer(&mut sr[..len], false),
                            ]
                            .into_iter(),
                        ),
                    });
                }
                let inputs = in_ports.with_input_buffers(buffers);
                let mut output = out_ports.with_output_buffers([AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_output_only(
                        [&mut left[..len], &mut right[..len]].into_iter(),
                    ),
                }]);
                audio
                    .process(
                        &inputs,
                        &mut output,
                        &InputEvents::from_buffer(&events),
                        &mut OutputEvents::void(),
                        None,
                        Some(&t),
                    )
                    .expect("process");
                out[0].extend_from_slice(&left[..len]);
                out[1].extend_from_slice(&right[..len]);
                at += len;
            }
            (out, audio.stop_processing())
        })
        .join()
        .unwrap()
    });
    instance.deactivate(stopped);
    out
}
