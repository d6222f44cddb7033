//! Developer tasks: `cargo xtask models` fills the model cache (see `models.rs`);
//! `cargo xtask bench` runs the benchmarks end to end (profile, stems, notes, drums).
//!
//! `bench` builds the release analyzer, builds the ground-truth corpus with
//! `../shared/corpus/build` when it is not there yet, runs `auralis eval` on it, then times
//! `auralis analyze` on a 180 s song (wall time and peak memory, as printed by the analyzer).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod models;

const USAGE: &str = "usage: cargo xtask bench [--songs N] [--seconds S] [--seed K] [--corpus DIR]
       cargo xtask models [--dir CACHE] [--manifests DIR]
       cargo xtask bundle auralis-plugin [--release]   (CLAP + VST3 into target/bundled)
       cargo xtask install [--debug]                   (bundle, then copy to ~/.clap and ~/.vst3)";

fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// Writes `bytes` to `dest` through a temporary file and a rename.
fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = dest.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, dest).with_context(|| format!("renaming into {}", dest.display()))?;
    Ok(())
}

fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("while starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn build_corpus(
    builder: &Path,
    dir: &Path,
    songs: u32,
    seconds: u32,
    seed: u32,
    genres: Option<&str>,
) -> Result<()> {
    if dir.join(".complete").is_file() {
        return Ok(());
    }
    let mut cmd = Command::new(builder);
    cmd.arg(dir).args([
        "--songs",
        &songs.to_string(),
        "--seconds",
        &seconds.to_string(),
        "--seed",
        &seed.to_string(),
    ]);
    if let Some(g) = genres {
        cmd.args(["--genres", g]);
    }
    run(&mut cmd).with_context(|| format!("while building the corpus in {}", dir.display()))?;
    std::fs::write(dir.join(".complete"), b"")
        .with_context(|| format!("while marking {}", dir.display()))?;
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    let (mut songs, mut seconds, mut seed) = (16u32, 60u32, 1u32);
    let mut corpus: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{a} needs a value; {USAGE}"))
        };
        match a.as_str() {
            "--songs" => songs = value()?.parse().context("--songs")?,
            "--seconds" => seconds = value()?.parse().context("--seconds")?,
            "--seed" => seed = value()?.parse().context("--seed")?,
            "--corpus" => corpus = Some(PathBuf::from(value()?)),
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    let root = root();
    let builder = root.join("../shared/corpus/build");
    if !builder.is_file() {
        bail!(
            "{} not found: the benchmark needs the shared corpus builder next to this checkout",
            builder.display()
        );
    }
    // The stems-and-notes half of the benchmark needs Basic Pitch and ONNX Runtime.
    models::run(&[])?;
    run(Command::new(env!("CARGO")).current_dir(&root).args([
        "build",
        "--release",
        "--bin",
        "auralis",
    ]))?;
    let auralis = root.join("target/release/auralis");
    let bench_dir = root.join("target/bench");
    let corpus =
        corpus.unwrap_or_else(|| bench_dir.join(format!("corpus-{songs}x{seconds}s-seed{seed}")));
    build_corpus(&builder, &corpus, songs, seconds, seed, None)?;
    run(Command::new(&auralis)
        .arg("eval")
        .arg(&corpus)
        .arg("--json")
        .arg(bench_dir.join("eval.json")))?;
    let long = bench_dir.join("corpus-180s");
    build_corpus(&builder, &long, 1, 180, seed, Some("pop"))?;
    let song = std::fs::read_dir(&long)
        .with_context(|| format!("while listing {}", long.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.join("mix.wav").is_file())
        .context("the 180 s corpus has no song")?;
    println!("\n180 s song, three runs:");
    for _ in 0..3 {
        run(Command::new(&auralis)
            .args(["analyze", "--progress", "none"])
            .arg(song.join("mix.wav"))
            .arg("-o")
            .arg(bench_dir.join("session-180s")))?;
    }
    Ok(())
}

/// The plugin package and the bundle name `bundler.toml` gives it.
const PLUGIN_PACKAGE: &str = "auralis-plugin";
const BUNDLE_NAME: &str = "AURALIS";

/// Bundles the plugins (release unless `--debug`) and copies them where hosts look on Linux:
/// `~/.clap/AURALIS.clap` and `~/.vst3/AURALIS.vst3`, replacing earlier copies.
fn install(args: &[String]) -> Result<()> {
    let debug = match args {
        [] => false,
        [a] if a == "--debug" => true,
        _ => bail!("unknown arguments {args:?}; {USAGE}"),
    };
    let mut bundle_args = vec!["bundle".to_string(), PLUGIN_PACKAGE.to_string()];
    if !debug {
        bundle_args.push("--release".into());
    }
    nice_plug_xtask::main_with_args("cargo xtask", bundle_args)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let bundled = target.join("bundled");
    let home = PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?);
    for (name, dest_dir) in [
        (format!("{BUNDLE_NAME}.clap"), home.join(".clap")),
        (format!("{BUNDLE_NAME}.vst3"), home.join(".vst3")),
    ] {
        let from = bundled.join(&name);
        if !from.exists() {
            bail!("{} was not bundled", from.display());
        }
        std::fs::create_dir_all(&dest_dir)
            .with_context(|| format!("creating {}", dest_dir.display()))?;
        // Copy next to the destination, then swap it in, so a host scanning meanwhile never
        // sees half a plugin.
        let tmp = dest_dir.join(format!(".{name}.installing"));
        let dest = dest_dir.join(&name);
        remove_any(&tmp)?;
        copy_tree(&from, &tmp)?;
        remove_any(&dest)?;
        std::fs::rename(&tmp, &dest)
            .with_context(|| format!("moving {} into place", dest.display()))?;
        println!("installed {}", dest.display());
    }
    Ok(())
}

fn remove_any(path: &Path) -> Result<()> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else if path.exists() {
        std::fs::remove_file(path)
    } else {
        return Ok(());
    };
    result.with_context(|| format!("removing {}", path.display()))
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
        for entry in
            std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))?
        {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        std::fs::copy(from, to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") => bench(&args[1..]),
        Some("models") => models::run(&args[1..]),
        Some("bundle") => nice_plug_xtask::main_with_args("cargo xtask", args.iter().cloned()),
        Some("install") => install(&args[1..]),
        _ => bail!("{USAGE}"),
    }
}
