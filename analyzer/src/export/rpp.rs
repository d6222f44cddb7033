//! REAPER projects (`.RPP`): REAPER's own text format of nested `<TAG ...>` blocks.
//!
//! Written: the tempo (and a tempo envelope when it changes), the meter, the sections as
//! markers, the master's Console and A/B in the master FX chain, a track per element with its
//! Instrument and Console (CLAP, states in base64 as REAPER keeps them) and an in-project MIDI
//! item of its notes (960 ticks per quarter, on the project's tempo map), the drums sent to
//! channels 3/4 of every track whose chain pumps (the Console's sidechain input), and the
//! original on a muted reference track. [`parse`] reads any RPP back into blocks and lines.

use std::fmt::Write as _;

use super::{Project, AB_ID, CONSOLE_ID, INSTRUMENT_ID, PPQ};

/// Quotes a string for an RPP line (REAPER switches quote characters when the text holds one).
fn quote(s: &str) -> String {
    if !s.contains('"') {
        format!("\"{s}\"")
    } else if !s.contains('\'') {
        format!("'{s}'")
    } else {
        format!("`{}`", s.replace('`', "'"))
    }
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes base64 (the state blocks, split over lines); `None` when it is not base64.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let joined: String = text.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(joined)
        .ok()
}

fn fx(out: &mut String, indent: &str, id: &str, name: &str, instrument: bool, state: &[u8]) {
    let kind = if instrument { "CLAPi" } else { "CLAP" };
    let _ = writeln!(out, "{indent}BYPASS 0 0 0");
    let _ = writeln!(
        out,
        "{indent}<CLAP {} {id} \"\"",
        quote(&format!("{kind}: {name} (AURALIS)"))
    );
    let _ = writeln!(out, "{indent}  CFG 4 760 335 \"\"");
    let _ = writeln!(out, "{indent}  <STATE");
    let b = base64(state);
    for line in b.as_bytes().chunks(128) {
        let _ = writeln!(out, "{indent}    {}", String::from_utf8_lossy(line));
    }
    let _ = writeln!(out, "{indent}  >");
    let _ = writeln!(out, "{indent}>");
    let _ = writeln!(out, "{indent}FLOATPOS 0 0 0 0");
    let _ = writeln!(out, "{indent}WAK 0 0");
}

