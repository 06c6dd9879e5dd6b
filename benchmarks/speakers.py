"""Which dev recordings are held out from training and tuning, decided by speaker.

One fixed, deterministic rule shared by the training script and the benchmarks, so that
every figure reported as "held out" comes from voices the keyword model never heard:
- Speech Commands speakers (``sc:<id>``): the md5 of the id, 35 in 100 held out;
- Free Spoken Digit Dataset: ``fsdd:nicolas`` held out (one of five dev speakers);
- Feiyu Chen (``felix:``) is training only, never on both sides;
- sentences: CMU ARCTIC aew and the "go forward" speaker held out, the others train;
- noise clips (speaker ``none``): the md5 of the file name, 35 in 100 held out.
"""

from __future__ import annotations

import hashlib

HELD_OUT_SHARE = 35  # of 100
HELD_OUT_SPEAKERS = frozenset({"fsdd:nicolas", "cmu_arctic:aew",
                               "pocketsphinx_goforward:unknown"})


def _bucket(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16) % 100


def is_held_out(speaker: str, file: str) -> bool:
    """True when the clip ``file`` by ``speaker`` is reserved for evaluation."""
    if speaker in HELD_OUT_SPEAKERS:
        return True
    if speaker.startswith("sc:"):
        return _bucket(speaker) < HELD_OUT_SHARE
    if speaker == "none":
        return _bucket(file) < HELD_OUT_SHARE
    return False
