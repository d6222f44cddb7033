use auralis::*;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let mut songs: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    songs.sort();
    for s in songs {
    let t = eval::read_truth(&s.join("truth.json")).unwrap();
    let fe = frontend::run(&s.join("mix.wav"), None, &progress::Silent).unwrap();
    let o = onset::onset_strength(&fe.mono, frontend::ANALYSIS_RATE);
    let fr = o.frame_rate;
    let pk = |x: &[f32], tt: f64| { let c = (tt*fr).round() as usize; (c.saturating_sub(2)..(c+3).min(x.len())).map(|i| x[i]).fold(0.0f32, f32::max) };
    println!("{}", s.file_name().unwrap().to_string_lossy());
    for sec in &t.sections {
        let bs: Vec<f64> = t.beats.iter().copied().filter(|&b| b >= sec.start && b < sec.end).collect();
        let ibi = 60.0 / t.tempo_bpm;
        let mut acc = [[0.0f32;5];2];
        for &b in &bs { for (k, x) in [&o.perc[0], &o.perc[1], &o.perc[2], &o.harmonic, &o.total].iter().enumerate() { acc[0][k] += pk(x, b); acc[1][k] += pk(x, b + ibi/2.0); } }
        let n = bs.len() as f32;
        println!("  {:>8} P on/off low {:5.1}/{:5.1} mid {:5.1}/{:5.1} high {:5.1}/{:5.1} | H {:5.1}/{:5.1} | tot {:5.1}/{:5.1}", sec.label,
          acc[0][0]/n, acc[1][0]/n, acc[0][1]/n, acc[1][1]/n, acc[0][2]/n, acc[1][2]/n, acc[0][3]/n, acc[1][3]/n, acc[0][4]/n, acc[1][4]/n);
    }
    }
}