fn num(x: f64) -> String {
    let s = format!("{x:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// The project as RPP text.
pub fn to_string(p: &Project) -> String {
    let mut o = String::new();
    let (n, d) = p.meter();
    let bpm = p.tempos.first().map_or(120.0, |t| t.bpm);
    let rate = p.reference.as_ref().map_or(48_000, |r| r.sample_rate);
    let _ = writeln!(
        o,
        "<REAPER_PROJECT 0.1 \"7.0/AURALIS {}\" 0",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(o, "  TEMPO {} {n} {d}", num(bpm));
    let _ = writeln!(o, "  SAMPLERATE {rate} 0 0");
    let _ = writeln!(o, "  MASTER_NCH 2 2");
    if p.tempos.len() > 1 {
        o.push_str("  <TEMPOENVEX\n    ACT 1 -1\n    VIS 1 0 1\n    LANEHEIGHT 0 0\n    ARM 0\n    DEFSHAPE 1 -1 -1\n");
        for t in &p.tempos {
            let _ = writeln!(o, "    PT {} {} 1", num(t.seconds), num(t.bpm));
        }
        o.push_str("  >\n");
    }
    for (i, (tick, label)) in p.markers.iter().enumerate() {
        let _ = writeln!(
            o,
            "  MARKER {} {} {} 0",
            i + 1,
            num(p.seconds_at(*tick)),
            quote(label)
        );
    }
    if p.master_state.is_some() || p.ab_state.is_some() {
        o.push_str("  <MASTERFXLIST\n    SHOW 0\n    LASTSEL 0\n    DOCKED 0\n");
        if let Some(s) = &p.master_state {
            fx(&mut o, "    ", CONSOLE_ID, "AURALIS Console", false, s);
        }
        if let Some(s) = &p.ab_state {
            fx(&mut o, "    ", AB_ID, "AURALIS A/B", false, s);
        }
        o.push_str("  >\n");
    }
    let drums = p.tracks.iter().position(|t| t.role == "drums");
    let end_tick = p.tick_at(p.seconds).max(
        p.tracks
            .iter()
            .flat_map(|t| t.notes.iter().map(|n| n.end))
            .max()
            .unwrap_or(0),
    );
    let length = p.seconds_at(end_tick);
    for (i, t) in p.tracks.iter().enumerate() {
        o.push_str("  <TRACK\n");
        let _ = writeln!(o, "    NAME {}", quote(&t.name));
        let sidechain = t.pumped && drums.is_some_and(|k| k != i);
        if sidechain {
            // The drums into channels 3/4: the Console's sidechain input.
            let _ = writeln!(o, "    NCHAN 4");
            let _ = writeln!(
                o,
                "    AUXRECV {} 0 1 0 0 0 0 0 2 -1:U 0 -1 ''",
                drums.unwrap_or(0)
            );
        } else {
            let _ = writeln!(o, "    NCHAN 2");
        }
        o.push_str("    <FXCHAIN\n      SHOW 0\n      LASTSEL 0\n      DOCKED 0\n");
        fx(
            &mut o,
            "      ",
            INSTRUMENT_ID,
            "AURALIS Instrument",
            true,
            &t.instrument_state,
        );
        if let Some(s) = &t.console_state {
            fx(&mut o, "      ", CONSOLE_ID, "AURALIS Console", false, s);
        }
        o.push_str("    >\n");
        o.push_str("    <ITEM\n      POSITION 0\n");
        let _ = writeln!(o, "      LENGTH {}", num(length));
        let _ = writeln!(o, "      NAME {}", quote(&t.name));
        let _ = writeln!(o, "      <SOURCE MIDI\n        HASDATA 1 {PPQ} QN");
        // Note-offs before note-ons at a tie.
        let mut events: Vec<(u64, bool, u8, u8, u8)> = Vec::with_capacity(2 * t.notes.len());
        for note in &t.notes {
            events.push((note.start, true, note.channel, note.key, note.velocity));
            events.push((note.end, false, note.channel, note.key, 0));
        }
        events.sort_by_key(|e| (e.0, e.1, e.3));
        let mut last = 0u64;
        for (tick, on, ch, key, vel) in events {
            let status = if on { 0x90 } else { 0x80 } | (ch & 15);
            let _ = writeln!(
                o,
                "        E {} {status:02x} {key:02x} {vel:02x}",
                tick - last
            );
            last = tick;
        }
        let _ = writeln!(o, "        E {} b0 7b 00", end_tick.saturating_sub(last));
        o.push_str("      >\n    >\n  >\n");
    }
    if let Some(r) = &p.reference {
        o.push_str(
            "  <TRACK\n    NAME \"Original (reference)\"\n    MUTESOLO 1 0 0\n    NCHAN 2\n",
        );
        o.push_str("    <ITEM\n      POSITION 0\n");
        let _ = writeln!(o, "      LENGTH {}", num(r.seconds));
        o.push_str("      NAME \"Original\"\n      <SOURCE WAVE\n");
        let _ = writeln!(o, "        FILE {}", quote(&r.path.to_string_lossy()));
        o.push_str("      >\n    >\n  >\n");
    }
    o.push_str(">\n");
    o
}

/// A block of an RPP file: `<NAME args...` up to its `>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    pub name: String,
    pub args: Vec<String>,
    /// The lines inside it that are not blocks, split into tokens.
    pub lines: Vec<Vec<String>>,
    pub children: Vec<Block>,
}

impl Block {
    /// The first line starting with `key`, without the key.
    pub fn line(&self, key: &str) -> Option<&[String]> {
        self.lines
            .iter()
            .find(|l| l.first().is_some_and(|k| k == key))
            .map(|l| &l[1..])
    }

    /// The child blocks called `name`.
    pub fn blocks<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Splits an RPP line into tokens (quoted with `"`, `'` or a backtick, or bare).
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '"' || c == '\'' || c == '`' {
            chars.next();
            let mut s = String::new();
            for ch in chars.by_ref() {
                if ch == c {
                    break;
                }
                s.push(ch);
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            out.push(s);
        }
    }
    out
}

/// Reads RPP text into its top block; the error names the line.
pub fn parse(text: &str) -> Result<Block, String> {
    let mut stack: Vec<Block> = Vec::new();
    let mut top: Option<Block> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('<') {
            let mut t = tokens(rest);
            if t.is_empty() {
                return Err(format!("line {}: a block without a name", i + 1));
            }
            let name = t.remove(0);
            stack.push(Block {
                name,
                args: t,
                ..Block::default()
            });
        } else if line == ">" {
            let done = stack
                .pop()
                .ok_or_else(|| format!("line {}: '>' closes nothing", i + 1))?;
            match stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None if top.is_none() => top = Some(done),
                None => return Err(format!("line {}: a second top-level block", i + 1)),
            }
        } else {
            let current = stack
                .last_mut()
                .ok_or_else(|| format!("line {}: text outside any block", i + 1))?;
            current.lines.push(tokens(line));
        }
    }
    if !stack.is_empty() {
        return Err(format!(
            "the file ends inside <{}",
            stack.last().map_or("", |b| b.name.as_str())
        ));
    }
    top.ok_or_else(|| "no <REAPER_PROJECT block".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for n in 0..20usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(unbase64(&base64(&bytes)).unwrap(), bytes, "{n}");
        }
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
    }

    #[test]
    fn blocks_lines_and_quotes_parse() {
        let b =
            parse("<A 1 \"two words\"\n  K 'it\"s' `x`\n  <B\n    E 1 90 3c 40\n  >\n>\n").unwrap();
        assert_eq!(b.name, "A");
        assert_eq!(b.args, vec!["1", "two words"]);
        assert_eq!(
            b.line("K").unwrap(),
            &["it\"s".to_string(), "x".to_string()]
        );
        assert_eq!(b.blocks("B").count(), 1);
        assert!(parse("<A\n").is_err());
        assert!(parse("A 1\n").is_err());
    }
}
