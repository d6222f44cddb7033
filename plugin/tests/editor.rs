//! The A/B's editor: its window opens embedded in a host's X11 window under Xvfb (the bundled
//! CLAP, clack-host's GUI extension), draws the session (QC table, elements, the switch), and
//! a screenshot is written to `target/ab-editor.ppm`; and the real analyzer, started by the
//! editor's workflow on a dropped track, shows its first progress within a second.
//!
//! The window test needs Xvfb (Debian's `xvfb`, with Mesa's OpenGL); it is skipped without it
//! unless `AURALIS_REQUIRE_XVFB` is set (`.ci/run` installs it and sets it).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
use support::*;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, ImageFormat, WindowClass};

const AB_ID: &std::ffi::CStr = c"audio.auralis.ab";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auralis-editor-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A session with two iterations of QC, three elements and an original.
fn session(dir: &Path) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(dir.join("original.wav"), spec).unwrap();
    for i in 0..48_000 * 2 {
        let x = 0.2 * (i as f32 * 0.03).sin();
        w.write_sample(x).unwrap();
        w.write_sample(x).unwrap();
    }
    w.finalize().unwrap();
    let dims = |base: f64| {
        let names = [
            "spectral",
            "rms_sections",
            "width",
            "bass_pattern",
            "kick_pattern",
            "harmony",
            "energy_curve",
            "reverb",
            "dynamic_range",
            "bpm",
            "sections",
            "timbre",
        ];
        let mut m = serde_json::Map::new();
        for (i, n) in names.iter().enumerate() {
            m.insert((*n).into(), serde_json::json!(base + (i * 7 % 30) as f64));
        }
        serde_json::Value::Object(m)
    };
    let doc = serde_json::json!({
        "schema": "auralis.session/1",
        "source": {"path": "/music/demo.wav", "original": "original.wav"},
        "tempo": {"bpm": 124.0},
        "key": {"tonic": "A", "mode": "minor"},
        "elements": [
            {"name": "drums", "role": "drums", "preset": "Kit 909", "fit": {"loss_before": 17.2, "loss_after": 9.1}},
            {"name": "bass", "role": "bass", "preset": "Reese dark", "fit": {"loss_before": 9.3, "loss_after": 6.0}},
            {"name": "lead", "role": "lead", "preset": "Saw lead classic", "fit": {"loss_before": 14.1, "loss_after": 5.8}},
        ],
        "qc": {"target": 90.0, "best_iteration": 1, "iterations": [
            {"index": 0, "overall": 71.5, "dimensions": dims(60.0)},
            {"index": 1, "overall": 76.2, "dimensions": dims(64.0)},
        ]},
    });
    std::fs::write(dir.join("session.json"), doc.to_string()).unwrap();
}

