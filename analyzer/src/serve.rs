//! `auralis serve`: a small HTTP/JSON analysis service with a job queue kept on disk.
//!
//! The plugins' editor (and any script) submits tracks; the service runs them one at a time
//! (`--concurrency N` for more) as `auralis reconstruct` (or `analyze`) child processes, keeps
//! each job's progress events, and survives restarts: every job is a folder under the jobs
//! folder with its `job.json` (written atomically on every change of state), its progress
//! events (`events.jsonl`) and the child's messages (`stderr.log`). On start the service reads
//! them back: queued jobs stay queued, a job that was running when the service stopped is
//! queued again at the front, and its child, if it outlived the service, is stopped first; a
//! reconstruction that ran before resumes (`--resume`: from its last complete iteration).
//!
//! It binds to loopback unless told otherwise; bound to any other address it requires a token
//! (`--token` or `AURALIS_SERVE_TOKEN`), which every request must carry as
//! `Authorization: Bearer TOKEN`.
//!
//! | request | does |
//! |---|---|
//! | `GET /health` | `{ok, version, queued, running}` |
//! | `POST /jobs` `{track, out?, kind?, target?, max_iterations?, time_budget?}` | queues a job (201, the job) |
//! | `GET /jobs` | every job, oldest first |
//! | `GET /jobs/ID` | one job |
//! | `GET /jobs/ID/events?from=N&wait=S` | its progress events from line `N` as JSON lines, waiting up to `S` s (at most 30) for one; headers `X-Next` (the `from` of the next call) and `X-Done` |
//! | `POST /jobs/ID/cancel` (or `DELETE /jobs/ID`) | cancels it (a running child is stopped) |

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::session::write_atomic;

/// What a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `auralis reconstruct` (the main job).
    #[default]
    Reconstruct,
    /// `auralis analyze`.
    Analyze,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl State {
    fn finished(self) -> bool {
        matches!(self, State::Done | State::Failed | State::Cancelled)
    }
}

/// A job, as `job.json` keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    /// Order of submission.
    pub seq: u64,
    pub kind: Kind,
    /// The track (`None`: the embedded demo, reconstruct only).
    pub track: Option<PathBuf>,
    /// The session folder written.
    pub out: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_budget: Option<f64>,
    pub state: State,
    /// Times it was started (2 or more: it was resumed after a restart).
    pub attempts: u32,
    pub created_unix: f64,
    #[serde(default)]
    pub started_unix: Option<f64>,
    #[serde(default)]
    pub finished_unix: Option<f64>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// The last progress event.
    #[serde(default)]
    pub progress: Option<serde_json::Value>,
    /// The running child's process id.
    #[serde(default)]
    pub pid: Option<u32>,
}

/// A job as submitted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submit {
    #[serde(default)]
    pub track: Option<PathBuf>,
    #[serde(default)]
    pub out: Option<PathBuf>,
    #[serde(default)]
    pub kind: Kind,
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub max_iterations: Option<u32>,
    #[serde(default)]
    pub time_budget: Option<f64>,
}

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    /// The jobs folder.
    pub jobs: PathBuf,
    /// Jobs run at once.
    pub concurrency: usize,
    /// Required as `Authorization: Bearer TOKEN` when set.
    pub token: Option<String>,
    /// The `auralis` executable the jobs run.
    pub exe: PathBuf,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

struct Inner {
    jobs: BTreeMap<String, Job>,
    children: HashMap<String, Child>,
    next_seq: u64,
}

/// The queue, shared by the HTTP threads and the workers.
pub struct Queue {
    dir: PathBuf,
    exe: PathBuf,
    inner: Mutex<Inner>,
    wake: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether process `pid` is alive and its command line mentions `needle`.
fn alive_with(pid: u32, needle: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(needle))
        .unwrap_or(false)
}

