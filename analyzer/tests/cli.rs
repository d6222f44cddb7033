//! The `auralis` binary end to end: every kind of bad input gets one clear error line that names
//! the file, a non-zero exit code and no panic; a good run writes a session; a failed run leaves
//! the previous session untouched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use auralis::progress::ProgressEvent;
use auralis::session::Session;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_auralis"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auralis-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn analyze(track: &Path, out: &Path) -> Output {
    bin()
        .args(["analyze", "--progress", "none"])
        .arg(track)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

/// Asserts the run failed with `code`, printing exactly one error line that names `track` and
/// contains `phrase`.
fn assert_bad_input(track: &Path, code: i32, phrase: &str) {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = scratch(&format!(
        "bad-out-{run}-{}",
        track.file_name().unwrap().to_string_lossy()
    ));
    let out = dir.join("session");
    let o = analyze(track, &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{track:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(lines[0].starts_with("auralis: error: "), "{stderr}");
    assert!(
        lines[0].contains(&track.display().to_string()),
        "names the file: {stderr}"
    );
    assert!(lines[0].contains(phrase), "expected {phrase:?} in {stderr}");
    // A folder this run created is not left behind empty.
    assert!(!out.exists(), "left {out:?} behind");
}

fn write_wav(path: &Path, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

fn tone(rate: u32, seconds: f64) -> Vec<f32> {
    (0..(seconds * f64::from(rate)) as usize)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin())
        .collect()
}

/// A RIFF/WAVE file with the given `fmt ` fields and `data_bytes` bytes of data.
fn raw_wav(format_tag: u16, channels: u16, rate: u32, bits: u16, data_bytes: usize) -> Vec<u8> {
    let align = channels * bits / 8;
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&((36 + data_bytes) as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&format_tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    v.extend_from_slice(&align.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data_bytes as u32).to_le_bytes());
    v.extend((0..data_bytes).map(|i| (i * 37 % 251) as u8));
    v
}

#[test]
fn missing_file() {
    let p = scratch("missing").join("no-such-track.wav");
    assert_bad_input(&p, 66, "file not found");
}

#[test]
fn directory_instead_of_file() {
    let p = scratch("is-dir");
    assert_bad_input(&p, 66, "not a file");
}

#[test]
fn empty_file() {
    let p = scratch("empty").join("empty.wav");
    std::fs::write(&p, b"").unwrap();
    assert_bad_input(&p, 65, "the file is empty");
}

#[test]
fn not_audio() {
    let p = scratch("text").join("notes.mp3");
    std::fs::write(&p, "these are my lyrics, not a song\n".repeat(200)).unwrap();
    assert_bad_input(&p, 65, "not a recognised audio file");
}

#[test]
fn truncated_file() {
    let p = scratch("trunc").join("cut.wav");
    write_wav(&p, 44_100, &tone(44_100, 2.0));
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    assert_bad_input(&p, 65, "truncated");
}

#[test]
fn zero_length() {
    let p = scratch("zero").join("zero.wav");
    write_wav(&p, 44_100, &[]);
    assert_bad_input(&p, 65, "zero length");
}

#[test]
fn unsupported_codec() {
    // Format tag 0x0161: Windows Media Audio in a WAV container.
    let p = scratch("codec").join("wma.wav");
    std::fs::write(&p, raw_wav(0x0161, 2, 44_100, 16, 4096)).unwrap();
    assert_bad_input(&p, 65, "unsupported");
}

#[test]
fn silence() {
    let p = scratch("silence").join("silence.wav");
    write_wav(&p, 44_100, &vec![0.0; 44_100 * 2]);
    assert_bad_input(&p, 65, "silent");
}

#[test]
fn absurd_sample_rate() {
    for rate in [1u32, 4_000_000] {
        let p = scratch(&format!("rate{rate}")).join("rate.wav");
        std::fs::write(&p, raw_wav(1, 1, rate, 16, 8000)).unwrap();
        assert_bad_input(&p, 65, "sample rate");
    }
}

#[test]
fn good_run_writes_a_session_and_a_bad_run_keeps_it() {
    let dir = scratch("good");
    let track = dir.join("demo.wav");
    let o = bin().args(["demo", "-o"]).arg(&track).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.join("session");
    let o = bin()
        .args(["analyze", "--progress", "json"])
        .arg(&track)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Progress: every stdout line is an event; the last one says where the session is.
    let stdout = String::from_utf8_lossy(&o.stdout);
    let events: Vec<ProgressEvent> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.iter().any(|e| e.stage == "decode"));
    assert!(events.iter().any(|e| e.stage == "rhythm"));
    let last = events.last().unwrap();
    assert_eq!(last.stage, "done");
    assert!(last.message.ends_with("session.json"));

    let json_path = out.join("session.json");
    let before = std::fs::read(&json_path).unwrap();
    let s: Session = serde_json::from_slice(&before).unwrap();
    assert_eq!(s.schema, "auralis.session/1");
    assert_eq!(s.source.original.as_deref(), Some("original.wav"));
    assert!(out.join("original.wav").is_file());

    // A failing run into the same folder changes nothing and leaves no temporary file.
    let bad = dir.join("bad.wav");
    std::fs::write(&bad, b"RIFF....WAVEjunk").unwrap();
    let o = analyze(&bad, &out);
    assert!(!o.status.success());
    assert_eq!(std::fs::read(&json_path).unwrap(), before);
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_time_budget_and_none_at_once_is_a_usage_error() {
    let o = bin()
        .args(["reconstruct", "--time-budget", "30", "--no-time-budget"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--no-time-budget"), "{err}");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let o = bin().arg("transmogrify").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// The main job on the embedded demo: every element gets a preset, a fitted patch that loads
/// into the engine, a fit no worse than its preset, and a render that the engine reproduces
/// sample for sample from the stored patch and MIDI (what the Instrument plugin will play).
#[test]
fn reconstruct_fits_and_renders_every_element() {
    let dir = scratch("reconstruct");
    let out = dir.join("session");
    let o = bin()
        .args([
            "reconstruct",
            "--progress",
            "none",
            "--fit-seconds",
            "4",
            "--max-iterations",
            "2",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The QC table of each iteration is printed.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("iteration 0") && stdout.contains("timbre"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(out.join("session.json")).unwrap();
    let session: Session = serde_json::from_str(&text).unwrap();
    check_loop(&session, &out, 2);
    check_report(&out);
    // The main job leaves the DAW projects in the session.
    for f in ["project.dawproject", "project.rpp"] {
        assert!(out.join(f).is_file(), "{f} not written by reconstruct");
    }
    check_export(&out, &session);
    assert!(!session.elements.is_empty());
    assert!(session.stages.iter().any(|s| s.name == "fit"));
    for e in &session.elements {
        // Effect detection ran on every element: its image at least, with a finite pan.
        let pan = e.extra["effects"]["image"]["pan"].as_f64();
        assert!(
            pan.is_some_and(|p| (-1.0..=1.0).contains(&p)),
            "{}: effects {:?}",
            e.name,
            e.extra.get("effects")
        );
    }
    for e in &session.elements {
        let patch: auralis_engine::Patch = serde_json::from_value(e.extra["patch"].clone())
            .unwrap_or_else(|err| panic!("{}: {err}", e.name));
        let values = patch.values().unwrap();
        assert!(e.extra["preset"].is_string());
        let fit = &e.extra["fit"];
        assert!(
            fit["loss_after"].as_f64().unwrap() <= fit["loss_before"].as_f64().unwrap(),
            "{}: {fit}",
            e.name
        );
        let render = out.join(e.extra["render"].as_str().unwrap());
        let (rate, stored) = auralis::decode::read_stereo(&render).unwrap();
        let notes = auralis::hands::read_notes(&out.join(e.midi.as_ref().unwrap())).unwrap();
        let again = auralis::hands::render_part(&values, &notes, rate, stored.len() / 2);
        assert!(
            again == stored,
            "{}: the stored patch does not reproduce its render",
            e.name
        );
        assert!(
            stored.iter().any(|x| x.abs() > 1e-4),
            "{}: silent render",
            e.name
        );
        assert!(e.extra["mix_chain"].is_object(), "{}: no mix chain", e.name);
    }
    // The mastered mix: as long as the original, at its loudness, under the ceiling.
    let mix = out.join(session.render_mix.as_deref().expect("render_mix"));
    let (_, mixed) = auralis::decode::read_stereo(&mix).unwrap();
    let (_, original) = auralis::decode::read_stereo(&out.join("original.wav")).unwrap();
    assert_eq!(mixed.len(), original.len());
    let report = &session.master.as_ref().expect("master")["report"];
    let (ours, theirs) = (
        report["master_lufs"].as_f64().unwrap(),
        report["original_lufs"].as_f64().unwrap(),
    );
    assert!((ours - theirs).abs() < 0.1, "{report}");
    assert!(
        report["band_error_db"].as_f64().unwrap()
            < report["band_error_before_db"].as_f64().unwrap(),
        "{report}"
    );
    // `auralis mix` redoes it from the session alone, to the same file.
    let o = bin()
        .args(["mix", "--progress", "none"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, again) = auralis::decode::read_stereo(&mix).unwrap();
    assert!(again == mixed, "auralis mix made a different master");

    // --resume continues the history instead of starting again: no new analysis or fit of
    // every element, more iterations (or a stated reason to stop).
    let before = session.qc.as_ref().unwrap()["iterations"]
        .as_array()
        .unwrap()
        .len();
    let o = bin()
        .args(["reconstruct", "--progress", "none", "--resume"])
        .args(["--max-iterations", "3", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let resumed: Session =
        serde_json::from_str(&std::fs::read_to_string(out.join("session.json")).unwrap()).unwrap();
    let qc = resumed.qc.as_ref().unwrap();
    let after = qc["iterations"].as_array().unwrap().len();
    assert!(
        after == before + 1 || (after == before && qc["stopped"].is_string()),
        "{qc}"
    );
    assert_eq!(
        resumed.source.sha256, session.source.sha256,
        "the resumed session is the same song"
    );
    check_loop(&resumed, &out, 3);

    // Resuming with another track is refused, and the session is left as it was.
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/tone_l440_r660.flac");
    let o = bin()
        .arg("reconstruct")
        .arg(&other)
        .args(["--progress", "none", "--resume", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(65));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot resume"), "{err}");
    let after: Session =
        serde_json::from_str(&std::fs::read_to_string(out.join("session.json")).unwrap()).unwrap();
    assert_eq!(after.qc, resumed.qc);
}

/// Runs `auralis export` and returns the project file.
fn export(out: &Path, file: &str, format: Option<&str>) -> (PathBuf, Output) {
    let path = out.parent().unwrap().join(file);
    let mut c = bin();
    c.arg("export").arg(out);
    if let Some(f) = format {
        c.args(["--format", f]);
    }
    let o = c.arg("-o").arg(&path).output().unwrap();
    (path, o)
}

/// Checks a plugin state the export wrote: nice-plug's framing, the session folder and the
/// element it names.
fn check_state(bytes: &[u8], out: &Path, element: &str) -> serde_json::Value {
    let json = auralis::export::state_json(bytes).expect("a plugin state");
    let session: serde_json::Value =
        serde_json::from_str(json["fields"]["session"].as_str().unwrap()).unwrap();
    assert_eq!(
        Path::new(session["path"].as_str().unwrap()),
        std::fs::canonicalize(out).unwrap()
    );
    assert_eq!(session["element"], element);
    json
}

/// The DAW projects: the DAWproject validates against its published schema and holds every
/// note, plugin and state; the RPP parses back with every note at its time in the original
/// (through the exported tempo map), the plugins' states, the muted reference.
fn check_export(out: &Path, session: &Session) {
    let notes: Vec<(String, Vec<auralis_engine::smf::ReadNote>)> = session
        .elements
        .iter()
        .map(|e| {
            let bytes = std::fs::read(out.join(e.midi.as_ref().unwrap())).unwrap();
            (
                e.name.clone(),
                auralis_engine::smf::read_notes(&bytes).unwrap(),
            )
        })
        .collect();
    let total: usize = notes.iter().map(|n| n.1.len()).sum();
    assert!(total > 0);

    // DAWproject.
    let (path, o) = export(out, "rebuild.dawproject", None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut read = |name: &str| -> Vec<u8> {
        let mut f = zip
            .by_name(name)
            .unwrap_or_else(|_| panic!("{name} not in the project"));
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut v).unwrap();
        v
    };
    let project = String::from_utf8(read("project.xml")).unwrap();
    let metadata = read("metadata.xml");
    assert_eq!(project.matches("<Note ").count(), total);
    // An Instrument and a Console per element, the master's Console and A/B.
    let n = session.elements.len();
    assert_eq!(project.matches("<ClapPlugin ").count(), 2 * n + 2);
    assert_eq!(project.matches("deviceID=\"audio.auralis.ab\"").count(), 1);
    assert!(project.contains("<TempoAutomation") && project.contains("contentType=\"audio\""));
    for e in &session.elements {
        let state = read(&format!("plugins/{}-instrument.clap-state", e.name));
        let json = check_state(&state, out, &e.name);
        assert_eq!(json["params"]["source"]["string"], "host", "plays the clip");
        check_state(
            &read(&format!("plugins/{}-console.clap-state", e.name)),
            out,
            &e.name,
        );
    }
    check_state(&read("plugins/master-ab.clap-state"), out, "original");
    check_state(&read("plugins/master-console.clap-state"), out, "master");
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dawproject");
    let xmllint = ["/usr/bin/xmllint", "/usr/local/bin/xmllint"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    match xmllint {
        Some(x) => {
            for (doc, schema) in [
                (project.as_bytes(), "Project.xsd"),
                (&metadata[..], "MetaData.xsd"),
            ] {
                let file = out.parent().unwrap().join(format!("check-{schema}.xml"));
                std::fs::write(&file, doc).unwrap();
                let v = Command::new(x)
                    .args(["--noout", "--schema"])
                    .arg(schemas.join(schema))
                    .arg(&file)
                    .output()
                    .unwrap();
                assert!(
                    v.status.success(),
                    "{schema}: {}",
                    String::from_utf8_lossy(&v.stderr)
                );
            }
        }
        None => {
            assert!(
                std::env::var_os("AURALIS_REQUIRE_XMLLINT").is_none(),
                "AURALIS_REQUIRE_XMLLINT is set but xmllint is not installed"
            );
            eprintln!("xmllint not installed: the DAWproject was not validated");
        }
    }

    // RPP, parsed back.
    let (path, o) = export(out, "rebuild.rpp", Some("rpp"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rpp = auralis::export::rpp::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(rpp.name, "REAPER_PROJECT");
    let tempo: f64 = rpp.line("TEMPO").unwrap()[0].parse().unwrap();
    // The tempo map: (seconds, bpm) points, square.
    let mut points: Vec<(f64, f64)> = rpp
        .blocks("TEMPOENVEX")
        .flat_map(|b| b.lines.iter())
        .filter(|l| l[0] == "PT")
        .map(|l| (l[1].parse().unwrap(), l[2].parse().unwrap()))
        .collect();
    if points.is_empty() {
        points.push((0.0, tempo));
    }
    let seconds_at = |tick: u64| -> f64 {
        let (mut t, mut k) = (points[0].0, 0.0f64);
        for w in points.windows(2) {
            let span = (w[1].0 - w[0].0) * w[0].1 / 60.0 * 960.0;
            if k + span > tick as f64 {
                break;
            }
            k += span;
            t = w[1].0;
        }
        let i = points.iter().rposition(|p| p.0 <= t + 1e-12).unwrap();
        t + (tick as f64 - k) / 960.0 * 60.0 / points[i].1
    };
    let tracks: Vec<_> = rpp.blocks("TRACK").collect();
    assert_eq!(
        tracks.len(),
        n + 1,
        "an element track each and the reference"
    );
    let mut worst = 0.0f64;
    for (name, want) in &notes {
        let t = tracks
            .iter()
            .find(|t| t.line("NAME").unwrap()[0] == *name)
            .unwrap_or_else(|| panic!("no track {name}"));
        let fx = t.blocks("FXCHAIN").next().unwrap();
        let claps: Vec<_> = fx.blocks("CLAP").collect();
        assert_eq!(claps[0].args[1], "audio.auralis.instrument");
        assert_eq!(claps[1].args[1], "audio.auralis.console");
        let state: String = claps[0]
            .blocks("STATE")
            .next()
            .unwrap()
            .lines
            .iter()
            .flatten()
            .cloned()
            .collect();
        check_state(&auralis::export::rpp::unbase64(&state).unwrap(), out, name);
        let source = t
            .blocks("ITEM")
            .next()
            .unwrap()
            .blocks("SOURCE")
            .next()
            .unwrap();
        assert_eq!(source.args, ["MIDI"]);
        let mut tick = 0u64;
        let mut starts = Vec::new();
        for l in source.lines.iter().filter(|l| l[0] == "E") {
            tick += l[1].parse::<u64>().unwrap();
            let status = u8::from_str_radix(&l[2], 16).unwrap();
            if status & 0xf0 == 0x90 {
                starts.push(seconds_at(tick));
            }
        }
        assert_eq!(starts.len(), want.len(), "{name}");
        let mut want: Vec<f64> = want.iter().map(|w| w.start_s).collect();
        want.sort_by(f64::total_cmp);
        starts.sort_by(f64::total_cmp);
        for (a, b) in starts.iter().zip(&want) {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(worst < 0.001, "a note {:.2} ms from its time", worst * 1e3);
    let reference = tracks.last().unwrap();
    assert_eq!(reference.line("MUTESOLO").unwrap()[0], "1");
    let file = &reference
        .blocks("ITEM")
        .next()
        .unwrap()
        .blocks("SOURCE")
        .next()
        .unwrap();
    assert!(Path::new(&file.line("FILE").unwrap()[0]).is_file());
    let master = rpp.blocks("MASTERFXLIST").next().expect("master FX");
    let ids: Vec<&str> = master.blocks("CLAP").map(|c| c.args[1].as_str()).collect();
    assert_eq!(ids, ["audio.auralis.console", "audio.auralis.ab"]);

    // Bad input: one clear error, nothing written.
    let (path, o) = export(out, "rebuild.txt", None);
    assert_eq!(o.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--format"));
    assert!(!path.exists());
    let (path, o) = export(&out.join("render"), "nothing.rpp", None);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("session.json"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!path.exists());
}

/// The loop's record: every iteration scored on the twelve dimensions, the best one is what
/// the session points to, every decision has a reason.
fn check_loop(session: &Session, out: &Path, max_iterations: usize) {
    let qc = session.qc.as_ref().expect("qc");
    assert_eq!(qc["target"].as_f64(), Some(90.0));
    let its = qc["iterations"].as_array().unwrap();
    assert!(!its.is_empty() && its.len() <= max_iterations, "{qc}");
    for (i, it) in its.iter().enumerate() {
        assert_eq!(it["index"].as_u64(), Some(i as u64));
        let dims = it["dimensions"].as_object().unwrap();
        assert_eq!(dims.len(), 12, "{it}");
        assert!(dims
            .values()
            .all(|v| (0.0..=100.0).contains(&v.as_f64().unwrap())));
        assert!((0.0..=100.0).contains(&it["overall"].as_f64().unwrap()));
        assert!(it["seconds"].as_f64().unwrap() > 0.0);
    }
    let best = qc["best_iteration"].as_u64().unwrap() as usize;
    let top = its
        .iter()
        .map(|it| it["overall"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(its[best]["overall"].as_f64().unwrap(), top, "{qc}");
    assert_eq!(session.render_mix.as_deref(), Some("render/mix.wav"));
    assert!(!out.join("render/mix-next.wav").exists());
    assert!(!session.decisions.is_empty());
    for d in &session.decisions {
        assert!(d["reason"].as_str().is_some_and(|r| !r.is_empty()), "{d}");
    }
    assert!(session.decisions.iter().any(|d| d["area"] == "sound"));
    assert!(session.decisions.iter().any(|d| d["area"] == "stop"));
}

/// `report.html`: self-contained (nothing fetched), every player's file in the session, both
/// spectrograms painted when Chromium renders it.
fn check_report(out: &Path) {
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(!html.contains("http://") && !html.contains("https://"));
    for needle in [
        "<canvas",
        "QC — best iteration",
        "History",
        "Notes per element",
        "<audio",
    ] {
        assert!(html.contains(needle), "report lacks {needle}");
    }
    for src in html.split("src=\"").skip(1) {
        let rel = &src[..src.find('"').unwrap()];
        assert!(out.join(rel).exists(), "report plays a missing file {rel}");
    }
    let chrome = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(chrome) = chrome else {
        assert!(
            std::env::var_os("AURALIS_REQUIRE_CHROMIUM").is_none(),
            "AURALIS_REQUIRE_CHROMIUM is set but Chromium is not installed"
        );
        eprintln!("Chromium not installed: report not rendered");
        return;
    };
    let profile = out.join("chromium-profile");
    let o = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", out.join("report.html").display()))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("data-painted=\"2\""),
        "the spectrograms were not painted: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `auralis score`: a file against itself scores 100 on every dimension; `--json` gives
/// `overall` and `dimensions`; a bad file is one clear error.
#[test]
fn score_prints_the_table_and_refuses_bad_files() {
    let dir = scratch("score");
    let track = dir.join("demo.wav");
    let o = bin().arg("demo").arg("-o").arg(&track).output().unwrap();
    assert!(o.status.success());
    let o = bin()
        .arg("score")
        .arg(&track)
        .arg(&track)
        .arg("--json")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["overall"].as_f64(), Some(100.0), "{v}");
    let dims = v["dimensions"].as_object().unwrap();
    assert_eq!(dims.len(), 12);
    assert!(dims.values().all(|s| s.as_f64() == Some(100.0)), "{v}");
    let o = bin().arg("score").arg(&track).arg(&track).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("overall") && text.contains("kick_pattern"),
        "{text}"
    );

    let missing = dir.join("nope.wav");
    let o = bin()
        .arg("score")
        .arg(&track)
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(66));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nope.wav") && err.lines().count() == 1,
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
