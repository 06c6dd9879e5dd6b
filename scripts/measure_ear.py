"""Figures for the ear: how long the spoken menu takes, and each built-in rendered track's
loudness, peak and length beside the length ``voice-imrs list`` says.

Run from a clone: ``PYTHONPATH=. .venv/bin/python scripts/measure_ear.py`` (about 20 s;
loudness by pyloudnorm, the reference meter, from the dev extra). JSON is printed last.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pyloudnorm

from voice_imrs.cli.scripts import script_length
from voice_imrs.core.profile import Profile
from voice_imrs.render.track import calm_path, estimated_seconds, render_track
from voice_imrs.script_files import builtin_scripts
from voice_imrs.session import parts
from voice_imrs.session.conversations import menu_script


def main() -> None:
    profile = Profile()
    settings = parts.voice_for(profile)
    library = builtin_scripts()
    speech = parts.make_speech("auto")
    figures: dict[str, object] = {"rate_wpm": settings.rate_wpm, "menu_s": {}, "tracks": {}}
    try:
        for mode in ("homework", "therapist"):
            allowed = [s for s in library.values() if s.mode == "homework" or mode == "therapist"]
            text = menu_script(allowed).steps[0].text  # type: ignore[union-attr]
            for rate in (settings.rate_wpm, settings.rate_wpm - 25):
                audio = speech.renderer.render(text, replace(settings, rate_wpm=rate))  # type: ignore[attr-defined]
                seconds = round(len(audio) / speech.sample_rate, 2)
                figures["menu_s"][f"{mode}@{rate}wpm"] = seconds  # type: ignore[index]
                print(f"menu ({mode}, {rate} wpm): {seconds} s")
    finally:
        speech.close()
    from voice_imrs.tts.registry import make_synthesizer

    synth = make_synthesizer("auto")
    for name, script in library.items():
        items = calm_path(script, {**parts.variables_for(profile), "delivery": "track"})
        track = render_track(items, synth, settings)
        samples = track.audio.astype(np.float64) / 32768
        lufs = pyloudnorm.Meter(track.sample_rate).integrated_loudness(samples)
        peak = 20 * np.log10(np.abs(samples).max())
        estimate = estimated_seconds(items, settings.rate_wpm)
        row = {"lufs": round(float(lufs), 2), "peak_dbfs": round(float(peak), 2),
               "rendered_s": round(track.duration_s, 1), "estimated_s": round(estimate, 1),
               "list_says": script_length(script, profile), "chapters": len(track.cues)}
        figures["tracks"][name] = row  # type: ignore[index]
        print(f"{name}: {row}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