impl Queue {
    /// Opens (or creates) the jobs folder and reads its jobs back: a job that was running is
    /// queued again (its child stopped if it outlived the last service).
    pub fn open(dir: &Path, exe: &Path) -> Result<Arc<Self>> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "writing the jobs folder", e))?;
        let mut jobs = BTreeMap::new();
        let entries =
            std::fs::read_dir(dir).map_err(|e| Error::io(dir, "reading the jobs folder", e))?;
        for entry in entries.flatten() {
            let file = entry.path().join("job.json");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let mut job: Job = serde_json::from_str(&text).map_err(|e| Error::BadTruth {
                path: file.clone(),
                detail: format!("not a job: {e}"),
            })?;
            if job.state == State::Running {
                if let Some(pid) = job.pid.take() {
                    if alive_with(pid, &job.out.to_string_lossy()) {
                        // SAFETY: kill(2) on a process id; no memory is touched.
                        unsafe {
                            libc::kill(pid as libc::pid_t, libc::SIGKILL);
                        }
                        let until = Instant::now() + Duration::from_secs(5);
                        while alive_with(pid, &job.out.to_string_lossy()) && Instant::now() < until
                        {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
                job.state = State::Queued;
            }
            jobs.insert(job.id.clone(), job);
        }
        let next_seq = jobs.values().map(|j| j.seq + 1).max().unwrap_or(0);
        let q = Arc::new(Self {
            dir: dir.to_path_buf(),
            exe: exe.to_path_buf(),
            inner: Mutex::new(Inner {
                jobs,
                children: HashMap::new(),
                next_seq,
            }),
            wake: Condvar::new(),
        });
        for job in lock(&q.inner).jobs.values() {
            q.save(job)?;
        }
        Ok(q)
    }

    fn job_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    fn save(&self, job: &Job) -> Result<()> {
        let dir = self.job_dir(&job.id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, "writing the job", e))?;
        let bytes = serde_json::to_vec_pretty(job).unwrap_or_default();
        write_atomic(&dir.join("job.json"), &bytes)
    }

    /// Queues a job; the error says what is wrong with it.
    pub fn submit(&self, s: Submit) -> std::result::Result<Job, String> {
        if let Some(t) = &s.track {
            if !t.is_file() {
                return Err(format!("{}: no such file", t.display()));
            }
        } else if s.kind == Kind::Analyze {
            return Err("an analyze job needs a track".into());
        }
        if let Some(t) = s.target {
            if !(0.0..=100.0).contains(&t) {
                return Err(format!("target {t} is not a score between 0 and 100"));
            }
        }
        let mut inner = lock(&self.inner);
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let id = format!("job-{seq:06}");
        let track = s.track.map(|t| std::fs::canonicalize(&t).unwrap_or(t));
        let job = Job {
            out: s.out.unwrap_or_else(|| self.job_dir(&id).join("session")),
            id: id.clone(),
            seq,
            kind: s.kind,
            track,
            target: s.target,
            max_iterations: s.max_iterations,
            time_budget: s.time_budget,
            state: State::Queued,
            attempts: 0,
            created_unix: now(),
            started_unix: None,
            finished_unix: None,
            error: None,
            progress: None,
            pid: None,
        };
        self.save(&job).map_err(|e| e.to_string())?;
        inner.jobs.insert(id, job.clone());
        drop(inner);
        self.wake.notify_all();
        Ok(job)
    }

    /// Every job, oldest first.
    pub fn list(&self) -> Vec<Job> {
        let mut v: Vec<Job> = lock(&self.inner).jobs.values().cloned().collect();
        v.sort_by_key(|j| j.seq);
        v
    }

    pub fn get(&self, id: &str) -> Option<Job> {
        lock(&self.inner).jobs.get(id).cloned()
    }

    /// Cancels a job: a queued one never runs, a running one's child is stopped.
    pub fn cancel(&self, id: &str) -> Option<Job> {
        let mut inner = lock(&self.inner);
        let state = inner.jobs.get(id)?.state;
        match state {
            State::Queued => {
                let job = inner.jobs.get_mut(id)?;
                job.state = State::Cancelled;
                job.finished_unix = Some(now());
                let j = job.clone();
                let _ = self.save(&j);
                Some(j)
            }
            State::Running => {
                if let Some(child) = inner.children.get_mut(id) {
                    let _ = child.kill();
                }
                let job = inner.jobs.get_mut(id)?;
                job.state = State::Cancelled;
                let j = job.clone();
                let _ = self.save(&j);
                Some(j)
            }
            _ => inner.jobs.get(id).cloned(),
        }
    }

    fn counts(&self) -> (usize, usize) {
        let inner = lock(&self.inner);
        let q = inner
            .jobs
            .values()
            .filter(|j| j.state == State::Queued)
            .count();
        let r = inner
            .jobs
            .values()
            .filter(|j| j.state == State::Running)
            .count();
        (q, r)
    }

    /// The next queued job, marked running (waits for one).
    fn take(&self) -> Job {
        let mut inner = lock(&self.inner);
        loop {
            let next = inner
                .jobs
                .values()
                .filter(|j| j.state == State::Queued)
                .min_by_key(|j| j.seq)
                .map(|j| j.id.clone());
            if let Some(id) = next {
                let job = inner.jobs.get_mut(&id).expect("just found");
                job.state = State::Running;
                job.attempts += 1;
                job.started_unix = Some(now());
                job.error = None;
                let j = job.clone();
                let _ = self.save(&j);
                return j;
            }
            inner = self
                .wake
                .wait_timeout(inner, Duration::from_millis(500))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    fn command(&self, job: &Job) -> Command {
        let mut c = Command::new(&self.exe);
        match job.kind {
            Kind::Reconstruct => {
                c.arg("reconstruct");
                if let Some(t) = &job.track {
                    c.arg(t);
                }
                if let Some(t) = job.target {
                    c.arg("--target").arg(t.to_string());
                }
                if let Some(n) = job.max_iterations {
                    c.arg("--max-iterations").arg(n.to_string());
                }
                if let Some(b) = job.time_budget {
                    c.arg("--time-budget").arg(b.to_string());
                }
                if job.attempts > 1 {
                    // Started before: continue from its last complete iteration.
                    c.arg("--resume");
                }
            }
            Kind::Analyze => {
                c.arg("analyze");
                if let Some(t) = &job.track {
                    c.arg(t);
                }
            }
        }
        c.arg("--progress").arg("json").arg("-o").arg(&job.out);
        c
    }

    /// Runs one job to its end.
    fn run(&self, mut job: Job) {
        let dir = self.job_dir(&job.id);
        let events_path = dir.join("events.jsonl");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("stderr.log"));
        let mut cmd = self.command(&job);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        match stderr {
            Ok(f) => cmd.stderr(f),
            Err(_) => cmd.stderr(Stdio::null()),
        };
        let spawned = cmd.spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                self.finish(
                    &job.id,
                    Err(format!("cannot start {}: {e}", self.exe.display())),
                );
                return;
            }
        };
        let stdout = child.stdout.take();
        job.pid = Some(child.id());
        {
            let mut inner = lock(&self.inner);
            if let Some(j) = inner.jobs.get_mut(&job.id) {
                j.pid = job.pid;
                let _ = self.save(j);
            }
            if inner
                .jobs
                .get(&job.id)
                .is_some_and(|j| j.state == State::Cancelled)
            {
                // Cancelled between being taken and starting.
                let _ = child.kill();
            }
            inner.children.insert(job.id.clone(), child);
        }
        let mut events = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&events_path)
            .ok();
        let mut saved = Instant::now();
        if let Some(out) = stdout {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(f) = events.as_mut() {
                    let _ = writeln!(f, "{line}");
                    let _ = f.flush();
                }
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    let mut inner = lock(&self.inner);
                    if let Some(j) = inner.jobs.get_mut(&job.id) {
                        j.progress = Some(v);
                        if saved.elapsed() > Duration::from_millis(500) {
                            let _ = self.save(j);
                            saved = Instant::now();
                        }
                    }
                }
            }
        }
        let status = {
            let child = lock(&self.inner).children.remove(&job.id);
            child.map(|mut c| c.wait())
        };
        let result = match status {
            Some(Ok(s)) if s.success() => Ok(()),
            Some(Ok(s)) => Err(last_line(&dir.join("stderr.log"))
                .unwrap_or_else(|| format!("the job exited with {s}"))),
            Some(Err(e)) => Err(format!("waiting for the job: {e}")),
            None => Err("the job's process was lost".into()),
        };
        self.finish(&job.id, result);
    }

    fn finish(&self, id: &str, result: std::result::Result<(), String>) {
        let mut inner = lock(&self.inner);
        if let Some(j) = inner.jobs.get_mut(id) {
            j.pid = None;
            j.finished_unix = Some(now());
            if j.state != State::Cancelled {
                match result {
                    Ok(()) => j.state = State::Done,
                    Err(e) => {
                        j.state = State::Failed;
                        j.error = Some(e);
                    }
                }
            }
            let _ = self.save(j);
        }
    }

    /// Starts `n` workers.
    pub fn start_workers(self: &Arc<Self>, n: usize) {
        for i in 0..n.max(1) {
            let q = self.clone();
            let _ = std::thread::Builder::new()
                .name(format!("auralis-serve-worker-{i}"))
                .spawn(move || loop {
                    let job = q.take();
                    q.run(job);
                });
        }
    }
}

