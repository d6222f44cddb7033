//! What the A/B's editor does, apart from drawing it (so it is tested without a window):
//! start the analyzer on a dropped track as a companion process (never inside the audio
//! process) or through `auralis serve` when it runs, follow its `--progress json` events stage
//! by stage, load the session it wrote, and run the session's other commands (another
//! iteration, the report, the MIDI folder, the DAW project export).
//!
//! Everything here runs on the editor's (GUI) thread and never blocks it: child processes and
//! the service's event stream are read by their own threads into a channel, drained by
//! [`Workflow::poll`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

/// The service's default address.
pub const SERVICE: &str = "127.0.0.1:7878";

/// The `auralis` executable: `AURALIS_BIN`, else `auralis` on the `PATH`, else Cargo's bin
/// folder.
pub fn analyzer() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AURALIS_BIN").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("auralis"))
        .chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/auralis")))
        .find(|p| p.is_file())
}

/// A stage of the pipeline as its events describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub name: String,
    pub fraction: f64,
    pub message: String,
}

/// What a job's reader threads send.
#[derive(Debug)]
enum Msg {
    Event(Stage),
    /// The child closed its output; its last line of messages.
    Closed(String),
    /// The service's job ended.
    Ended(Result<(), String>),
}

/// How a job runs.
enum Runner {
    /// A child process of the editor.
    Process(Child),
    /// A job of `auralis serve`: its address and the job's id.
    Service { addr: String, id: String },
}

/// A running (or finished) analyzer job.
pub struct Job {
    /// What it does, for the editor ("Analysing song.wav").
    pub title: String,
    /// The session folder it writes.
    pub out: PathBuf,
    /// Stages in the order they first appeared.
    pub stages: Vec<Stage>,
    /// Time from start to the first event.
    pub first_event: Option<Duration>,
    /// `Some` once it ended.
    pub ended: Option<Result<(), String>>,
    started: Instant,
    runner: Runner,
    rx: Receiver<Msg>,
}

impl Job {
    /// Whether it still runs.
    pub fn running(&self) -> bool {
        self.ended.is_none()
    }

    /// Overall progress, 0–1 (the stages seen so far, the last one partly).
    pub fn fraction(&self) -> f64 {
        let done = self.stages.iter().filter(|s| s.fraction >= 1.0).count() as f64;
        let partial = self
            .stages
            .iter()
            .rfind(|s| s.fraction < 1.0)
            .map_or(0.0, |s| s.fraction);
        if self.ended == Some(Ok(())) {
            1.0
        } else {
            // About twenty stages in a reconstruction.
            ((done + partial) / 20.0).min(0.99)
        }
    }

