use auralis::*;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let mut songs: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    songs.sort();
    for s in songs {
        let t = eval::read_truth(&s.join("truth.json")).unwrap();
        let fe = frontend::run(&s.join("mix.wav"), None, &progress::Silent).unwrap();
        let o = onset::onset_strength(&fe.mono, frontend::ANALYSIS_RATE);
        let c = harmony::chroma::chroma(&fe.mono, frontend::ANALYSIS_RATE);
        let mut bars = t.downbeats.clone();
        bars.push(t.sections.last().unwrap().end);
        let nov = structure::novelty(&bars, &c, &o);
        let truth: Vec<usize> = t.sections.iter().map(|x| bars.iter().position(|&b| (b - x.start).abs() < 0.01).unwrap()).collect();
        let picked = structure::pick_boundaries(&nov);
        println!("{} truth {:?} picked {:?}", s.file_name().unwrap().to_string_lossy(), truth, picked);
        let line: Vec<String> = nov.iter().enumerate().map(|(i, v)| format!("{}{:.1}", if truth.contains(&i) {"*"} else {""}, v)).collect();
        println!("   {}", line.join(" "));
    }
}
