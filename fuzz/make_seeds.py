#!/usr/bin/env python3
"""Writes the starting inputs of each fuzz target into fuzz/seeds/TARGET
(small, valid or nearly valid files of each kind). The fuzzer grows the
corpus from them; fuzz/corpus/TARGET is what it kept (committed)."""
import json, os, struct, wave, shutil, glob, math

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")

def out(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def wav_bytes(channels, rate, width, frames):
    import io
    b = io.BytesIO()
    w = wave.open(b, "wb")
    w.setnchannels(channels); w.setsampwidth(width); w.setframerate(rate)
    vals = []
    for i in range(frames):
        for c in range(channels):
            v = math.sin(i * 0.05 * (c + 1)) * 0.5
            if width == 1:
                vals.append(struct.pack("<B", int(128 + v * 100)))
            elif width == 2:
                vals.append(struct.pack("<h", int(v * 20000)))
            else:
                vals.append(struct.pack("<i", int(v * 2e9))[:width] if width == 3 else struct.pack("<i", int(v * 2e9)))
    w.writeframes(b"".join(vals)); w.close()
    return b.getvalue()

def float_wav(frames):
    data = b"".join(struct.pack("<f", math.sin(i * 0.05) * 0.5) for i in range(frames))
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    return b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + len(data)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data

out("wav", "mono16.wav", wav_bytes(1, 8000, 2, 200))
out("wav", "stereo16.wav", wav_bytes(2, 16000, 2, 200))
out("wav", "mono8.wav", wav_bytes(1, 8000, 1, 100))
out("wav", "eight_channels.wav", wav_bytes(8, 8000, 2, 50))
out("wav", "float.wav", float_wav(100))
out("wav", "truncated.wav", wav_bytes(2, 8000, 2, 200)[:300])
out("wav", "empty", b"")

def ct2(spec, vars, version=6):
    b = bytearray(struct.pack("<I", version))
    def s(t):
        t = t.encode()
        b.extend(struct.pack("<H", len(t) + 1)); b.extend(t); b.append(0)
    s(spec); b.extend(struct.pack("<I", 3)); b.extend(struct.pack("<I", len(vars)))
    for name, shape, dtype, data in vars:
        s(name); b.append(len(shape))
        for d in shape:
            b.extend(struct.pack("<I", d))
        b.append(dtype); b.extend(struct.pack("<I", len(data))); b.extend(data)
    b.extend(struct.pack("<I", 1)); s("alias"); s("encoder/num_heads")
    return bytes(b)

out("ct2", "tiny.bin", ct2("WhisperSpec", [("encoder/num_heads", [], 2, struct.pack("<h", 8)), ("encoder/layer_0/self_attention/linear_0/weight", [12, 4], 4, bytes(96))]))
out("ct2", "int8.bin", ct2("WhisperSpec", [("encoder/layer_0/self_attention/linear_0/weight", [12, 4], 1, bytes(48))]))
out("ct2", "other_spec.bin", ct2("TransformerSpec", []))

model = os.path.expanduser("~/.local/share/callcoach/models/ggml-base.bin")
if os.path.exists(model):
    with open(model, "rb") as f:
        out("ggml", "base_head.bin", f.read(8192))
out("ggml", "magic_only.bin", struct.pack("<I", 0x67676D6C))

for p in glob.glob(os.path.join(ROOT, "prompts/zh-CN/cards/*.toml")):
    shutil.copy(p, os.path.join(SEEDS, "playbook", os.path.basename(p))) if os.path.isdir(os.path.join(SEEDS, "playbook")) else (os.makedirs(os.path.join(SEEDS, "playbook")), shutil.copy(p, os.path.join(SEEDS, "playbook", os.path.basename(p))))
for p in glob.glob(os.path.join(ROOT, "prompts/zh-CN/lexicon/*.toml")):
    os.makedirs(os.path.join(SEEDS, "lexicon"), exist_ok=True)
    shutil.copy(p, os.path.join(SEEDS, "lexicon", os.path.basename(p)))
out("config", "sections.toml", b"[asr]\nthreads = 2\n[vad]\nthreshold = 0.5\n[pipeline]\ncall_end_silence_s = 20.0\n[board]\nurl = \"http://x:1\"\ntoken = \"t\"\n[overlay]\nopacity = 0.9\n")
out("config", "empty.toml", b"")
for p in glob.glob(os.path.join(ROOT, "tests/dialogues/*.txt")):
    os.makedirs(os.path.join(SEEDS, "transcript"), exist_ok=True)
    shutil.copy(p, os.path.join(SEEDS, "transcript", os.path.basename(p)))
out("transcript", "times.txt", "[00:05-00:09] C: 我要销户\n[12.5] A：您好\n客户: 我的号码是13812345678\n".encode())
ev = {"v": 2, "call_id": "01a215a9-4e47-73d1-9109-859af028e995", "seq": 1, "t": 0.0, "type": "call_started", "agent": "a", "source": {"kind": "file", "path": "x"}, "started_at_unix_ms": 1, "input_offset_s": 0.0}
seg = {"v": 2, "call_id": "01a215a9-4e47-73d1-9109-859af028e995", "seq": 2, "t": 1.0, "type": "segment", "speaker": "customer", "start": 0.0, "end": 1.0, "text": "我要销户", "final": True}
out("wire", "events.json", json.dumps({"type": "events", "events": [ev, seg]}, ensure_ascii=False).encode())
out("wire", "ack.json", json.dumps({"type": "ack", "acks": [{"call_id": ev["call_id"], "seq": 2}]}).encode())
out("wire", "note.json", json.dumps({"type": "note", "call_id": ev["call_id"], "from": "张", "text": "注意"}, ensure_ascii=False).encode())
print("seeds written to", SEEDS)
