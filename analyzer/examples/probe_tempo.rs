use auralis::*;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let mut songs: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    songs.sort();
    for s in songs {
        let t = eval::read_truth(&s.join("truth.json")).unwrap();
        let fe = frontend::run(&s.join("mix.wav"), None, &progress::Silent).unwrap();
        let o = onset::onset_strength(&fe.mono, frontend::ANALYSIS_RATE);
        let x = rhythm::beat_novelty(&o);
        let fr = o.frame_rate;
        let det = rhythm::tempo::detrend(&x, fr as usize);
        let r = rhythm::tempo::autocorrelation(&det, (60.0*fr/40.0*4.0) as usize);
        let en = |lag: f64| rhythm::tempo::interp(&r, lag) + 0.5*rhythm::tempo::interp(&r, 2.0*lag) + 0.25*rhythm::tempo::interp(&r, 4.0*lag);
        print!("{:<22}", s.file_name().unwrap().to_string_lossy());
        for k in [0.5, 2.0/3.0, 1.0, 1.5, 2.0] {
            let bpm = t.tempo_bpm * k;
            let p = 60.0 * fr / bpm;
            let pl = rhythm::tempo::pulse(&x, p);
            print!(" | {:5.1}: ac {:6.3} on {:4.2} mid {:4.2} pr {:4.2}", bpm, en(p)/r[0], pl.on, pl.mid_ratio, rhythm::tempo::prior(bpm));
        }
        println!();
    }
}
