#!/usr/bin/env python3
"""Train the closed-vocabulary keyword classifier shipped as voice_imrs/data/keyword_model.npz.

Data, all offline:
- real recordings of tests/data/speech/dev from TRAINING speakers only (the held-out rule
  is ``benchmarks.speakers.is_held_out``; held-out clips are never read here);
- espeak-ng voices (many variants, rates, pitches) saying the vocabulary, the commands
  that have no human recordings, near-miss words and sentences;
- noise: the training-split noise clips, plus white/pink noise and near-silence.
Each example is one second of audio with the word at a random place, mixed with noise at
a random level, random gain, sometimes band-limited to 4 kHz (like the FSDD clips) or
given a short synthetic room echo. Words cut short are labelled "other", so the model
waits for the whole word before it says "stop".

Training uses PyTorch on one CPU thread (a few minutes); the weights are exported to a
small .npz that ``voice_imrs.asr.keyword_net`` runs with numpy alone.

    python3 scripts/train_keyword_model.py [--cache /tmp/voice_imrs_kw] [--epochs 24]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.speakers import is_held_out  # noqa: E402
from voice_imrs.asr.features import WINDOW_SAMPLES, log_mel  # noqa: E402
from voice_imrs.asr.keyword_net import CLASS_OF_PHRASE, CLASSES  # noqa: E402
from voice_imrs.audio.wav import read_wav_at  # noqa: E402

DEV = ROOT / "tests/data/speech/dev"
OUT = ROOT / "voice_imrs/data/keyword_model.npz"
RATE = 16_000

VOICES = ["en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc",
          "en-gb-x-gbclan", "en-gb-x-gbcwmd"]
VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt3", "Andy", "Annie", "belinda", "david", "edward",
            "grandma", "grandpa", "linda", "max", "michel", "paul", "rob", "steph", "travis",
            "iven", "john", "norbert", "quincy", "shelby", "victor", "whisper"]

#: Words that are not in the vocabulary, many of them close to it ("top", "know", "ten"-ish).
OTHER_WORDS = [
    "top", "shop", "stock", "step", "spot", "stuck", "stuff", "stamp", "tap", "hop", "drop",
    "not", "know", "now", "new", "nose", "note", "yet", "yellow", "less", "chess", "guess",
    "weight", "way", "white", "wet", "when", "go", "on", "off", "up", "down", "left",
    "right", "seventeen", "fourteen", "nineteen", "twenty", "thirty", "fifty", "hello",
    "okay", "maybe", "please", "thanks", "water", "music", "house", "tree", "dog", "cat",
    "bird", "happy", "learn", "follow", "forward", "visual", "sheila", "wow", "bed", "the",
    "and", "but", "what", "well", "hmm", "really", "later", "never", "always", "morning",
    "breathe", "relax", "calm", "safe", "imagine", "picture", "remember", "feeling", "send",
    "sir", "fine", "mine", "heaven", "gate", "eat", "bone", "shoe", "tree house", "stone",
    "sit", "sticks", "son", "sun", "zebra", "hero", "yesterday", "noon", "nobody",
]
SENTENCES = [
    "take a slow breath in and let it go",
    "notice the ground under your feet",
    "i was walking home when the lights went out",
    "the room is quiet and the window is open",
    "we can come back to this memory later",
    "picture a safe place where you feel calm",
    "my sister called me on the phone this morning",
    "let the image fade and look around the room",
    "he said that everything would be all right",
    "there is a small garden behind the house",
    "you are doing well so far",
    "i think i remember the smell of the kitchen",
    "the train was late again today",
    "can you hear the birds outside",
    "it feels strange to talk about it",
    "she opened the door and walked into the hall",
    "what would you like to happen instead",
    "the little boy was hiding under the table",
    "slowly bring your attention back to your body",
    "a warm light fills the whole space around you",
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- data sources

def synth(text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
    """espeak-ng speech at 16 kHz, leading/trailing silence trimmed."""
    raw = subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch),
                          "--stdout", text], capture_output=True, check=True).stdout
    pcm = np.frombuffer(raw[44:], np.int16).astype(np.float32)  # 22050 Hz WAV
    pcm = resample_poly(pcm, 320, 441)
    return trim(pcm)


def trim(audio: np.ndarray, margin: int = 800) -> np.ndarray:
    """Cut silence around the loudest stretch (frames within 35 dB of the peak)."""
    if len(audio) < 320:
        return audio
    frames = len(audio) // 160
    energy = np.array([np.sqrt(np.mean(audio[i * 160:(i + 1) * 160] ** 2) + 1e-3)
                       for i in range(frames)])
    loud = np.flatnonzero(20 * np.log10(energy / energy.max()) > -35)
    if len(loud) == 0:
        return audio
    start = max(0, loud[0] * 160 - margin)
    end = min(len(audio), (loud[-1] + 1) * 160 + margin)
    return audio[start:end]


def synth_corpus(cache: Path, rng: np.random.Generator) -> list[tuple[np.ndarray, str]]:
    """(audio, label) pairs of synthesized speech; cached as one .npz."""
    path = cache / "synth.npz"
    if path.exists():
        data = np.load(path, allow_pickle=True)
        return list(zip(data["audio"], data["label"], strict=True))
    jobs: list[tuple[str, str, int, int, str]] = []
    voices = [f"{v}+{x}" if x else v for v in VOICES for x in VARIANTS]
    rng.shuffle(voices)
    for phrase, label in CLASS_OF_PHRASE.items():
        for voice in voices[:44]:
            jobs.append((phrase, voice, int(rng.integers(110, 230)), int(rng.integers(25, 80)),
                         label))
    for word in OTHER_WORDS:
        for voice in rng.choice(voices, 8, replace=False):
            jobs.append((word, str(voice), int(rng.integers(110, 230)),
                         int(rng.integers(25, 80)), "other"))
    for sentence in SENTENCES:
        for voice in rng.choice(voices, 8, replace=False):
            jobs.append((sentence, str(voice), int(rng.integers(130, 200)),
                         int(rng.integers(30, 70)), "sentence"))
    log(f"synthesizing {len(jobs)} clips with espeak-ng")
    with ThreadPoolExecutor(2) as pool:
        audio = list(pool.map(lambda j: synth(j[0], j[1], j[2], j[3]), jobs))
    labels = [j[4] for j in jobs]
    keep = [i for i, a in enumerate(audio) if len(a) > 800]
    out_audio = np.empty(len(keep), object)
    out_audio[:] = [audio[i].astype(np.float32) for i in keep]
    np.savez(path, audio=out_audio, label=np.array([labels[i] for i in keep]))
    return [(out_audio[k], labels[i]) for k, i in enumerate(keep)]


def human_corpus() -> tuple[list[tuple[np.ndarray, str]], list[np.ndarray]]:
    """(audio, label) of training-speaker dev clips, and training noise clips."""
    speech: list[tuple[np.ndarray, str]] = []
    noise: list[np.ndarray] = []
    with open(DEV / "manifest.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if is_held_out(row["speaker"], row["file"]):
                continue
            audio = read_wav_at(DEV / row["file"], RATE).astype(np.float32)
            if row["category"] == "noise":
                noise.append(audio)
            elif row["category"] == "sentence":
                speech.append((audio, "sentence"))
            else:
                word = row["transcript"]
                label = CLASS_OF_PHRASE.get(word, "other")
                speech.append((trim(audio), label))
    return speech, noise


# --------------------------------------------------------------------------- augmentation

LOWPASS_4K = butter(8, 3800, fs=RATE, output="sos")


def colored_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n)
    if rng.random() < 0.5:
        return white
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.arange(1, len(spectrum) + 1))
    pink = np.fft.irfft(spectrum, n)
    return pink / (pink.std() + 1e-9)


def background(noise: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """One second of noise: a training noise clip or synthetic noise, unit RMS-ish."""
    if noise and rng.random() < 0.6:
        clip = noise[int(rng.integers(len(noise)))]
        if len(clip) < WINDOW_SAMPLES:
            clip = np.tile(clip, WINDOW_SAMPLES // max(1, len(clip)) + 1)
        start = int(rng.integers(0, len(clip) - WINDOW_SAMPLES + 1))
        part = clip[start:start + WINDOW_SAMPLES].astype(np.float64)
        return part / (np.sqrt(np.mean(part ** 2)) + 1e-3)
    return colored_noise(WINDOW_SAMPLES, rng)


def room(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A crude small-room echo: exponentially decaying noise impulse response."""
    length = int(rng.uniform(0.05, 0.3) * RATE)
    decay = np.exp(-np.arange(length) / (rng.uniform(0.01, 0.06) * RATE))
    response = rng.standard_normal(length) * decay * rng.uniform(0.05, 0.3)
    response[0] = 1.0
    wet = np.convolve(audio, response)[:len(audio)]
    return wet * (np.abs(audio).max() / (np.abs(wet).max() + 1e-9))


