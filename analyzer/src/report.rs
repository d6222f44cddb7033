//! `report.html`: one self-contained page per session (no network, no external script or
//! style): the original's and the rebuild's spectrograms, their energy curves, a piano roll
//! per element, the chord and section timeline, the QC table and its history over the
//! iterations, BRAIN's decisions, and players for the original, the rebuild, and each stem
//! and render (files of the session folder, by relative path).
//!
//! Pictures are inline SVG, except the spectrograms: their pixels (log-mel, 8 bits) are
//! embedded as hex and painted on a canvas by a few lines of inline script.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::hands::mel::MelSpec;
use crate::session::{self, Session};

/// File name of the report inside the session folder.
pub const REPORT_FILE: &str = "report.html";
/// Mel bands of the spectrograms.
const SPEC_BANDS: usize = 80;
/// Columns of the spectrograms at most.
const SPEC_COLUMNS: usize = 900;
/// Dynamic range shown, dB.
const SPEC_RANGE_DB: f64 = 80.0;
/// Width of the timeline pictures, pixels.
const WIDTH: f64 = 1100.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A log-mel spectrogram as 8-bit pixels (`bands` rows, top = high), hex-encoded.
struct Spectrogram {
    columns: usize,
    hex: String,
}

fn spectrogram(path: &Path) -> Option<Spectrogram> {
    let (rate, stereo) = crate::decode::read_stereo(path).ok()?;
    let mono = crate::hands::mono(&stereo);
    drop(stereo);
    let hop = (mono.len() / SPEC_COLUMNS).max(512);
    let mut spec = MelSpec::new(rate, 2048, hop, SPEC_BANDS);
    let p = spec.powers(&mono);
    let columns = p.len() / SPEC_BANDS;
    if columns == 0 {
        return None;
    }
    let max = p.iter().copied().fold(0.0f32, f32::max).max(1e-20) as f64;
    let mut hex = String::with_capacity(columns * SPEC_BANDS * 2);
    // Row-major, the top row the highest band.
    for b in (0..SPEC_BANDS).rev() {
        for t in 0..columns {
            let db = 10.0 * ((p[t * SPEC_BANDS + b] as f64).max(1e-30) / max).log10();
            let v = ((db + SPEC_RANGE_DB) / SPEC_RANGE_DB * 255.0).clamp(0.0, 255.0) as u8;
            let _ = write!(hex, "{v:02x}");
        }
    }
    Some(Spectrogram { columns, hex })
}

/// RMS per 0.5 s of a file, dBFS (floored at −60).
fn energy(path: &Path) -> Option<Vec<f64>> {
    let (rate, stereo) = crate::decode::read_stereo(path).ok()?;
    let per = (rate as usize / 2).max(1) * 2;
    Some(
        stereo
            .chunks(per)
            .map(|c| {
                let ms = c.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / c.len() as f64;
                (10.0 * ms.max(1e-12).log10()).max(-60.0)
            })
            .collect(),
    )
}

fn polyline(values: &[f64], step_s: f64, duration: f64, lo: f64, hi: f64, h: f64) -> String {
    let mut pts = String::new();
    for (i, v) in values.iter().enumerate() {
        let x = WIDTH * (i as f64 * step_s) / duration.max(1e-9);
        let y = h - h * ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        let _ = write!(pts, "{x:.1},{y:.1} ");
    }
    pts
}

/// Writes `report.html` for the session in `dir` (atomically) and returns its path.
pub fn write(session: &Session, dir: &Path) -> Result<PathBuf> {
    let html = render(session, dir);
    let path = dir.join(REPORT_FILE);
    session::write_atomic(&path, html.as_bytes())?;
    Ok(path)
}

