#!/usr/bin/env python3
"""Parity of our Rust Basic Pitch against the Python package, on every pitched stem of a corpus.

    VENV/bin/python tools/basic_pitch_parity.py CORPUS [AURALIS_BINARY]

VENV is set up as in tools/basic_pitch_reference.py (basic-pitch 0.4.0 with --no-deps, its
ONNX model through onnxruntime, no TensorFlow). For each stem (drums excluded) and each mix, the
package's notes (default settings) are the reference and `auralis transcribe --raw` the
estimate; note F1 with mir_eval (onset ±50 ms, pitch ±50 cents, offsets ignored).
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import mir_eval
import numpy as np
from basic_pitch import ICASSP_2022_MODEL_PATH
from basic_pitch.inference import Model, predict


def arrays(notes):
    iv = np.array([[n["start_s"], max(n["end_s"], n["start_s"] + 0.01)] for n in notes]).reshape(-1, 2)
    hz = np.array([440.0 * 2 ** ((n["pitch"] - 69) / 12) for n in notes])
    return iv, hz


def main() -> None:
    corpus = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/auralis"
    path = str(ICASSP_2022_MODEL_PATH)
    if not path.endswith(".onnx"):
        path = os.path.join(os.path.dirname(path), "nmp.onnx")
    model = Model(path)
    files = sorted(glob.glob(os.path.join(corpus, "*", "stems", "*.flac")))
    files = [f for f in files if not f.endswith("drums.flac")]
    files += sorted(glob.glob(os.path.join(corpus, "*", "mix.wav")))
    scores, t_ref, t_ours = [], 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, f in enumerate(files):
            t0 = time.time()
            _, _, ref = predict(f, model_or_model_path=model)
            t_ref += time.time() - t0
            ref = [{"start_s": s, "end_s": e, "pitch": int(p)} for s, e, p, _, _ in ref]
            out = os.path.join(tmp, f"{i}.json")
            t0 = time.time()
            subprocess.run([binary, "transcribe", f, "--raw", "--json", out], check=True, capture_output=True)
            t_ours += time.time() - t0
            est = json.load(open(out))
            if not ref and not est:
                f1 = 1.0
            elif not ref or not est:
                f1 = 0.0
            else:
                ri, rp = arrays(ref)
                ei, ep = arrays(est)
                _, _, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(
                    ri, rp, ei, ep, onset_tolerance=0.05, pitch_tolerance=50, offset_ratio=None)
            scores.append(f1)
            print(f"{os.path.relpath(f, corpus):<40} ref {len(ref):4d} ours {len(est):4d}  F1 {f1:.3f}")
    print(f"{len(scores)} files: mean F1 {np.mean(scores):.4f}, min {np.min(scores):.3f}; "
          f"python {t_ref:.1f} s, ours (whole CLI incl. decoding) {t_ours:.1f} s")


if __name__ == "__main__":
    main()