def speed(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Speed and pitch together by resampling, factor 0.85..1.15."""
    factor = rng.uniform(0.85, 1.15)
    up = 100
    return resample_poly(audio, up, round(up * factor))


def place(word: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The word at a random place in one second (cropped around its middle if longer)."""
    out = np.zeros(WINDOW_SAMPLES)
    if len(word) >= WINDOW_SAMPLES:
        start = int(rng.integers(0, len(word) - WINDOW_SAMPLES + 1))
        return word[start:start + WINDOW_SAMPLES].astype(np.float64)
    at = int(rng.integers(0, WINDOW_SAMPLES - len(word) + 1))
    out[at:at + len(word)] = word
    return out


def augment(word: np.ndarray | None, noise: list[np.ndarray],
            rng: np.random.Generator) -> np.ndarray:
    """One second of int16-scaled audio: the word (or nothing), gain, noise, channel."""
    if word is None:
        speech = np.zeros(WINDOW_SAMPLES)
        level = 10 ** rng.uniform(0.0, 3.5)  # from near-digital silence to loud noise
    else:
        speech = place(speed(word, rng) if rng.random() < 0.7 else word, rng)
        if rng.random() < 0.3:
            speech = room(speech, rng)
        peak = np.abs(speech).max() + 1e-9
        speech = speech / peak * 10 ** rng.uniform(2.8, 4.5)  # peak 630 .. 31600
        rms = np.sqrt(np.mean(speech[np.abs(speech) > 0] ** 2)) if np.any(speech) else 1.0
        level = rms / 10 ** (rng.uniform(5, 40) / 20)  # SNR 5..40 dB
        if rng.random() < 0.2:
            level *= 0.05
    noise_part = background(noise, rng) * level
    if word is None and rng.random() < 0.3:
        # Noise that starts or stops inside the second, over a quiet room.
        cut = int(rng.integers(1, WINDOW_SAMPLES))
        quiet = slice(0, cut) if rng.random() < 0.5 else slice(cut, None)
        noise_part[quiet] = rng.normal(0.0, rng.uniform(0.5, 5.0), len(noise_part[quiet]))
    mixed = speech + noise_part
    if rng.random() < 0.12:
        mixed = sosfilt(LOWPASS_4K, mixed)
    return np.clip(mixed, -32768, 32767)


def features(audio: np.ndarray) -> np.ndarray:
    """Log-mel with each band's mean over the second removed (as KeywordModel does)."""
    feats = log_mel(audio)
    return (feats - feats.mean(axis=0, keepdims=True)).astype(np.float16)


def examples(items: list[tuple[np.ndarray, str]], noise: list[np.ndarray], copies: int,
             rng: np.random.Generator) -> tuple[list[np.ndarray], list[int]]:
    """Feature matrices and class indices for ``copies`` augmented versions of each item."""
    feats: list[np.ndarray] = []
    labels: list[int] = []
    index = {name: i for i, name in enumerate(CLASSES)}
    for audio, label in items:
        if label not in index and label != "sentence":
            continue  # a phrase of an older class list in the synthesis cache
        for _ in range(copies):
            if label == "sentence":
                clip, name = audio, "other"
            elif label not in ("other", "noise") and rng.random() < 0.04 and len(audio) > 4000:
                # Only the start of the word: not yet that word.
                clip, name = audio[:int(len(audio) * rng.uniform(0.25, 0.45))], "other"
            else:
                clip, name = audio, label
            feats.append(features(augment(clip, noise, rng)))
            labels.append(index[name])
    return feats, labels


def build_dataset(cache: Path, seed: int) -> tuple[np.ndarray, np.ndarray]:
    path = cache / f"dataset{seed}_v3.npz"
    if path.exists():
        data = np.load(path)
        return data["x"], data["y"]
    rng = np.random.default_rng(seed)
    synthetic = synth_corpus(cache, rng)
    human, noise = human_corpus()
    log(f"{len(human)} training-speaker clips, {len(noise)} noise clips, "
        f"{len(synthetic)} synthesized clips")
    feats, labels = examples(human, noise, 12, rng)
    more = examples(synthetic, noise, 2, rng)
    feats += more[0]
    labels += more[1]
    for _ in range(2000):
        feats.append(features(augment(None, noise, rng)))
    labels += [CLASSES.index("noise")] * 2000
    x = np.stack(feats)
    y = np.array(labels, np.int64)
    np.savez(path, x=x, y=y)
    return x, y


# --------------------------------------------------------------------------- training

def train(x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> dict[str, np.ndarray]:
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    mean = x.astype(np.float32).mean(axis=(0, 1))
    std = x.astype(np.float32).std(axis=(0, 1)) + 1e-3

    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    net = nn.Sequential(*block(1, 16), nn.MaxPool2d(2), *block(16, 32), nn.MaxPool2d(2),
                        *block(32, 48), nn.MaxPool2d(2), *block(48, 64),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                        nn.Linear(64, len(CLASSES)))
    xt = torch.from_numpy((x.astype(np.float32) - mean) / std).unsqueeze(1)
    yt = torch.from_numpy(y)
    order = torch.randperm(len(yt))
    n_val = len(yt) // 20
    val, tr = order[:n_val], order[n_val:]
    weights = torch.bincount(yt[tr], minlength=len(CLASSES)).float().clamp(min=1)
    weights = (weights.sum() / weights) ** 0.5
    loss_fn = nn.CrossEntropyLoss(weight=weights / weights.mean(), label_smoothing=0.05)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-3)
    steps = epochs * ((len(tr) + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=steps)
    for epoch in range(epochs):
        net.train()
        perm = tr[torch.randperm(len(tr))]
        total = 0.0
        for i in range(0, len(perm), 128):
            idx = perm[i:i + 128]
            batch = xt[idx]
            # SpecAugment-style masking: one band of mel channels and one of time.
            f0 = int(torch.randint(0, 36, ()))
            batch = batch.clone()
            batch[:, :, :, f0:f0 + int(torch.randint(0, 5, ()))] = 0
            t0 = int(torch.randint(0, 90, ()))
            batch[:, :, t0:t0 + int(torch.randint(0, 8, ())), :] = 0
            opt.zero_grad()
            loss = loss_fn(net(batch), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        net.eval()
        with torch.no_grad():
            acc = float((net(xt[val]).argmax(1) == yt[val]).float().mean())
        log(f"epoch {epoch + 1}/{epochs} loss {total / len(tr):.3f} val acc {acc:.3f}")
    return export(net, mean, std)


def export(net: object, mean: np.ndarray, std: np.ndarray) -> dict[str, np.ndarray]:
    """Conv weights with batch norm folded in, as float32 arrays for numpy inference."""
    from torch import nn

    assert isinstance(net, nn.Sequential)
    layers = list(net)
    out: dict[str, np.ndarray] = {"mean": mean.astype(np.float32),
                                  "std": std.astype(np.float32)}
    k = 0
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Conv2d):
            bn = layers[i + 1]
            assert isinstance(bn, nn.BatchNorm2d)
            assert bn.running_var is not None and bn.running_mean is not None
            scale = (bn.weight / (bn.running_var + bn.eps).sqrt()).detach().numpy()
            w = layer.weight.detach().numpy() * scale[:, None, None, None]
            b = bn.bias.detach().numpy() - bn.running_mean.numpy() * scale
            out[f"conv{k}_w"] = w.astype(np.float32)
            out[f"conv{k}_b"] = b.astype(np.float32)
            k += 1
        elif isinstance(layer, nn.Linear):
            out["fc_w"] = layer.weight.detach().numpy().astype(np.float32)
            out["fc_b"] = layer.bias.detach().numpy().astype(np.float32)
    return out


def merge(paths: list[Path], out: Path) -> int:
    """One file holding several trained networks (keys net0_..., net1_...)."""
    merged: dict[str, np.ndarray] = {}
    for k, path in enumerate(paths):
        with np.load(path) as data:
            for key in data.files:
                if key in ("classes", "cmn"):
                    merged[key] = data[key]
                else:
                    merged[f"net{k}_{key}"] = data[key]
    np.savez_compressed(out, **merged)
    log(f"wrote ensemble of {len(paths)} to {out} ({out.stat().st_size // 1024} KiB)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default="/tmp/voice_imrs_kw", type=Path)
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--ensemble", type=Path, nargs="+", metavar="NPZ",
                        help="instead of training, merge these trained models into one "
                             "ensemble file at --out")
    args = parser.parse_args()
    if args.ensemble:
        return merge(args.ensemble, args.out)
    args.cache.mkdir(parents=True, exist_ok=True)
    x, y = build_dataset(args.cache, args.seed)
    log(f"dataset {x.shape}, per class {np.bincount(y, minlength=len(CLASSES)).tolist()}")
    weights = train(x, y, args.epochs, args.seed)
    weights["classes"] = np.array(CLASSES)
    weights["cmn"] = np.array(1)
    digest = hashlib.sha256(b"".join(v.tobytes() for v in weights.values())).hexdigest()[:12]
    np.savez_compressed(args.out, **weights)
    log(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB, {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
