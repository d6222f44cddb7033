//! `auralis serve`: twenty queued jobs survive the service being killed mid-run (none lost, the
//! running one started again and finished), cancel, the progress stream, the token, and the
//! refusal to listen beyond loopback without one. The service is driven over HTTP as a client
//! would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auralis-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running service and its port.
struct Service {
    child: Child,
    port: u16,
}

impl Service {
    fn start(jobs: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_auralis"))
            .args(["serve", "--listen", "127.0.0.1:0", "--jobs"])
            .arg(jobs)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Self { child, port }
    }

    /// One request; returns the status and the body.
    fn request(&self, method: &str, path: &str, body: &str, token: Option<&str>) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text[9..12].parse().unwrap();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        (status, body)
    }

    fn json(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        let (status, text) = self.request(method, path, body, None);
        assert!(status < 300, "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// A stereo WAV of `seconds` with tones and noise bursts.
fn track(path: &Path, seconds: f64) {
    let rate = 44_100u32;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut seed = 7u32;
    for i in 0..(seconds * f64::from(rate)) as usize {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let t = i as f64 / f64::from(rate);
        let beat = (t * 2.0).fract() < 0.05;
        let noise = if beat {
            (seed >> 8) as f64 / f64::from(1u32 << 24) - 0.5
        } else {
            0.0
        };
        let x = 0.3 * (std::f64::consts::TAU * 220.0 * t).sin() + 0.6 * noise;
        let v = (x * 20_000.0) as i16;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn twenty_jobs_survive_a_restart_mid_run_and_the_running_one_runs_again() {
    let dir = scratch("restart");
    let jobs = dir.join("jobs");
    let song = dir.join("song.wav");
    track(&song, 20.0);
    let service = Service::start(&jobs, &[]);
    let health = service.json("GET", "/health", "");
    assert_eq!(health["ok"], true);
    let body = serde_json::json!({"kind": "analyze", "track": song}).to_string();
    let mut ids = Vec::new();
    for _ in 0..20 {
        let job = service.json("POST", "/jobs", &body);
        assert_eq!(job["state"], "queued");
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    // Kill the service while the fourth job runs (its child outlives it).
    let victim = ids[3].clone();
    wait_until("the fourth job to run", Duration::from_secs(600), || {
        service.json("GET", &format!("/jobs/{victim}"), "")["state"] == "running"
    });
    drop(service);
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(jobs.join(&victim).join("job.json")).unwrap())
            .unwrap();
    assert_eq!(on_disk["state"], "running");

    let started = Instant::now();
    let service = Service::start(&jobs, &[]);
    let list = service.json("GET", "/jobs", "");
    assert_eq!(list.as_array().unwrap().len(), 20, "no job lost");
    assert_ne!(
        service.json("GET", &format!("/jobs/{victim}"), "")["state"],
        "failed"
    );
    wait_until("every job to finish", Duration::from_secs(900), || {
        service
            .json("GET", "/jobs", "")
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["state"] == "done" || j["state"] == "failed")
    });
    println!(
        "the restarted service finished the queue in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (i, id) in ids.iter().enumerate() {
        let job = service.json("GET", &format!("/jobs/{id}"), "");
        assert_eq!(job["state"], "done", "{id}: {job}");
        let out = Path::new(job["out"].as_str().unwrap());
        assert!(out.join("session.json").is_file(), "{id}: no session");
        let attempts = job["attempts"].as_u64().unwrap();
        if i == 3 {
            assert_eq!(attempts, 2, "the running job runs again");
        } else if i > 3 {
            assert_eq!(attempts, 1, "{id}");
        }
    }
    // The progress of a finished job: every event, ending with `done`; asked from beyond its
    // end, nothing.
    let (status, events) = service.request("GET", &format!("/jobs/{}/events", ids[0]), "", None);
    assert_eq!(status, 200);
    let last: serde_json::Value =
        serde_json::from_str(events.lines().last().expect("events")).unwrap();
    assert_eq!(last["stage"], "done");
    let n = events.lines().count();
    let (status, rest) = service.request(
        "GET",
        &format!("/jobs/{}/events?from={n}&wait=5", ids[0]),
        "",
        None,
    );
    assert_eq!(status, 200);
    assert!(rest.trim().is_empty(), "{rest}");
}

#[test]
fn cancel_bad_jobs_and_the_token() {
    let dir = scratch("cancel");
    let jobs = dir.join("jobs");
    let song = dir.join("song.wav");
    track(&song, 20.0);
    let service = Service::start(&jobs, &["--token", "s3cret"]);
    // Without the token: refused.
    let (status, _) = service.request("GET", "/health", "", None);
    assert_eq!(status, 401);
    let (status, body) = service.request("GET", "/health", "", Some("s3cret"));
    assert_eq!(status, 200, "{body}");
    // A job on a file that is not there: one clear error naming it.
    let (status, body) = service.request(
        "POST",
        "/jobs",
        r#"{"kind": "analyze", "track": "/no/such/song.wav"}"#,
        Some("s3cret"),
    );
    assert_eq!(status, 400);
    assert!(body.contains("/no/such/song.wav"), "{body}");
    let (status, _) = service.request("POST", "/jobs", "{not json", Some("s3cret"));
    assert_eq!(status, 400);
    // Two jobs; the second is cancelled while queued and never runs, the first while running.
    let body = serde_json::json!({"kind": "analyze", "track": song}).to_string();
    let submit = || {
        let (s, b) = service.request("POST", "/jobs", &body, Some("s3cret"));
        assert_eq!(s, 201, "{b}");
        serde_json::from_str::<serde_json::Value>(&b).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (first, second) = (submit(), submit());
    let (s, b) = service.request(
        "POST",
        &format!("/jobs/{second}/cancel"),
        "",
        Some("s3cret"),
    );
    assert_eq!(s, 200);
    assert!(b.contains("\"cancelled\""), "{b}");
    let get = |id: &str| -> serde_json::Value {
        let (_, b) = service.request("GET", &format!("/jobs/{id}"), "", Some("s3cret"));
        serde_json::from_str(&b).unwrap()
    };
    wait_until("the first job to run", Duration::from_secs(600), || {
        let s = get(&first)["state"].clone();
        s == "running" || s == "done"
    });
    let (s, _) = service.request("DELETE", &format!("/jobs/{first}"), "", Some("s3cret"));
    assert_eq!(s, 200);
    wait_until("the first job to end", Duration::from_secs(60), || {
        get(&first)["pid"].is_null()
    });
    let f = get(&first);
    assert!(f["state"] == "cancelled" || f["state"] == "done", "{f}");
    let sj = get(&second);
    assert_eq!(sj["state"], "cancelled");
    assert_eq!(sj["attempts"], 0, "a cancelled queued job never runs");
    drop(service);

    // Beyond loopback without a token: refused at start.
    let o = Command::new(env!("CARGO_BIN_EXE_auralis"))
        .args(["serve", "--listen", "0.0.0.0:0", "--jobs"])
        .arg(&jobs)
        .env_remove("AURALIS_SERVE_TOKEN")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("token"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
