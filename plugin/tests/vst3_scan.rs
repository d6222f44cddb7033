//! The VST3 bundle as a host's scanner sees it: Debian's `ardour` ships
//! `ardour-vst3-scanner`, which loads the bundle, instantiates each class and describes it.
//! Every AURALIS plugin must be found with its name, vendor, category and buses.
//! Skipped when the scanner is not installed, unless `AURALIS_REQUIRE_VST3_SCANNER` is set
//! (`.ci/run` installs it and sets it).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn scanner() -> Option<PathBuf> {
    let lib = Path::new("/usr/lib");
    let mut found: Vec<PathBuf> = std::fs::read_dir(lib)
        .ok()?
        .flatten()
        .map(|e| e.path().join("ardour-vst3-scanner"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

#[test]
fn the_vst3_bundle_is_found_and_described_by_a_vst3_scanner() {
    let Some(scanner) = scanner() else {
        assert!(
            std::env::var_os("AURALIS_REQUIRE_VST3_SCANNER").is_none(),
            "AURALIS_REQUIRE_VST3_SCANNER is set but ardour-vst3-scanner is not installed"
        );
        eprintln!("ardour-vst3-scanner not installed: the VST3 bundle was not scanned");
        return;
    };
    let clap = support::plugin_path();
    let bundle = clap.parent().unwrap().join("AURALIS.vst3");
    let home = std::env::temp_dir().join(format!("auralis-vst3-scan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let o = Command::new(&scanner)
        // The scanner's own libraries sit beside it.
        .env("LD_LIBRARY_PATH", scanner.parent().unwrap())
        .env("HOME", &home)
        .args(["-v", "-f"])
        .arg(&bundle)
        .output()
        .expect("running ardour-vst3-scanner");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "the scanner failed:\n{text}");
    for (name, category, io) in [
        (
            "AURALIS Instrument",
            "Instrument|Synth",
            r#"n_inputs="0" n_outputs="2" n_aux_inputs="0" n_aux_outputs="0" n_midi_inputs="1""#,
        ),
        (
            "AURALIS Console",
            "Fx|Mastering",
            r#"n_inputs="2" n_outputs="2" n_aux_inputs="2" n_aux_outputs="0" n_midi_inputs="0""#,
        ),
        (
            "AURALIS A/B",
            "Fx|Analyzer",
            r#"n_inputs="2" n_outputs="2" n_aux_inputs="0" n_aux_outputs="0" n_midi_inputs="0""#,
        ),
    ] {
        let info = text
            .lines()
            .find(|l| l.contains("<VST3Info") && l.contains(&format!("name=\"{name}\"")))
            .unwrap_or_else(|| panic!("{name} not found by the scanner:\n{text}"));
        assert!(info.contains("vendor=\"AURALIS\""), "{info}");
        assert!(info.contains(&format!("category=\"{category}\"")), "{info}");
        assert!(info.contains(io), "{name}: {info}");
        assert!(
            info.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
            "{info}"
        );
    }
    let _ = std::fs::remove_dir_all(&home);
}