fn last_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}

/// A job's progress events from line `from` on, waiting up to `wait` for one when there is none
/// yet and the job has not ended; also the next line to ask from and whether the job ended.
fn events_from(queue: &Queue, id: &str, from: usize, wait: Duration) -> (Vec<String>, usize, bool) {
    let path = queue.job_dir(id).join("events.jsonl");
    let until = Instant::now() + wait;
    loop {
        let done = queue.get(id).is_none_or(|j| j.state.finished());
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        // Only whole lines: the last may still be being written.
        let complete = text.rfind('\n').map_or("", |i| &text[..i]);
        let lines: Vec<String> = complete
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(String::from)
            .collect();
        if lines.len() > from || done || Instant::now() >= until {
            let next = lines.len().max(from);
            let new = lines.into_iter().skip(from).collect();
            return (new, next, done);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A query parameter of a URL.
fn query<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    url.split_once('?')?
        .1
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

type Reply = tiny_http::Response<Box<dyn Read + Send>>;

fn json_reply(status: u16, body: &impl Serialize) -> Reply {
    let bytes = serde_json::to_vec_pretty(body).unwrap_or_default();
    let len = bytes.len();
    tiny_http::Response::new(
        tiny_http::StatusCode(status),
        vec![
            tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
                .expect("a valid header"),
        ],
        Box::new(std::io::Cursor::new(bytes)) as Box<dyn Read + Send>,
        Some(len),
        None,
    )
}

fn error_reply(status: u16, message: &str) -> Reply {
    json_reply(status, &serde_json::json!({"error": message}))
}

fn handle(queue: &Arc<Queue>, token: &Option<String>, req: &mut tiny_http::Request) -> Reply {
    if let Some(t) = token {
        let ok = req
            .headers()
            .iter()
            .any(|h| h.field.equiv("Authorization") && h.value.as_str() == format!("Bearer {t}"));
        if !ok {
            return error_reply(401, "a token is required: Authorization: Bearer TOKEN");
        }
    }
    let url = req.url().to_string();
    let path = url.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    use tiny_http::Method::*;
    match (req.method(), parts.as_slice()) {
        (Get, ["health"]) => {
            let (queued, running) = queue.counts();
            json_reply(
                200,
                &serde_json::json!({"ok": true, "version": env!("CARGO_PKG_VERSION"),
                                    "queued": queued, "running": running}),
            )
        }
        (Get, ["jobs"]) => json_reply(200, &queue.list()),
        (Post, ["jobs"]) => {
            let mut body = String::new();
            if req
                .as_reader()
                .take(1 << 20)
                .read_to_string(&mut body)
                .is_err()
            {
                return error_reply(400, "the body is not UTF-8 text");
            }
            let submit: Submit = match serde_json::from_str(&body) {
                Ok(s) => s,
                Err(e) => return error_reply(400, &format!("not a job: {e}")),
            };
            match queue.submit(submit) {
                Ok(job) => json_reply(201, &job),
                Err(e) => error_reply(400, &e),
            }
        }
        (Get, ["jobs", id]) => match queue.get(id) {
            Some(j) => json_reply(200, &j),
            None => error_reply(404, &format!("no job {id}")),
        },
        (Post, ["jobs", id, "cancel"]) | (Delete, ["jobs", id]) => match queue.cancel(id) {
            Some(j) => json_reply(200, &j),
            None => error_reply(404, &format!("no job {id}")),
        },
        (Get, ["jobs", id, "events"]) => {
            if queue.get(id).is_none() {
                return error_reply(404, &format!("no job {id}"));
            }
            let from = query(&url, "from")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let wait = query(&url, "wait")
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                .clamp(0.0, 30.0);
            let (lines, next, done) = events_from(queue, id, from, Duration::from_secs_f64(wait));
            let mut body = lines.join("\n");
            if !body.is_empty() {
                body.push('\n');
            }
            let len = body.len();
            let header = |k: &str, v: &str| {
                tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).expect("a valid header")
            };
            tiny_http::Response::new(
                tiny_http::StatusCode(200),
                vec![
                    header("Content-Type", "application/x-ndjson"),
                    header("X-Next", &next.to_string()),
                    header("X-Done", if done { "true" } else { "false" }),
                ],
                Box::new(std::io::Cursor::new(body.into_bytes())) as Box<dyn Read + Send>,
                Some(len),
                None,
            )
        }
        _ => error_reply(404, &format!("no such request: {} {path}", req.method())),
    }
}

/// Whether `ip` is a loopback address.
fn loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

/// Runs the service until the process ends. Prints `listening on http://ADDR` on stdout once
/// it accepts requests (the port is the bound one when 0 was asked for).
pub fn serve(opts: &Options) -> Result<()> {
    if !loopback(opts.listen.ip()) && opts.token.is_none() {
        return Err(Error::BadTruth {
            path: PathBuf::from(opts.listen.to_string()),
            detail: "binding to an address other than loopback needs a token (--token or AURALIS_SERVE_TOKEN)".into(),
        });
    }
    let queue = Queue::open(&opts.jobs, &opts.exe)?;
    let server = tiny_http::Server::http(opts.listen).map_err(|e| Error::Io {
        path: PathBuf::from(opts.listen.to_string()),
        action: "listening",
        source: std::io::Error::other(e.to_string()),
    })?;
    queue.start_workers(opts.concurrency);
    let addr = server
        .server_addr()
        .to_ip()
        .map_or_else(|| opts.listen.to_string(), |a| a.to_string());
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    let (queued, running) = queue.counts();
    eprintln!(
        "auralis serve: jobs in {}, {queued} queued, {running} running, {} at a time",
        opts.jobs.display(),
        opts.concurrency.max(1)
    );
    for mut req in server.incoming_requests() {
        let q = queue.clone();
        let token = opts.token.clone();
        let _ = std::thread::Builder::new()
            .name("auralis-serve-request".into())
            .spawn(move || {
                let reply = handle(&q, &token, &mut req);
                let _ = req.respond(reply);
            });
    }
    Ok(())
}