/// The page's HTML.
pub fn render(s: &Session, dir: &Path) -> String {
    let duration = s.source.duration_s.max(1e-3);
    let mut h = String::new();
    let title = Path::new(&s.source.path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| s.source.path.clone());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>AURALIS — {t}</title>\n<style>{STYLE}</style></head><body>\n<h1>AURALIS report — {t}</h1>\n<p class=\"facts\">{dur:.1} s · {bpm:.1} BPM {num}/{den} · {key} · {lufs:.1} LUFS · {n} elements</p>\n",
        t = esc(&title),
        dur = duration,
        bpm = s.tempo.bpm,
        num = s.meter.numerator,
        den = s.meter.denominator,
        key = esc(&s.key.label),
        lufs = s.loudness.integrated_lufs,
        n = s.elements.len(),
    );

    // Players.
    h.push_str("<h2>Listen</h2><div class=\"players\">\n");
    let mut player = |label: &str, rel: &str| {
        if dir.join(rel).exists() {
            let _ = writeln!(
                h,
                "<figure><figcaption>{}</figcaption><audio controls preload=\"none\" src=\"{}\"></audio></figure>",
                esc(label),
                esc(rel)
            );
        }
    };
    if let Some(o) = &s.source.original {
        player("original", o);
    }
    if let Some(m) = &s.render_mix {
        player("rebuild (mastered)", m);
    }
    for e in &s.elements {
        if let Some(stem) = &e.stem {
            player(&format!("{} — stem", e.name), stem);
        }
        if let Some(r) = e.extra.get("render").and_then(|v| v.as_str()) {
            player(&format!("{} — render", e.name), r);
        }
    }
    h.push_str("</div>\n");

    // QC.
    if let Some(qc) = &s.qc {
        qc_section(&mut h, qc);
    }

    // Spectrograms.
    h.push_str("<h2>Spectrograms (log-mel, 80 dB)</h2>\n");
    let mut specs = Vec::new();
    if let Some(o) = &s.source.original {
        specs.push(("original", spectrogram(&dir.join(o))));
    }
    if let Some(m) = &s.render_mix {
        specs.push(("rebuild", spectrogram(&dir.join(m))));
    }
    for (i, (label, sp)) in specs.iter().enumerate() {
        if let Some(sp) = sp {
            let _ = writeln!(
                h,
                "<figure><figcaption>{label}</figcaption><canvas class=\"spec\" id=\"spec{i}\" width=\"{}\" height=\"{SPEC_BANDS}\" data-px=\"{}\"></canvas></figure>",
                sp.columns, sp.hex
            );
        }
    }

    // Energy curves.
    let eo = s
        .source
        .original
        .as_ref()
        .and_then(|o| energy(&dir.join(o)));
    let er = s.render_mix.as_ref().and_then(|m| energy(&dir.join(m)));
    if eo.is_some() || er.is_some() {
        let hgt = 160.0;
        let _ = write!(
            h,
            "<h2>Energy (RMS per 0.5 s, −60…0 dBFS)</h2><svg class=\"pic\" viewBox=\"0 0 {WIDTH} {hgt}\" width=\"{WIDTH}\" height=\"{hgt}\">"
        );
        for (vals, class) in [(&eo, "orig"), (&er, "ours")] {
            if let Some(v) = vals {
                let _ = write!(
                    h,
                    "<polyline class=\"{class}\" points=\"{}\"/>",
                    polyline(v, 0.5, duration, -60.0, 0.0, hgt)
                );
            }
        }
        h.push_str("</svg><p class=\"legend\"><span class=\"orig\">original</span> <span class=\"ours\">rebuild</span></p>\n");
    }

    // Timeline: sections and chords.
    timeline(&mut h, s, duration);

    // Piano rolls.
    h.push_str("<h2>Notes per element</h2>\n");
    for e in &s.elements {
        let Some(midi) = &e.midi else { continue };
        let Ok(notes) = crate::hands::read_notes(&dir.join(midi)) else {
            continue;
        };
        piano_roll(&mut h, &e.name, &e.role, &notes, duration);
    }

    // Decisions.
    if !s.decisions.is_empty() {
        h.push_str("<h2>BRAIN's decisions</h2><table><tr><th>iteration</th><th>area</th><th>action</th><th>reason</th></tr>\n");
        for d in &s.decisions {
            let f = |k: &str| {
                d.get(k)
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .unwrap_or_default()
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&f("iteration")),
                esc(&f("area")),
                esc(&f("action")),
                esc(&f("reason"))
            );
        }
        h.push_str("</table>\n");
    }
    let _ = write!(h, "<script>{SCRIPT}</script>\n</body></html>\n");
    h
}