    /// Seconds since it started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn event(&mut self, e: Stage) {
        if self.first_event.is_none() {
            self.first_event = Some(self.started.elapsed());
        }
        match self.stages.iter_mut().find(|s| s.name == e.name) {
            Some(s) => *s = e,
            None => self.stages.push(e),
        }
    }

    /// Takes what the readers sent; returns whether anything changed.
    fn poll(&mut self) -> bool {
        let mut changed = false;
        while let Ok(m) = self.rx.try_recv() {
            changed = true;
            match m {
                Msg::Event(e) => self.event(e),
                Msg::Ended(r) => {
                    if self.ended.is_none() {
                        self.ended = Some(r);
                    }
                }
                Msg::Closed(last) => {
                    if self.ended.is_none() {
                        let status = match &mut self.runner {
                            Runner::Process(c) => c.wait().ok(),
                            Runner::Service { .. } => None,
                        };
                        self.ended = Some(match status {
                            Some(s) if s.success() => Ok(()),
                            Some(s) if last.is_empty() => Err(format!("the analyzer {s}")),
                            _ => Err(last),
                        });
                    }
                }
            }
        }
        changed
    }

    /// Stops it (the child is killed, the service's job cancelled).
    pub fn cancel(&mut self) {
        match &mut self.runner {
            Runner::Process(c) => {
                let _ = c.kill();
            }
            Runner::Service { addr, id } => {
                let _ = http(addr, "POST", &format!("/jobs/{id}/cancel"), "");
            }
        }
        if self.ended.is_none() {
            self.ended = Some(Err("cancelled".into()));
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Runner::Process(c) = &mut self.runner {
            if self.ended.is_none() {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// Parses one `--progress json` line.
pub fn parse_event(line: &str) -> Option<Stage> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(Stage {
        name: v.get("stage")?.as_str()?.to_string(),
        fraction: v.get("fraction").and_then(|f| f.as_f64()).unwrap_or(0.0),
        message: v
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string(),
    })
}

/// One HTTP/1.1 request to the service (loopback, short timeouts); the status and body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    http_full(addr, method, path, body).map(|(s, _, b)| (s, b))
}

/// [`http`] with the response's head (status line and headers) too.
fn http_full(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String, String)> {
    let sock = addr
        .parse()
        .map_err(|_| std::io::Error::other("bad address"))?;
    let mut s = TcpStream::connect_timeout(&sock, Duration::from_millis(200))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok((status, head.to_string(), body.to_string()))
}

/// A header's value in a response head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Whether `auralis serve` answers at `addr`.
pub fn service_running(addr: &str) -> bool {
    matches!(http(addr, "GET", "/health", ""), Ok((200, _)))
}

/// Starts `args` of the analyzer as a child, its events read into a job.
fn spawn(exe: &Path, args: &[String], title: String, out: PathBuf) -> Result<Job, String> {
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let (tx, rx) = channel();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let tx2: Sender<Msg> = tx.clone();
    // The last line of the child's messages is its error, if it fails.
    let errors = std::thread::spawn(move || {
        let mut last = String::new();
        if let Some(e) = stderr {
            for line in BufReader::new(e).lines().map_while(Result::ok) {
                if !line.trim().is_empty() {
                    last = line;
                }
            }
        }
        last
    });
    std::thread::spawn(move || {
        if let Some(o) = stdout {
            for line in BufReader::new(o).lines().map_while(Result::ok) {
                if let Some(e) = parse_event(&line) {
                    let _ = tx.send(Msg::Event(e));
                }
            }
        }
        let last = errors.join().unwrap_or_default();
        // The process closed its output: it is ending (its status is taken in `poll`).
        let _ = tx2.send(Msg::Closed(last));
    });
    Ok(Job {
        title,
        out,
        stages: Vec::new(),
        first_event: None,
        ended: None,
        started: Instant::now(),
        runner: Runner::Process(child),
        rx,
    })
}

/// Submits to the service and streams its events into a job.
fn submit(addr: &str, body: serde_json::Value, title: String, out: PathBuf) -> Result<Job, String> {
    let (status, reply) =
        http(addr, "POST", "/jobs", &body.to_string()).map_err(|e| e.to_string())?;
    let job: serde_json::Value = serde_json::from_str(&reply).map_err(|e| e.to_string())?;
    if status != 201 {
        return Err(job["error"].as_str().unwrap_or("refused").to_string());
    }
    let id = job["id"].as_str().unwrap_or("").to_string();
    let (tx, rx) = channel();
    let (addr2, jid) = (addr.to_string(), id.clone());
    std::thread::spawn(move || {
        // Long polls: the events after the last seen, waiting up to 2 s for one.
        let mut from = 0usize;
        let mut failures = 0;
        let end = loop {
            match http_full(
                &addr2,
                "GET",
                &format!("/jobs/{jid}/events?from={from}&wait=2"),
                "",
            ) {
                Ok((200, head, body)) => {
                    failures = 0;
                    for line in body.lines() {
                        if let Some(e) = parse_event(line) {
                            if tx.send(Msg::Event(e)).is_err() {
                                return;
                            }
                        }
                    }
                    from = header(&head, "X-Next")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(from);
                    if header(&head, "X-Done") == Some("true") {
                        break match http(&addr2, "GET", &format!("/jobs/{jid}"), "") {
                            Ok((_, b)) => {
                                let j: serde_json::Value =
                                    serde_json::from_str(&b).unwrap_or_default();
                                if j["state"] == "done" {
                                    Ok(())
                                } else {
                                    Err(j["error"]
                                        .as_str()
                                        .map(String::from)
                                        .unwrap_or_else(|| format!("the job is {}", j["state"])))
                                }
                            }
                            Err(e) => Err(e.to_string()),
                        };
                    }
                }
                Ok((status, _, body)) => {
                    break Err(format!("the service answered {status}: {body}"))
                }
                Err(e) => {
                    failures += 1;
                    if failures > 5 {
                        break Err(format!("lost the service: {e}"));
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        };
        let _ = tx.send(Msg::Ended(end));
    });
    Ok(Job {
        title,
        out,
        stages: Vec::new(),
        first_event: None,
        ended: None,
        started: Instant::now(),
        runner: Runner::Service {
            addr: addr.to_string(),
            id,
        },
        rx,
    })
}

/// One element as the editor lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementRow {
    pub name: String,
    pub role: String,
    pub preset: String,
    pub loss_before: Option<f64>,
    pub loss_after: Option<f64>,
}

/// The QC history: a row per dimension (and the overall), a column per iteration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QcTable {
    pub target: Option<f64>,
    pub best: Option<usize>,
    pub overall: Vec<f64>,
    pub dimensions: Vec<(String, Vec<f64>)>,
}

/// What the editor shows of a session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    pub dir: PathBuf,
    pub track: String,
    pub bpm: Option<f64>,
    pub key: String,
    pub elements: Vec<ElementRow>,
    pub qc: QcTable,
    pub report: Option<PathBuf>,
}

impl Summary {
    /// Reads `dir/session.json`; the error names the file.
    pub fn read(dir: &Path) -> Result<Self, String> {
        let file = dir.join("session.json");
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: cannot read the session: {e}", file.display()))?;
        let doc: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a session: {e}", file.display()))?;
        let elements = doc["elements"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|e| ElementRow {
                        name: e["name"].as_str().unwrap_or("").to_string(),
                        role: e["role"].as_str().unwrap_or("").to_string(),
                        preset: e["preset"].as_str().unwrap_or("").to_string(),
                        loss_before: e["fit"]["loss_before"].as_f64(),
                        loss_after: e["fit"]["loss_after"].as_f64(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut qc = QcTable {
            target: doc["qc"]["target"].as_f64(),
            best: doc["qc"]["best_iteration"].as_u64().map(|b| b as usize),
            ..QcTable::default()
        };
        if let Some(its) = doc["qc"]["iterations"].as_array() {
            qc.overall = its
                .iter()
                .map(|i| i["overall"].as_f64().unwrap_or(0.0))
                .collect();
            let mut names: Vec<String> = Vec::new();
            for i in its {
                if let Some(d) = i["dimensions"].as_object() {
                    for k in d.keys() {
                        if !names.contains(k) {
                            names.push(k.clone());
                        }
                    }
                }
            }
            qc.dimensions = names
                .into_iter()
                .map(|n| {
                    let row = its
                        .iter()
                        .map(|i| i["dimensions"][&n].as_f64().unwrap_or(f64::NAN))
                        .collect();
                    (n, row)
                })
                .collect();
        }
        let report = dir.join("report.html");
        Ok(Self {
            dir: dir.to_path_buf(),
            track: doc["source"]["path"].as_str().unwrap_or("").to_string(),
            bpm: doc["tempo"]["bpm"].as_f64(),
            key: format!(
                "{} {}",
                doc["key"]["tonic"].as_str().unwrap_or(""),
                doc["key"]["mode"].as_str().unwrap_or("")
            )
            .trim()
            .to_string(),
            elements,
            qc,
            report: report.is_file().then_some(report),
        })
    }
}

/// The editor's state.
#[derive(Default)]
pub struct Workflow {
    /// The session shown (and played by the A/B).
    pub summary: Option<Summary>,
    /// The job running or last run.
    pub job: Option<Job>,
    /// The last message (an error, or what a command did).
    pub message: String,
    /// A session the plugin should switch to (taken by the editor, which sets the persisted
    /// field so the loader loads it).
    pub load: Option<PathBuf>,
    /// The service's address (`None`: never use it).
    pub service: Option<String>,
}

impl Workflow {
    /// A workflow that uses the service at its default address when it answers.
    pub fn new() -> Self {
        Self {
            service: Some(SERVICE.to_string()),
            ..Self::default()
        }
    }

    /// Shows the session in `dir`.
    pub fn open(&mut self, dir: &Path) {
        match Summary::read(dir) {
            Ok(s) => {
                self.summary = Some(s);
                self.message.clear();
            }
            Err(e) => self.message = e,
        }
    }

    fn busy(&self) -> bool {
        self.job.as_ref().is_some_and(Job::running)
    }

    fn start(&mut self, job: Result<Job, String>) {
        match job {
            Ok(j) => {
                self.message = format!("{} …", j.title);
                self.job = Some(j);
            }
            Err(e) => self.message = e,
        }
    }

    /// The session folder for a dropped track: beside it, `<name>.auralis`.
    pub fn session_for(track: &Path) -> PathBuf {
        let stem = track
            .file_stem()
            .map_or_else(|| "track".into(), |s| s.to_string_lossy().into_owned());
        track
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("{stem}.auralis"))
    }

    /// Reconstructs `track` into `out` (the service when it runs, else a child process).
    pub fn analyse(&mut self, track: &Path, out: &Path) {
        if self.busy() {
            self.message = "a job is running; cancel it first".into();
            return;
        }
        if !track.is_file() {
            self.message = format!("{}: no such file", track.display());
            return;
        }
        let title = format!(
            "Reconstructing {}",
            track
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
        if let Some(addr) = self.service.clone().filter(|a| service_running(a)) {
            let body = serde_json::json!({"track": track, "out": out});
            self.start(submit(&addr, body, title, out.to_path_buf()));
            return;
        }
        let Some(exe) = analyzer() else {
            self.message =
                "the auralis analyzer was not found (set AURALIS_BIN or put auralis on the PATH)"
                    .into();
            return;
        };
        let args = vec![
            "reconstruct".to_string(),
            track.to_string_lossy().into_owned(),
            "--progress".into(),
            "json".into(),
            "-o".into(),
            out.to_string_lossy().into_owned(),
        ];
        self.start(spawn(&exe, &args, title, out.to_path_buf()));
    }

    /// Runs one more iteration of the loop on the session shown.
    pub fn iterate(&mut self) {
        let Some(s) = &self.summary else {
            self.message = "no session".into();
            return;
        };
        if self.busy() {
            self.message = "a job is running".into();
            return;
        }
        let Some(exe) = analyzer() else {
            self.message = "the auralis analyzer was not found".into();
            return;
        };
        let n = s.qc.overall.len() + 1;
        let out = s.dir.clone();
        let args = vec![
            "reconstruct".to_string(),
            "--resume".into(),
            "--max-iterations".into(),
            n.to_string(),
            "--target".into(),
            "100".into(),
            "--progress".into(),
            "json".into(),
            "-o".into(),
            out.to_string_lossy().into_owned(),
        ];
        self.start(spawn(&exe, &args, "Another iteration".into(), out));
    }

    /// Writes the DAW project into the session folder (`project.dawproject` or `.rpp`).
    pub fn export(&mut self, rpp: bool) -> Option<PathBuf> {
        let s = self.summary.as_ref()?;
        let Some(exe) = analyzer() else {
            self.message = "the auralis analyzer was not found".into();
            return None;
        };
        let file = s.dir.join(if rpp {
            "project.rpp"
        } else {
            "project.dawproject"
        });
        let o = Command::new(exe)
            .arg("export")
            .arg(&s.dir)
            .arg("-o")
            .arg(&file)
            .output();
        match o {
            Ok(o) if o.status.success() => {
                self.message = format!("{} written", file.display());
                Some(file)
            }
            Ok(o) => {
                self.message = String::from_utf8_lossy(&o.stderr).trim().to_string();
                None
            }
            Err(e) => {
                self.message = e.to_string();
                None
            }
        }
    }

    /// Opens a file or folder with the desktop's handler (`xdg-open`), without waiting.
    pub fn reveal(&mut self, path: &Path) {
        match Command::new("xdg-open")
            .arg(path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(_) => self.message = format!("opened {}", path.display()),
            Err(e) => self.message = format!("cannot open {}: {e}", path.display()),
        }
    }

    /// Takes what the jobs sent; returns whether anything changed. When a job ends well its
    /// session is shown and handed to the plugin (`load`).
    pub fn poll(&mut self) -> bool {
        let Some(job) = self.job.as_mut() else {
            return false;
        };
        let was_running = job.running();
        let changed = job.poll();
        if was_running {
            if let Some(end) = &job.ended {
                let out = job.out.clone();
                match end {
                    Ok(()) => {
                        self.message = format!("{} done", job.title);
                        self.load = Some(out.clone());
                        self.open(&out);
                    }
                    Err(e) => self.message = format!("{}: {e}", job.title),
                }
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("auralis-workflow-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A stand-in analyzer: prints progress events, writes a session, exits.
    fn fake_analyzer(dir: &Path, fail: bool) -> PathBuf {
        let exe = dir.join("auralis");
        let script = format!(
            r#"#!/bin/sh
out=""
while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
echo '{{"stage":"decode","fraction":0.0,"message":"reading"}}'
sleep 0.2
echo '{{"stage":"decode","fraction":1.0,"message":"done"}}'
echo '{{"stage":"separate","fraction":0.5,"message":"half"}}'
{}
mkdir -p "$out"
cat > "$out/session.json" <<'EOF'
{{"schema":"auralis.session/1","source":{{"path":"/music/a.wav"}},"tempo":{{"bpm":120.0}},
 "key":{{"tonic":"A","mode":"minor"}},
 "elements":[{{"name":"bass","role":"bass","preset":"Sub","fit":{{"loss_before":9.0,"loss_after":6.5}}}}],
 "qc":{{"target":90,"best_iteration":1,"iterations":[
   {{"index":0,"overall":70.0,"dimensions":{{"bpm":90.0,"timbre":40.0}}}},
   {{"index":1,"overall":74.5,"dimensions":{{"bpm":95.0,"timbre":44.0}}}}]}}}}
EOF
echo '{{"stage":"done","fraction":1.0,"message":"finished"}}'
"#,
            if fail {
                "echo 'auralis: error: /music/a.wav: not a recognised audio file' >&2; exit 65"
            } else {
                ""
            }
        );
        std::fs::write(&exe, script).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        exe
    }

    fn run_to_end(w: &mut Workflow) {
        let until = Instant::now() + Duration::from_secs(10);
        while w.job.as_ref().is_some_and(Job::running) {
            w.poll();
            assert!(Instant::now() < until, "the job never ended");
            std::thread::sleep(Duration::from_millis(10));
        }
        w.poll();
    }

    #[test]
    fn events_parse_into_stages_in_order() {
        assert_eq!(
            parse_event(r#"{"stage":"rhythm","fraction":0.25,"message":"beats"}"#),
            Some(Stage {
                name: "rhythm".into(),
                fraction: 0.25,
                message: "beats".into()
            })
        );
        assert_eq!(parse_event("not json"), None);
        assert_eq!(parse_event("1a"), None);
    }

    #[test]
    fn a_dropped_track_runs_the_companion_and_its_session_loads() {
        let dir = scratch("run");
        let exe = fake_analyzer(&dir, false);
        std::env::set_var("AURALIS_BIN", &exe);
        let track = dir.join("song.wav");
        std::fs::write(&track, b"RIFF").unwrap();
        let mut w = Workflow::default(); // no service
        let out = Workflow::session_for(&track);
        assert_eq!(out, dir.join("song.auralis"));
        w.analyse(&track, &out);
        assert!(w.job.is_some(), "{}", w.message);
        // The first stage shows before the analysis is done.
        let until = Instant::now() + Duration::from_secs(5);
        while w.job.as_ref().unwrap().stages.is_empty() {
            w.poll();
            assert!(Instant::now() < until);
            std::thread::sleep(Duration::from_millis(5));
        }
        let first = w.job.as_ref().unwrap().first_event.unwrap();
        assert!(first < Duration::from_secs(1), "{first:?}");
        assert!(w.job.as_ref().unwrap().running());
        run_to_end(&mut w);
        let job = w.job.as_ref().unwrap();
        assert_eq!(job.ended, Some(Ok(())));
        let names: Vec<&str> = job.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["decode", "separate", "done"]);
        assert_eq!(job.fraction(), 1.0);
        // The session is shown and handed to the plugin.
        assert_eq!(w.load.as_deref(), Some(out.as_path()));
        let s = w.summary.as_ref().unwrap();
        assert_eq!(s.elements[0].preset, "Sub");
        assert_eq!(s.elements[0].loss_after, Some(6.5));
        assert_eq!(s.qc.overall, [70.0, 74.5]);
        assert_eq!(s.qc.best, Some(1));
        assert_eq!(s.key, "A minor");
        let timbre = s.qc.dimensions.iter().find(|d| d.0 == "timbre").unwrap();
        assert_eq!(timbre.1, [40.0, 44.0]);

        // A failing analysis: its error is the message, nothing is loaded.
        let exe = fake_analyzer(&dir, true);
        std::env::set_var("AURALIS_BIN", &exe);
        let mut w = Workflow::default();
        w.analyse(&track, &dir.join("other.auralis"));
        run_to_end(&mut w);
        assert!(
            w.message.contains("not a recognised audio file"),
            "{}",
            w.message
        );
        assert!(w.load.is_none());
        std::env::remove_var("AURALIS_BIN");
    }

    #[test]
    fn a_missing_track_is_refused_before_anything_runs() {
        let mut w = Workflow::default();
        w.analyse(Path::new("/no/such.wav"), Path::new("/tmp/x"));
        assert!(w.job.is_none());
        assert!(w.message.contains("/no/such.wav"));
    }
}
