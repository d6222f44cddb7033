//! `auralis` — the AURALIS command-line analyzer.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use auralis::models::{Device, Store};
use auralis::progress::{JsonLines, Progress, Silent};
use auralis::session::{self, PendingFile};
use auralis::{demo, eval, frontend, midi, profile, transcribe, Error};

#[derive(Parser)]
#[command(
    name = "auralis",
    version,
    about = "Takes a music track apart and writes an AURALIS session folder"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ExportFormat {
    /// DAWproject (Bitwig Studio, Studio One, Cubase).
    Dawproject,
    /// REAPER project.
    Rpp,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ProgressMode {
    /// Progress bars on the terminal (hidden when stderr is not a terminal).
    Bar,
    /// One JSON object per line on stdout: {"stage", "fraction", "message"}.
    Json,
    /// Nothing.
    None,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse a track and write the session folder.
    Analyze {
        /// Audio file (WAV, AIFF, FLAC, MP3, Ogg Vorbis, M4A/AAC, ALAC, CAF, MKV/WebM).
        track: PathBuf,
        /// Session folder to write (created if missing).
        #[arg(short, long)]
        out: PathBuf,
        /// How to report progress.
        #[arg(long, value_enum, default_value = "bar")]
        progress: ProgressMode,
        /// Do not write the decoded original (original.wav) into the session.
        #[arg(long)]
        no_original: bool,
        /// Profile only: no stems, notes or MIDI.
        #[arg(long)]
        no_elements: bool,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// The main job: take a track apart and rebuild it (today: the analysis, then a fitted
    /// synth patch and a render per element). Without a track, runs on the embedded demo song.
    Reconstruct {
        /// Audio file; omit to use the embedded demo.
        track: Option<PathBuf>,
        /// Session folder to write (created if missing).
        #[arg(short, long, default_value = "auralis-session")]
        out: PathBuf,
        /// How to report progress.
        #[arg(long, value_enum, default_value = "bar")]
        progress: ProgressMode,
        /// Seconds of patch fitting for the whole song (all elements, wall clock).
        #[arg(long, default_value_t = 40.0, value_parser = parse_seconds)]
        fit_seconds: f64,
        /// Overall QC score (0-100) that ends the improvement loop.
        #[arg(long, default_value_t = 90.0, value_parser = parse_score)]
        target: f64,
        /// Iterations of the loop at most (the first mix counts).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
        max_iterations: u32,
        /// Seconds for the whole reconstruct (the first fit takes at most 40 % of it); the
        /// loop starts no iteration it cannot finish in what is left (the first round always
        /// runs).
        #[arg(long, value_parser = parse_seconds, default_value_t = DEFAULT_BUDGET_S)]
        time_budget: f64,
        /// No time budget: the loop runs until the target or --max-iterations, and the first
        /// fit takes --fit-seconds.
        #[arg(long, conflicts_with = "time_budget")]
        no_time_budget: bool,
        /// Continue the loop of the session in --out (its analysis, fits and history) instead
        /// of starting again.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Analyse every song of a ground-truth corpus and print the metric table.
    Eval {
        /// Corpus folder written by shared/corpus/build.
        corpus: PathBuf,
        /// Also write the scores as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Score the profile only (no stems, notes or drums).
        #[arg(long)]
        profile_only: bool,
        /// Score the timbre of fitted patches instead (each truth stem fitted from its truth
        /// MIDI, then rendered and compared with the stem).
        #[arg(long)]
        timbre: bool,
        /// Score effect detection instead (each truth stem measured with its truth MIDI and
        /// the truth kicks, against the corpus's effects).
        #[arg(long, conflicts_with = "timbre")]
        effects: bool,
        /// With --timbre: also write each part's fitted render here (`<song>-<stem>.wav`).
        #[arg(long, requires = "timbre")]
        renders: Option<PathBuf>,
        /// With --timbre: seconds of fitting per part.
        #[arg(long, default_value_t = 8.0, value_parser = parse_seconds)]
        fit_seconds: f64,
        /// With --timbre: also stop each part's parameter search after this many loss
        /// evaluations, so that the scores repeat exactly (give a --fit-seconds they do not
        /// reach); for comparing changes to the fitter.
        #[arg(long)]
        fit_evaluations: Option<usize>,
        /// Model cache folder.
        #[arg(long)]
        models: Option<PathBuf>,
    },
    /// Transcribe one audio file (a stem or a mix) to MIDI.
    Transcribe {
        /// Audio file.
        track: PathBuf,
        /// MIDI file to write.
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// The element's role; decides the policy (bass, vocals, lead: one line; drums; else
        /// polyphonic).
        #[arg(long, default_value = "other")]
        role: String,
        /// Basic Pitch's own notes, without the role policy (what the Python package gives).
        #[arg(long)]
        raw: bool,
        /// Also write the notes as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Mix and master a reconstructed session again (its renders through their chains,
    /// the sum mastered against the original), rewriting render/mix.wav and session.json.
    Mix {
        /// Session folder written by `auralis reconstruct`.
        session: PathBuf,
        /// How to report progress.
        #[arg(long, value_enum, default_value = "bar")]
        progress: ProgressMode,
    },
    /// Score how close a rebuild comes to its original on QC's twelve dimensions (0-100
    /// each) and overall (docs/qc.md).
    Score {
        /// The original (reference) audio file.
        reference: PathBuf,
        /// The audio file to score against it.
        candidate: PathBuf,
        /// Print the table as JSON: {"overall", "dimensions": {name: score}, "measures", ...}.
        #[arg(long)]
        json: bool,
    },
    /// Write the session's report.html again (spectrograms, curves, piano rolls, QC history,
    /// decisions, players).
    Report {
        /// Session folder.
        session: PathBuf,
    },
    /// Write the session as a DAW project: a track per element with its MIDI clip, the AURALIS
    /// Instrument and Console, the original on a muted reference track, the master chain and
    /// the A/B on the master, the tempo map, meter and sections.
    Export {
        /// Session folder.
        session: PathBuf,
        /// Project format (default: from the output's extension, .dawproject or .rpp).
        #[arg(long, value_enum)]
        format: Option<ExportFormat>,
        /// Project file to write.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Run the analysis service: an HTTP/JSON job queue kept on disk (the plugins' editor uses
    /// it when it runs; see docs/serve.md).
    Serve {
        /// Address to listen on (loopback by default; any other needs a token).
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: std::net::SocketAddr,
        /// Jobs folder (default: $XDG_DATA_HOME/auralis/jobs, or ~/.local/share/auralis/jobs).
        #[arg(long)]
        jobs: Option<PathBuf>,
        /// Jobs run at once.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// Token every request must carry (Authorization: Bearer TOKEN); default from
        /// AURALIS_SERVE_TOKEN.
        #[arg(long)]
        token: Option<String>,
    },
    /// Write the embedded demo song as a WAV file.
    Demo {
        /// Output WAV file.
        #[arg(short, long, default_value = "auralis-demo.wav")]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum DeviceArg {
    /// The CPU.
    Cpu,
    /// The GPU (CUDA); an error when none can be used.
    Gpu,
    /// The GPU when one can be used, else the CPU.
    Auto,
}

/// Where neural models come from and run.
#[derive(clap::Args, Clone)]
struct ModelArgs {
    /// Where inference runs.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceArg,
    /// Model cache folder (default: $AURALIS_MODELS, else models/cache of the checkout, else
    /// ~/.cache/auralis/models).
    #[arg(long)]
    models: Option<PathBuf>,
}

impl ModelArgs {
    fn device(&self) -> Device {
        match self.device {
            DeviceArg::Cpu => Device::Cpu,
            DeviceArg::Gpu => Device::Gpu,
            DeviceArg::Auto => Device::Auto,
        }
    }
}

/// Terminal progress: one bar, its prefix the stage.
struct Bars {
    bar: ProgressBar,
}

impl Bars {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let style =
            ProgressStyle::with_template("{prefix:>10.bold} [{bar:30}] {percent:>3}%  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        Self { bar }
    }
}

impl Progress for Bars {
    fn update(&self, stage: &str, fraction: f64, message: &str) {
        if self.bar.prefix() != stage {
            self.bar.set_prefix(stage.to_string());
        }
        self.bar
            .set_position((fraction.clamp(0.0, 1.0) * 100.0) as u64);
        self.bar.set_message(message.to_string());
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn reporter(mode: ProgressMode) -> Box<dyn Progress> {
    match mode {
        ProgressMode::Bar => Box::new(Bars::new()),
        ProgressMode::Json => Box::new(JsonLines::new(std::io::stdout())),
        ProgressMode::None => Box::new(Silent),
    }
}

/// Peak resident memory of this process, bytes (Linux; `None` elsewhere).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Analyses `track` into `out`; on failure removes `out` if this run created it empty. With
/// `fit`, also fits and renders the elements (HANDS); the caller mixes them.
fn analyze_into(
    track: &Path,
    out: &Path,
    write_original: bool,
    elements: Option<&ModelArgs>,
    fit: Option<std::time::Duration>,
    mode: ProgressMode,
) -> Result<session::Session, Error> {
    let created = !out.exists();
    std::fs::create_dir_all(out).map_err(|e| Error::Io {
        path: out.into(),
        action: "writing (creating the session folder)",
        source: e,
    })?;
    let result = (|| {
        let started = Instant::now();
        let pending = write_original.then(|| PendingFile::new(&out.join(session::ORIGINAL_FILE)));
        let progress = reporter(mode);
        let mut analysis =
            profile::analyze(track, pending.as_ref().map(|p| p.path()), progress.as_ref())?;
        if let Some(p) = pending {
            p.commit()?;
            analysis.session.source.original = Some(session::ORIGINAL_FILE.to_string());
        }
        if let Some(args) = elements {
            let options = auralis::elements::Options {
                device: args.device(),
                models: args.models.clone(),
            };
            let records = auralis::elements::run(
                track,
                &analysis.mono,
                &mut analysis.session,
                out,
                &options,
                progress.as_ref(),
            )?;
            analysis.session.stages.extend(records);
            let record = auralis::effects::run(&mut analysis.session, out, progress.as_ref())?;
            analysis.session.stages.push(record);
            if let Some(budget) = fit {
                let record = auralis::hands::run(
                    &mut analysis.session,
                    out,
                    &auralis::hands::Options {
                        budget,
                        ..Default::default()
                    },
                    progress.as_ref(),
                )?;
                analysis.session.stages.push(record);
            }
        }
        let path = session::write(out, &analysis.session)?;
        progress.update("done", 1.0, &path.display().to_string());
        drop(progress);
        if mode != ProgressMode::Json {
            let s = &analysis.session;
            eprintln!(
                "{}: {:.1} BPM {}/{}, {}, {} chords, {} sections, {:.1} LUFS, {} elements — session written to {} ({:.2} s, peak memory {})",
                track.display(),
                s.tempo.bpm,
                s.meter.numerator,
                s.meter.denominator,
                s.key.label,
                s.chords.len(),
                s.sections.len(),
                s.loudness.integrated_lufs,
                s.elements.len(),
                path.display(),
                started.elapsed().as_secs_f64(),
                peak_rss_bytes().map(|b| format!("{:.0} MB", b as f64 / 1e6)).unwrap_or_else(|| "unknown".into()),
            );
        }
        Ok(analysis.session)
    })();
    if result.is_err() && created {
        // Only removes the folder if nothing is in it.
        let _ = std::fs::remove_dir(out);
    }
    result
}

fn transcribe_file(
    track: &Path,
    out: Option<&Path>,
    role: &str,
    raw: bool,
    json: Option<&Path>,
    args: &ModelArgs,
) -> Result<(), Error> {
    let started = Instant::now();
    let fe = frontend::run(track, None, &Silent)?;
    let store = Store::open(args.models.as_deref());
    let policy = transcribe::Policy::for_role(role);
    let model_err = |e: auralis::models::ModelError| Error::Internal {
        stage: "transcribe",
        detail: e.to_string(),
    };
    let (notes, method) = if policy == transcribe::Policy::Drums {
        let (rate, stereo) = auralis::decode::read_stereo(track)?;
        let mono: Vec<f32> = stereo.chunks(2).map(|f| 0.5 * (f[0] + f[1])).collect();
        (
            transcribe::drums::transcribe(&mono, rate),
            "drums".to_string(),
        )
    } else {
        let mut t = transcribe::Transcriber::load(&store, args.device()).map_err(model_err)?;
        let method = format!("basic-pitch on {}", t.device());
        let notes = if raw {
            t.raw_notes(&fe.mono)
                .map_err(model_err)?
                .iter()
                .map(transcribe::Note::from_event)
                .collect()
        } else {
            t.notes(&fe.mono, policy, &mut |_| {}).map_err(model_err)?
        };
        (notes, method)
    };
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&notes).map_err(|e| Error::Internal {
            stage: "transcribe",
            detail: e.to_string(),
        })?;
        session::write_atomic(path, text.as_bytes())?;
    }
    if let Some(path) = out {
        let mut s = profile::analyze(track, None, &Silent)?.session;
        s.elements.clear();
        let grid = midi::Grid::from_session(&s);
        let name = track
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| role.to_string());
        midi::write(
            path,
            &grid,
            &[midi::Part {
                name: &name,
                drums: policy == transcribe::Policy::Drums,
                program: 0,
                notes: &notes,
            }],
        )?;
    }
    eprintln!(
        "{}: {} notes ({method}, {:.2} s)",
        track.display(),
        notes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Analyze {
            track,
            out,
            progress,
            no_original,
            no_elements,
            models,
        } => analyze_into(
            &track,
            &out,
            !no_original,
            (!no_elements).then_some(&models),
            None,
            progress,
        )
        .map(|_| ()),
        Command::Reconstruct {
            track,
            out,
            progress,
            fit_seconds,
            target,
            max_iterations,
            time_budget,
            no_time_budget,
            resume,
            models,
        } => {
            let started = Instant::now();
            let track = match track {
                Some(t) => t,
                None => {
                    std::fs::create_dir_all(&out).map_err(|e| Error::Io {
                        path: out.clone(),
                        action: "writing (creating the session folder)",
                        source: e,
                    })?;
                    let demo_path = out.join("demo.wav");
                    if progress != ProgressMode::Json {
                        eprintln!(
                            "no track given: analysing the embedded demo song ({})",
                            demo_path.display()
                        );
                    }
                    demo::write_wav(&demo_path)?;
                    demo_path
                }
            };
            let time_budget = if no_time_budget {
                None
            } else {
                Some(time_budget)
            };
            let resumable = resume
                && session::read(&out.join(session::SESSION_FILE))
                    .is_ok_and(|s| s.elements.iter().any(|e| e.extra.contains_key("render")));
            let session = if resumable {
                let s = session::read(&out.join(session::SESSION_FILE))?;
                // A track given with --resume must be the one the session was made from.
                if track.exists() && frontend::sha256_file(&track)? != s.source.sha256 {
                    return Err(Error::BadTruth {
                        path: out.join(session::SESSION_FILE),
                        detail: format!(
                            "cannot resume: the session was made from {}, not from {}",
                            s.source.path,
                            track.display()
                        ),
                    });
                }
                s
            } else {
                if resume && progress != ProgressMode::Json {
                    eprintln!(
                        "{}: no fitted session to resume; starting from the analysis",
                        out.display()
                    );
                }
                // With a time budget the first fit takes at most 40 % of it, so that the
                // loop has rounds left.
                let fit_s = time_budget.map_or(fit_seconds, |b| fit_seconds.min(0.4 * b));
                analyze_into(
                    &track,
                    &out,
                    true,
                    Some(&models),
                    Some(std::time::Duration::from_secs_f64(fit_s)),
                    progress,
                )?
            };
            let options = auralis::reconstruct::Options {
                target,
                max_iterations: max_iterations as usize,
                time_budget,
            };
            let reporter = reporter(progress);
            let show = progress != ProgressMode::Json;
            let best = auralis::reconstruct::run(
                session,
                &out,
                &options,
                started,
                resumable,
                reporter.as_ref(),
                &mut |it, table| {
                    if show {
                        println!(
                            "iteration {} ({}, {:.1} s): overall {:.1}\n{}",
                            it.index,
                            it.step,
                            it.seconds,
                            table.overall,
                            table.to_text()
                        );
                    }
                },
            )?;
            drop(reporter);
            if show {
                let qc = best.qc.as_ref();
                eprintln!(
                    "best iteration {} (overall {}), {}; {} written ({:.1} s, peak memory {})",
                    qc.and_then(|q| q.get("best_iteration"))
                        .map_or("?".into(), |v| v.to_string()),
                    qc.and_then(|q| q.get("best_table"))
                        .and_then(|t| t.get("overall"))
                        .map_or("?".into(), |v| v.to_string()),
                    qc.and_then(|q| q.get("stopped"))
                        .and_then(|v| v.as_str())
                        .unwrap_or(""),
                    out.join(session::SESSION_FILE).display(),
                    started.elapsed().as_secs_f64(),
                    peak_rss_bytes()
                        .map(|b| format!("{:.0} MB", b as f64 / 1e6))
                        .unwrap_or_else(|| "unknown".into()),
                );
            }
            Ok(())
        }
        Command::Eval {
            corpus,
            json,
            effects: true,
            ..
        } => {
            let started = Instant::now();
            let songs = eval::corpus_songs(&corpus)?;
            println!("{}", eval::effects::header());
            let stems = eval::effects::run(&songs, &mut |s| println!("{}", eval::effects::row(s)))?;
            println!("{}", eval::effects::summary(&stems));
            println!(
                "{} stems of {} songs in {:.1} s",
                stems.len(),
                songs.len(),
                started.elapsed().as_secs_f64()
            );
            if let Some(path) = json {
                eval::effects::write_json(&path, &stems)?;
            }
            Ok(())
        }
        Command::Eval {
            corpus,
            json,
            timbre: true,
            fit_seconds,
            fit_evaluations,
            renders,
            ..
        } => {
            let started = Instant::now();
            let songs = eval::corpus_songs(&corpus)?;
            println!("{}", eval::hands::header());
            let scores = eval::hands::run(
                &songs,
                auralis::hands::fit::Budget {
                    time: std::time::Duration::from_secs_f64(fit_seconds),
                    evaluations: fit_evaluations,
                },
                renders.as_deref(),
                &|s| println!("{}", eval::hands::row(s)),
            )?;
            println!("{}", eval::hands::summary(&scores));
            println!(
                "{} parts of {} songs in {:.1} s",
                scores.len(),
                songs.len(),
                started.elapsed().as_secs_f64()
            );
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&scores).map_err(|e| Error::Internal {
                    stage: "eval",
                    detail: e.to_string(),
                })?;
                session::write_atomic(&path, text.as_bytes())?;
            }
            Ok(())
        }
        Command::Eval {
            corpus,
            json,
            profile_only,
            models,
            ..
        } => {
            let started = Instant::now();
            let options = eval::Options {
                elements: !profile_only,
                models,
            };
            println!("{}", eval::header());
            let mut ear_rows = Vec::new();
            let report = eval::run(
                &corpus,
                &options,
                &Silent,
                &mut |s| println!("{}", eval::row(s)),
                &mut |e| ear_rows.push(eval::ear_row(e)),
            )?;
            println!("{}", eval::row(&report.mean));
            if options.elements {
                println!("\n{}", eval::ear_header());
                for r in &ear_rows {
                    println!("{r}");
                }
                println!("{}", eval::ear_row(&report.ear_mean));
            }
            println!(
                "{} songs in {:.1} s; peak memory {}",
                report.songs.len(),
                started.elapsed().as_secs_f64(),
                peak_rss_bytes()
                    .map(|b| format!("{:.0} MB", b as f64 / 1e6))
                    .unwrap_or_else(|| "unknown".into())
            );
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&report).map_err(|e| Error::Internal {
                    stage: "eval",
                    detail: e.to_string(),
                })?;
                session::write_atomic(&path, text.as_bytes())?;
            }
            Ok(())
        }
        Command::Transcribe {
            track,
            out,
            role,
            raw,
            json,
            models,
        } => transcribe_file(&track, out.as_deref(), &role, raw, json.as_deref(), &models),
        Command::Mix {
            session: dir,
            progress,
        } => {
            let started = Instant::now();
            let path = dir.join(session::SESSION_FILE);
            let mut s = session::read(&path)?;
            let reporter = reporter(progress);
            // A rerun replaces the earlier console record.
            s.stages.retain(|r| r.name != "console");
            let record = auralis::console::run(&mut s, &dir, reporter.as_ref())?;
            s.stages.push(record);
            let written = session::write(&dir, &s)?;
            drop(reporter);
            if progress != ProgressMode::Json {
                if let Some(r) = s.master.as_ref().and_then(|m| m.get("report")) {
                    eprintln!("master: {r}");
                }
                eprintln!(
                    "{} mixed and mastered ({:.2} s)",
                    written.display(),
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
        Command::Score {
            reference,
            candidate,
            json,
        } => {
            let started = Instant::now();
            let embedder = auralis::qc::timbre::SpectralStats;
            let (r, c) = std::thread::scope(|s| {
                let r = s.spawn(|| auralis::qc::Features::measure(&reference, &embedder));
                let c = auralis::qc::Features::measure(&candidate, &embedder);
                let r = r.join().unwrap_or_else(|_| {
                    Err(Error::Internal {
                        stage: "qc",
                        detail: "the measuring thread panicked".into(),
                    })
                });
                (r, c)
            });
            let table = auralis::qc::score(&r?, &c?);
            if json {
                println!("{}", table.to_json());
            } else {
                print!("{}", table.to_text());
                eprintln!(
                    "{} against {} ({:.2} s)",
                    candidate.display(),
                    reference.display(),
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
        Command::Report { session: dir } => {
            let s = session::read(&dir.join(session::SESSION_FILE))?;
            let path = auralis::report::write(&s, &dir)?;
            eprintln!("{} written", path.display());
            Ok(())
        }
        Command::Export {
            session: dir,
            format,
            out,
        } => {
            use auralis::export::{self, Format};
            let ext = out
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase());
            let format =
                match (format, ext.as_deref()) {
                    (Some(ExportFormat::Dawproject), _) | (None, Some("dawproject")) => {
                        Format::DawProject
                    }
                    (Some(ExportFormat::Rpp), _) | (None, Some("rpp")) => Format::Rpp,
                    (None, _) => return Err(Error::BadTruth {
                        path: out,
                        detail:
                            "give --format dawproject or rpp (or name the file .dawproject or .rpp)"
                                .into(),
                    }),
                };
            let project = export::Project::from_session(&dir)?;
            export::write(&project, format, &out)?;
            eprintln!(
                "{} written: {} element tracks, {} notes, {} tempo points{}",
                out.display(),
                project.tracks.len(),
                project.tracks.iter().map(|t| t.notes.len()).sum::<usize>(),
                project.tempos.len(),
                if project.reference.is_some() {
                    ", the original on a muted reference track"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Serve {
            listen,
            jobs,
            concurrency,
            token,
        } => {
            let jobs = jobs.unwrap_or_else(|| {
                let base = std::env::var_os("XDG_DATA_HOME")
                    .map(PathBuf::from)
                    .or_else(|| {
                        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share"))
                    })
                    .unwrap_or_else(std::env::temp_dir);
                base.join("auralis/jobs")
            });
            let token = token
                .or_else(|| std::env::var("AURALIS_SERVE_TOKEN").ok())
                .filter(|t| !t.is_empty());
            let exe = std::env::current_exe().map_err(|e| Error::Io {
                path: PathBuf::from("auralis"),
                action: "finding the running executable",
                source: e,
            })?;
            auralis::serve::serve(&auralis::serve::Options {
                listen,
                jobs,
                concurrency,
                token,
                exe,
            })
        }
        Command::Demo { out } => {
            demo::write_wav(&out)?;
            eprintln!("demo song written to {}", out.display());
            Ok(())
        }
    }
}

/// A QC score, 0 to 100.
fn parse_score(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("\"{s}\" is not a score between 0 and 100")),
    }
}

/// `reconstruct`'s time budget without `--time-budget`, seconds: a three-minute track's
/// whole loop in a minute and a half (a longer track gets fewer rounds; the first always
/// runs).
const DEFAULT_BUDGET_S: f64 = 90.0;

/// A non-negative, finite number of seconds.
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "\"{s}\" is not a number of seconds between 0 and 86400"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auralis: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