fn qc_section(h: &mut String, qc: &serde_json::Value) {
    let best = qc
        .get("best_iteration")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let table = qc.get("best_table");
    let overall = table
        .and_then(|t| t.get("overall"))
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let target = qc.get("target").and_then(|v| v.as_f64()).unwrap_or(0.0);
    let _ = writeln!(
        h,
        "<h2>QC — best iteration {best}: overall {overall:.1} (target {target:.0})</h2>"
    );
    if let Some(stopped) = qc.get("stopped").and_then(|v| v.as_str()) {
        let _ = writeln!(h, "<p>Stopped: {}.</p>", esc(stopped));
    }
    if let Some(m) = table
        .and_then(|t| t.get("measures"))
        .and_then(|m| m.as_object())
    {
        h.push_str("<table><tr><th>dimension</th><th>score</th><th>reference</th><th>rebuild</th><th>error</th><th>unit</th></tr>\n");
        let dims = table.and_then(|t| t.get("dimensions"));
        for spec in crate::qc::DIMENSIONS.iter() {
            let Some(v) = m.get(spec.name) else { continue };
            let score = dims
                .and_then(|d| d.get(spec.name))
                .and_then(|x| x.as_f64())
                .unwrap_or(0.0);
            let num = |k: &str| {
                v.get(k)
                    .and_then(|x| x.as_f64())
                    .map(|x| format!("{x:.3}"))
                    .unwrap_or_else(|| "–".into())
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"score\" style=\"--s:{score:.0}\">{score:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                spec.name,
                num("reference"),
                num("candidate"),
                num("error"),
                esc(v.get("unit").and_then(|u| u.as_str()).unwrap_or(""))
            );
        }
        h.push_str("</table>\n");
    }
    let Some(its) = qc.get("iterations").and_then(|v| v.as_array()) else {
        return;
    };
    h.push_str("<h3>History</h3><table><tr><th>dimension</th>");
    for it in its {
        let _ = write!(
            h,
            "<th>#{} {}</th>",
            it.get("index").and_then(|v| v.as_u64()).unwrap_or(0),
            esc(it.get("step").and_then(|v| v.as_str()).unwrap_or(""))
        );
    }
    h.push_str("</tr>\n");
    let mut row = |name: &str, score: bool, get: &dyn Fn(&serde_json::Value) -> Option<f64>| {
        let _ = write!(h, "<tr><td>{name}</td>");
        for it in its {
            match get(it) {
                Some(v) if score => {
                    let _ = write!(h, "<td class=\"score\" style=\"--s:{v:.0}\">{v:.1}</td>");
                }
                Some(v) => {
                    let _ = write!(h, "<td>{v:.1}</td>");
                }
                None => h.push_str("<td>–</td>"),
            }
        }
        h.push_str("</tr>\n");
    };
    row("overall", true, &|it| {
        it.get("overall").and_then(|v| v.as_f64())
    });
    for spec in crate::qc::DIMENSIONS.iter() {
        row(spec.name, true, &|it| {
            it.get("dimensions")
                .and_then(|d| d.get(spec.name))
                .and_then(|v| v.as_f64())
        });
    }
    row("seconds", false, &|it| {
        it.get("seconds").and_then(|v| v.as_f64())
    });
    h.push_str("</table>\n");
    // The overall score over the iterations.
    let hgt = 120.0;
    let n = its.len().max(2) as f64 - 1.0;
    let pts: String = its
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let v = it.get("overall").and_then(|v| v.as_f64()).unwrap_or(0.0);
            format!(
                "{:.1},{:.1} ",
                40.0 + 400.0 * i as f64 / n,
                hgt - hgt * v / 100.0
            )
        })
        .collect();
    let ty = hgt - hgt * target / 100.0;
    let _ = writeln!(
        h,
        "<svg class=\"pic\" viewBox=\"0 0 480 {hgt}\" width=\"480\" height=\"{hgt}\"><line class=\"target\" x1=\"40\" x2=\"440\" y1=\"{ty:.1}\" y2=\"{ty:.1}\"/><polyline class=\"ours\" points=\"{pts}\"/><text x=\"0\" y=\"{:.1}\">{target:.0}</text></svg>",
        ty + 4.0
    );
}

