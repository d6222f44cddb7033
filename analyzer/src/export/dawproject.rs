//! DAWproject (the open project format of Bitwig Studio, PreSonus Studio One and Steinberg
//! Cubase): a ZIP holding `project.xml`, `metadata.xml` and the plugin states under
//! `plugins/`.
//!
//! The structure: a track per element (`contentType="notes"`: its AURALIS Instrument and
//! AURALIS Console as CLAP devices, each with its state file), a muted reference track with
//! the original (referenced as an external file), and the master channel with the master
//! chain's Console and the A/B. The arrangement holds one clip of notes per element (beats),
//! the reference clip (seconds), the sections as markers, and the tempo and meter maps as
//! automation of the transport's parameters.

use std::fmt::Write as _;
use std::io::Write as _;

use super::{xml_escape as esc, Project, AB_ID, CONSOLE_ID, INSTRUMENT_ID, PPQ};
use crate::error::{Error, Result};

/// The DAWproject format version written.
pub const VERSION: &str = "1.0";

/// Hands out the XML ids.
struct Ids(usize);

impl Ids {
    fn next(&mut self) -> String {
        self.0 += 1;
        format!("id{}", self.0)
    }
}

fn beats(tick: u64) -> String {
    fmt_num(tick as f64 / f64::from(PPQ))
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// A CLAP device element with its state file.
fn clap_device(
    xml: &mut String,
    ids: &mut Ids,
    indent: &str,
    (id, name, role): (&str, &str, &str),
    state: &str,
) {
    let _ = writeln!(
        xml,
        r#"{indent}<ClapPlugin id="{}" name="{}" deviceID="{id}" deviceName="{}" deviceRole="{role}" deviceVendor="AURALIS" loaded="true" pluginVersion="{}">"#,
        ids.next(),
        esc(name),
        esc(name),
        env!("CARGO_PKG_VERSION"),
    );
    let _ = writeln!(
        xml,
        r#"{indent}  <Enabled id="{}" name="On/Off" value="true"/>"#,
        ids.next()
    );
    let _ = writeln!(xml, r#"{indent}  <State path="{}"/>"#, esc(state));
    let _ = writeln!(xml, "{indent}</ClapPlugin>");
}

/// Channel mixer parameters (volume at unity, pan centred).
fn mixer(xml: &mut String, ids: &mut Ids, indent: &str, mute: bool) {
    let _ = writeln!(
        xml,
        r#"{indent}<Mute id="{}" name="Mute" value="{mute}"/>"#,
        ids.next()
    );
    let _ = writeln!(
        xml,
        r#"{indent}<Pan id="{}" name="Pan" unit="normalized" min="0" max="1" value="0.5"/>"#,
        ids.next()
    );
    let _ = writeln!(
        xml,
        r#"{indent}<Volume id="{}" name="Volume" unit="linear" min="0" max="2" value="1"/>"#,
        ids.next()
    );
}

/// The safe file name of an element's state.
fn state_name(element: &str, plugin: &str) -> String {
    let safe: String = element
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("plugins/{safe}-{plugin}.clap-state")
}

/// `project.xml` and the files the ZIP holds beside it.
pub fn project_xml(p: &Project) -> (String, Vec<(String, Vec<u8>)>) {
    let mut ids = Ids(0);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
    let _ = writeln!(x, r#"<Project version="{VERSION}">"#);
    let _ = writeln!(
        x,
        r#"  <Application name="AURALIS" version="{}"/>"#,
        env!("CARGO_PKG_VERSION")
    );
    let tempo_id = ids.next();
    let meter_id = ids.next();
    let (num, den) = p.meter();
    let first_bpm = p.tempos.first().map_or(120.0, |t| t.bpm);
    x.push_str("  <Transport>\n");
    let _ = writeln!(
        x,
        r#"    <Tempo id="{tempo_id}" name="Tempo" unit="bpm" min="20" max="999" value="{}"/>"#,
        fmt_num(first_bpm)
    );
    let _ = writeln!(
        x,
        r#"    <TimeSignature id="{meter_id}" name="Time signature" numerator="{num}" denominator="{den}"/>"#
    );
    x.push_str("  </Transport>\n");

    // Structure: element tracks, the reference, the master.
    let master_id = ids.next();
    let mut lanes: Vec<(String, usize)> = Vec::new(); // (track id, element index)
    x.push_str("  <Structure>\n");
    for (i, t) in p.tracks.iter().enumerate() {
        let track_id = ids.next();
        let comment = t
            .preset
            .as_ref()
            .map(|pr| {
                format!(
                    " comment=\"{} (from the preset {})\"",
                    esc(&t.role),
                    esc(pr)
                )
            })
            .unwrap_or_else(|| format!(" comment=\"{}\"", esc(&t.role)));
        let _ = writeln!(
            x,
            r#"    <Track id="{track_id}" name="{}"{comment} contentType="notes" loaded="true">"#,
            esc(&t.name)
        );
        let _ = writeln!(
            x,
            r#"      <Channel id="{}" name="{}" role="regular" audioChannels="2" destination="{master_id}">"#,
            ids.next(),
            esc(&t.name)
        );
        x.push_str("        <Devices>\n");
        let inst = state_name(&t.name, "instrument");
        clap_device(
            &mut x,
            &mut ids,
            "          ",
            (INSTRUMENT_ID, "AURALIS Instrument", "instrument"),
            &inst,
        );
        files.push((inst, t.instrument_state.clone()));
        if let Some(state) = &t.console_state {
            let con = state_name(&t.name, "console");
            clap_device(
                &mut x,
                &mut ids,
                "          ",
                (CONSOLE_ID, "AURALIS Console", "audioFX"),
                &con,
            );
            files.push((con, state.clone()));
        }
        x.push_str("        </Devices>\n");
        mixer(&mut x, &mut ids, "        ", false);
        x.push_str("      </Channel>\n    </Track>\n");
        lanes.push((track_id, i));
    }
    let reference_id = p.reference.as_ref().map(|_| ids.next());
    if let Some(rid) = &reference_id {
        let _ = writeln!(
            x,
            r#"    <Track id="{rid}" name="Original (reference)" comment="The track AURALIS analysed; muted: the A/B on the master plays it in time" contentType="audio" loaded="true">"#
        );
        let _ = writeln!(
            x,
            r#"      <Channel id="{}" name="Original (reference)" role="regular" audioChannels="2" destination="{master_id}">"#,
            ids.next()
        );
        mixer(&mut x, &mut ids, "        ", true);
        x.push_str("      </Channel>\n    </Track>\n");
    }
    let _ = writeln!(
        x,
        r#"    <Track id="{}" name="Master" contentType="audio notes" loaded="true">"#,
        ids.next()
    );
    let _ = writeln!(
        x,
        r#"      <Channel id="{master_id}" name="Master" role="master" audioChannels="2">"#
    );
    if p.master_state.is_some() || p.ab_state.is_some() {
        x.push_str("        <Devices>\n");
        if let Some(state) = &p.master_state {
            let f = state_name("master", "console");
            clap_device(
                &mut x,
                &mut ids,
                "          ",
                (CONSOLE_ID, "AURALIS Console", "audioFX"),
                &f,
            );
            files.push((f, state.clone()));
        }
        if let Some(state) = &p.ab_state {
            let f = state_name("master", "ab");
            clap_device(
                &mut x,
                &mut ids,
                "          ",
                (AB_ID, "AURALIS A/B", "audioFX"),
                &f,
            );
            files.push((f, state.clone()));
        }
        x.push_str("        </Devices>\n");
    }
    mixer(&mut x, &mut ids, "        ", false);
    x.push_str("      </Channel>\n    </Track>\n");
    x.push_str("  </Structure>\n");

    // Arrangement.
    let end_tick = p.tick_at(p.seconds).max(
        p.tracks
            .iter()
            .flat_map(|t| t.notes.iter().map(|n| n.end))
            .max()
            .unwrap_or(0),
    );
    let _ = writeln!(x, r#"  <Arrangement id="{}">"#, ids.next());
    let _ = writeln!(x, r#"    <Lanes id="{}" timeUnit="beats">"#, ids.next());
    for (track_id, i) in &lanes {
        let t = &p.tracks[*i];
        let _ = writeln!(x, r#"      <Lanes id="{}" track="{track_id}">"#, ids.next());
        let _ = writeln!(x, r#"        <Clips id="{}">"#, ids.next());
        let _ = writeln!(
            x,
            r#"          <Clip name="{}" time="0" duration="{}" playStart="0">"#,
            esc(&t.name),
            beats(end_tick)
        );
        let _ = writeln!(x, r#"            <Notes id="{}">"#, ids.next());
        for n in &t.notes {
            let _ = writeln!(
                x,
                r#"              <Note time="{}" duration="{}" channel="{}" key="{}" vel="{}" rel="0.5"/>"#,
                beats(n.start),
                beats(n.end - n.start),
                n.channel,
                n.key,
                fmt_num(f64::from(n.velocity) / 127.0)
            );
        }
        x.push_str("            </Notes>\n          </Clip>\n        </Clips>\n      </Lanes>\n");
    }
    if let (Some(rid), Some(r)) = (&reference_id, &p.reference) {
        let _ = writeln!(
            x,
            r#"      <Lanes id="{}" track="{rid}" timeUnit="seconds">"#,
            ids.next()
        );
        let _ = writeln!(x, r#"        <Clips id="{}">"#, ids.next());
        let _ = writeln!(
            x,
            r#"          <Clip name="Original" time="0" duration="{}" playStart="0">"#,
            fmt_num(r.seconds)
        );
        let _ = writeln!(
            x,
            r#"            <Audio id="{}" timeUnit="seconds" duration="{}" channels="{}" sampleRate="{}">"#,
            ids.next(),
            fmt_num(r.seconds),
            r.channels,
            r.sample_rate
        );
        let _ = writeln!(
            x,
            r#"              <File path="{}" external="true"/>"#,
            esc(&r.path.to_string_lossy())
        );
        x.push_str("            </Audio>\n          </Clip>\n        </Clips>\n      </Lanes>\n");
    }
    x.push_str("    </Lanes>\n");
    if !p.markers.is_empty() {
        let _ = writeln!(x, r#"    <Markers id="{}">"#, ids.next());
        for (tick, label) in &p.markers {
            let _ = writeln!(
                x,
                r#"      <Marker time="{}" name="{}"/>"#,
                beats(*tick),
                esc(label)
            );
        }
        x.push_str("    </Markers>\n");
    }
    let _ = writeln!(
        x,
        r#"    <TempoAutomation id="{}" timeUnit="beats" unit="bpm">"#,
        ids.next()
    );
    let _ = writeln!(x, r#"      <Target parameter="{tempo_id}"/>"#);
    for t in &p.tempos {
        let _ = writeln!(
            x,
            r#"      <RealPoint time="{}" value="{}" interpolation="hold"/>"#,
            beats(t.tick),
            fmt_num(t.bpm)
        );
    }
    x.push_str("    </TempoAutomation>\n");
    let _ = writeln!(
        x,
        r#"    <TimeSignatureAutomation id="{}" timeUnit="beats">"#,
        ids.next()
    );
    let _ = writeln!(x, r#"      <Target parameter="{meter_id}"/>"#);
    for m in &p.meters {
        let _ = writeln!(
            x,
            r#"      <TimeSignaturePoint time="{}" numerator="{}" denominator="{}"/>"#,
            beats(m.tick),
            m.numerator,
            m.denominator
        );
    }
    x.push_str("    </TimeSignatureAutomation>\n");
    x.push_str("  </Arrangement>\n</Project>\n");
    (x, files)
}

/// `metadata.xml`.
pub fn metadata_xml(p: &Project) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<MetaData>\n  <Title>{}</Title>\n  <Comment>{}</Comment>\n</MetaData>\n",
        esc(&p.name),
        esc(&format!(
            "Rebuilt by AURALIS {} from the session {}",
            env!("CARGO_PKG_VERSION"),
            p.session_dir.display()
        ))
    )
}

/// The `.dawproject` file's bytes.
pub fn to_bytes(p: &Project) -> Result<Vec<u8>> {
    let internal = |e: String| Error::Internal {
        stage: "export",
        detail: e,
    };
    let (project, files) = project_xml(p);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut add = |name: &str, bytes: &[u8]| -> Result<()> {
        zip.start_file(name, opts)
            .map_err(|e| internal(e.to_string()))?;
        zip.write_all(bytes).map_err(|e| internal(e.to_string()))
    };
    add("project.xml", project.as_bytes())?;
    add("metadata.xml", metadata_xml(p).as_bytes())?;
    for (name, bytes) in &files {
        add(name, bytes)?;
    }
    let cursor = zip.finish().map_err(|e| internal(e.to_string()))?;
    Ok(cursor.into_inner())
}
