#!/usr/bin/env python3
"""Reference notes from Spotify's Python basic-pitch, for the parity benchmark of our Rust port.

Set-up (no TensorFlow; the package runs its ONNX model through onnxruntime):
    python3 -m venv VENV
    VENV/bin/pip install --no-deps basic-pitch==0.4.0
    VENV/bin/pip install librosa "resampy<0.4.3" pretty_midi mir_eval scikit-learn onnxruntime==1.31.1 soundfile
Run:
    VENV/bin/python tools/basic_pitch_reference.py OUT_DIR AUDIO...
writes OUT_DIR/<n>.json per input (n = its position in the list) with the package's default
settings: [{"start_s", "end_s", "pitch", "amplitude"}, ...], plus OUT_DIR/index.json mapping
inputs to outputs and the wall time of each prediction.
"""
import json
import os
import sys
import time

from basic_pitch import ICASSP_2022_MODEL_PATH
from basic_pitch.inference import Model, predict


def main() -> None:
    out_dir, inputs = sys.argv[1], sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)
    path = str(ICASSP_2022_MODEL_PATH)
    if not path.endswith(".onnx"):
        path = os.path.join(os.path.dirname(path), "nmp.onnx")
    model = Model(path)
    index = []
    for i, audio in enumerate(inputs):
        started = time.time()
        _, _, notes = predict(audio, model_or_model_path=model)
        wall = time.time() - started
        rows = [
            {"start_s": float(s), "end_s": float(e), "pitch": int(p), "amplitude": float(a)}
            for s, e, p, a, _ in notes
        ]
        name = os.path.join(out_dir, f"{i}.json")
        with open(name, "w") as f:
            json.dump(rows, f)
        index.append({"audio": audio, "notes": name, "seconds": wall})
        print(f"{audio}: {len(rows)} notes in {wall:.2f} s", file=sys.stderr)
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