fn timeline(h: &mut String, s: &Session, duration: f64) {
    let row = 26.0;
    let _ = write!(
        h,
        "<h2>Sections and chords</h2><svg class=\"pic\" viewBox=\"0 0 {WIDTH} {}\" width=\"{WIDTH}\" height=\"{}\">",
        2.0 * row + 4.0,
        2.0 * row + 4.0
    );
    for (y, segs, class) in [(0.0, &s.sections, "sec"), (row + 4.0, &s.chords, "chord")] {
        for (i, seg) in segs.iter().enumerate() {
            let x0 = WIDTH * seg.start / duration;
            let w = (WIDTH * (seg.end - seg.start) / duration).max(0.5);
            if seg.label == "N" {
                continue;
            }
            let _ = write!(
                h,
                "<rect class=\"{class} c{}\" x=\"{x0:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{row}\"><title>{} {:.2}–{:.2} s</title></rect>",
                i % 2,
                esc(&seg.label),
                seg.start,
                seg.end
            );
            if w > 7.0 * seg.label.len() as f64 {
                let _ = write!(
                    h,
                    "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    x0 + 3.0,
                    y + 17.0,
                    esc(&seg.label)
                );
            }
        }
    }
    h.push_str("</svg>\n");
}

fn piano_roll(
    h: &mut String,
    name: &str,
    role: &str,
    notes: &[auralis_engine::render::NoteSpec],
    duration: f64,
) {
    if notes.is_empty() {
        return;
    }
    let lo = notes.iter().map(|n| n.pitch).min().unwrap_or(0) as f64;
    let hi = notes.iter().map(|n| n.pitch).max().unwrap_or(127) as f64;
    let rows = (hi - lo + 1.0).max(1.0);
    let px = (120.0 / rows).clamp(2.0, 6.0);
    let hgt = rows * px;
    let _ = write!(
        h,
        "<figure><figcaption>{} ({}, {} notes, MIDI {}–{})</figcaption><svg class=\"pic roll\" viewBox=\"0 0 {WIDTH} {hgt}\" width=\"{WIDTH}\" height=\"{hgt}\">",
        esc(name),
        esc(role),
        notes.len(),
        lo,
        hi
    );
    for n in notes {
        let x = WIDTH * n.start_s / duration;
        let w = (WIDTH * (n.end_s - n.start_s) / duration).max(1.0);
        let y = (hi - n.pitch as f64) * px;
        let _ = write!(
            h,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{px:.1}\" style=\"opacity:{:.2}\"/>",
            0.35 + 0.65 * n.velocity.clamp(0.0, 1.0)
        );
    }
    h.push_str("</svg></figure>\n");
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;background:#fafafa;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}figure{margin:8px 0}figcaption{font-size:12px;color:#555}
.facts{color:#444}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}td:last-child{text-align:left}
.score{background:hsl(calc(var(--s)*1.2),70%,80%)}
.players{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:4px}
canvas.spec{width:1100px;height:220px;image-rendering:pixelated;display:block}
svg.pic{background:#fff;border:1px solid #ddd;display:block}
polyline{fill:none;stroke-width:1.5}.orig{stroke:#1f77b4;color:#1f77b4}.ours{stroke:#d62728;color:#d62728}
line.target{stroke:#888;stroke-dasharray:4 3}
rect.sec.c0{fill:#c6dbef}rect.sec.c1{fill:#9ecae1}rect.chord.c0{fill:#e5f5e0}rect.chord.c1{fill:#c7e9c0}
svg text{font-size:11px;fill:#222}.roll rect{fill:#6a51a3}.legend span{margin-right:12px}";

const SCRIPT: &str = "let n=0;for(const c of document.querySelectorAll('canvas.spec')){const hex=c.dataset.px,w=c.width,h=c.height,ctx=c.getContext('2d'),img=ctx.createImageData(w,h);for(let i=0;i<w*h;i++){const v=parseInt(hex.substr(2*i,2),16)/255;const k=x=>Math.round(255*Math.max(0,Math.min(1,x)));img.data[4*i]=k(1.7*v);img.data[4*i+1]=k(1.7*v-0.7);img.data[4*i+2]=k(v<0.4?0.15+1.2*v:1.1-1.2*(v-0.4)+0.6*(v-0.85)*(v>0.85));img.data[4*i+3]=255;}ctx.putImageData(img,0,0);n++;}document.body.dataset.painted=n;";