/// Xvfb on a free display; killed when dropped.
struct Xvfb(Child);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_xvfb() -> Option<(Xvfb, String)> {
    let exe = ["/usr/bin/Xvfb", "/usr/local/bin/Xvfb"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    for n in 90..110 {
        let display = format!(":{n}");
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            continue;
        }
        let child = Command::new(exe)
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let guard = Xvfb(child);
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if x11rb::connect(Some(&display)).is_ok() {
                return Some((guard, display));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    None
}

/// Writes a binary PPM (what the test can write without an image library).
fn write_ppm(path: &Path, w: usize, h: usize, rgb: &[u8]) {
    let mut bytes = format!("P6\n{w} {h}\n255\n").into_bytes();
    bytes.extend_from_slice(rgb);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn the_editor_renders_the_session_under_xvfb() {
    let Some((_xvfb, display)) = start_xvfb() else {
        assert!(
            std::env::var_os("AURALIS_REQUIRE_XVFB").is_none(),
            "AURALIS_REQUIRE_XVFB is set but Xvfb is not installed"
        );
        eprintln!("Xvfb not installed: the editor window was not checked");
        return;
    };
    // The plugin's windowing reads the display from the environment.
    std::env::set_var("DISPLAY", &display);
    let dir = scratch("window");
    session(&dir);
    let entry = entry();
    let mut p = instance(&entry, AB_ID);
    choose(&mut p, &dir, "original");

    let (conn, screen) = x11rb::connect(Some(&display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let white = conn.setup().roots[screen].white_pixel;
    let handle = p.plugin_handle();
    let gui: PluginGui = handle.get_extension().expect("the gui extension");
    let handle = p.plugin_handle();
    assert!(gui.is_api_supported(
        &handle,
        GuiConfiguration {
            api_type: GuiApiType::X11,
            is_floating: false
        }
    ));
    gui.create(
        &handle,
        GuiConfiguration {
            api_type: GuiApiType::X11,
            is_floating: false,
        },
    )
    .expect("creating the editor");
    let size = gui.get_size(&handle).expect("a size");
    let (w, h) = (size.width as u16, size.height as u16);
    assert!(w >= 600 && h >= 400, "{w}x{h}");
    let win = conn.generate_id().unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        win,
        root,
        0,
        0,
        w,
        h,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(white),
    )
    .unwrap();
    conn.map_window(win).unwrap();
    conn.flush().unwrap();
    // SAFETY: `win` is a live X11 window on the display the plugin uses, kept until after the
    // editor is destroyed.
    unsafe { gui.set_parent(&handle, Window::from_x11_handle(win.into())) }.expect("set_parent");
    gui.show(&handle).expect("show");

    // Let it draw: the editor repaints ten times a second.
    let (mut rgb, mut distinct) = (Vec::new(), 0usize);
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(500));
        let img = conn
            .get_image(ImageFormat::Z_PIXMAP, win, 0, 0, w, h, !0)
            .unwrap()
            .reply()
            .unwrap();
        // 32 bits per pixel, BGRX.
        rgb = img
            .data
            .chunks_exact(4)
            .flat_map(|px| [px[2], px[1], px[0]])
            .collect();
        let mut colours: Vec<[u8; 3]> = rgb
            .chunks_exact(3)
            .step_by(7)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        colours.sort();
        colours.dedup();
        distinct = colours.len();
        if distinct > 40 {
            break;
        }
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ab-editor.ppm");
    write_ppm(&out, w as usize, h as usize, &rgb);
    println!(
        "editor {w}x{h}: {distinct} colours, screenshot at {}",
        out.display()
    );
    assert!(
        distinct > 40,
        "the editor drew nothing ({distinct} colours)"
    );
    // The A switch's blue is on screen.
    let blue = rgb
        .chunks_exact(3)
        .filter(|c| c[0].abs_diff(40) < 12 && c[1].abs_diff(110) < 12 && c[2].abs_diff(200) < 12)
        .count();
    assert!(blue > 500, "no A/B switch ({blue} pixels of its colour)");
    let handle = p.plugin_handle();
    gui.destroy(&handle);
    drop(p);
    // The editor's window thread ends before the X server does.
    std::thread::sleep(Duration::from_millis(800));
    conn.destroy_window(win).unwrap();
    conn.flush().unwrap();
}

/// The real analyzer, started by the editor's workflow: the first stage shows within a second
/// of the drop (the target), long before the job ends.
#[test]
fn the_real_analyzer_shows_progress_within_a_second() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let o = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "-p",
            "auralis-analyzer",
            "--bin",
            "auralis",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let exe = std::env::current_exe().unwrap();
    let target = exe.parent().unwrap().parent().unwrap();
    let bin = target.join("auralis");
    assert!(bin.is_file(), "{}", bin.display());
    std::env::set_var("AURALIS_BIN", &bin);
    let dir = scratch("progress");
    let track = dir.join("song.wav");
    let o = Command::new(&bin)
        .arg("demo")
        .arg("-o")
        .arg(&track)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut w = auralis_plugin::ab::workflow::Workflow::default();
    w.analyse(
        &track,
        &auralis_plugin::ab::workflow::Workflow::session_for(&track),
    );
    assert!(w.job.is_some(), "{}", w.message);
    let until = Instant::now() + Duration::from_secs(30);
    while w.job.as_ref().unwrap().stages.is_empty() {
        w.poll();
        assert!(Instant::now() < until, "no progress: {}", w.message);
        std::thread::sleep(Duration::from_millis(5));
    }
    let job = w.job.as_mut().unwrap();
    let first = job.first_event.unwrap();
    println!(
        "first progress ({}) {:.0} ms after the drop",
        job.stages[0].name,
        first.as_secs_f64() * 1e3
    );
    assert!(first < Duration::from_secs(1), "{first:?}");
    assert!(job.running(), "the job should still be running");
    job.cancel();
}

/// With `auralis serve` running, the editor's workflow queues the job there and follows its
/// progress stream; cancelling from the editor cancels the service's job.
#[test]
fn with_the_service_running_the_job_goes_through_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let o = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "-p",
            "auralis-analyzer",
            "--bin",
            "auralis",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("auralis");
    let dir = scratch("service");
    let track = dir.join("song.wav");
    let o = Command::new(&bin)
        .arg("demo")
        .arg("-o")
        .arg(&track)
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut service = Command::new(&bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--jobs"])
        .arg(dir.join("jobs"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(service.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr = line
        .trim()
        .trim_start_matches("listening on http://")
        .to_string();
    assert!(
        auralis_plugin::ab::workflow::service_running(&addr),
        "{line}"
    );

    let mut w = auralis_plugin::ab::workflow::Workflow {
        service: Some(addr.clone()),
        ..Default::default()
    };
    let out = dir.join("song.auralis");
    w.analyse(&track, &out);
    assert!(w.job.is_some(), "{}", w.message);
    let until = Instant::now() + Duration::from_secs(60);
    while w.job.as_ref().unwrap().stages.is_empty() {
        w.poll();
        assert!(
            Instant::now() < until,
            "no progress through the service: {}",
            w.message
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let job = w.job.as_mut().unwrap();
    println!(
        "through the service: first progress ({}) {:.0} ms after the drop",
        job.stages[0].name,
        job.first_event.unwrap().as_secs_f64() * 1e3
    );
    job.cancel();
    // The service's job is cancelled too.
    let jobs = dir.join("jobs");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let state = std::fs::read_dir(&jobs)
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("job.json")).ok())
            .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .map(|j| j["state"].as_str().unwrap_or("").to_string())
            .next();
        if state.as_deref() == Some("cancelled") {
            break;
        }
        assert!(Instant::now() < until, "the service's job is {state:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = service.kill();
    let _ = service.wait();
}
