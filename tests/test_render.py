"""Rendered tracks: the calm path, the timeline, bells, loudness, files, cue sheets, takes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, SPEECH

from voice_imrs.audio.wav import read_wav, read_wav_at
from voice_imrs.cli.main import main
from voice_imrs.core.script import (
    AskChoice,
    AskRating,
    AskYesNo,
    ChoiceOption,
    End,
    RatingBranch,
    RepeatUntil,
    Say,
    Script,
    SetVar,
)
from voice_imrs.errors import ScriptError
from voice_imrs.ports import VoiceSettings
from voice_imrs.render import track as track_module
from voice_imrs.render.assets import load_asset
from voice_imrs.render.mixer import loudness_dbfs
from voice_imrs.render.takes import TakeLibrary
from voice_imrs.render.track import Ring, Silence, Speech, StepStart, calm_path

SCRIPT = """
name = "render_test"
title = "Render test"

[[step]]
id = "intro"
kind = "say"
text = "Welcome to this short practice."
bell = "bell"
pause_after_s = 1

[[step]]
id = "rating"
kind = "rating"
var = "sud"
text = "From zero to ten, how distressed do you feel right now?"
branches = [
  { low = 0, high = 7 },
  { low = 8, high = 10, goto = "grounding_extra" },
]

[[step]]
id = "breathe"
kind = "breathing"
duration_s = 10
inhale_s = 4
exhale_s = 6

[[step]]
id = "quiet"
kind = "timer"
duration_s = 10
interval_s = 5
bell = "chime"

[[step]]
id = "settled"
kind = "yesno"
var = "settled"
text = "Do you feel settled?"
yes = "grounding_return"
no = "grounding_extra"

[[step]]
id = "grounding_extra"
kind = "say"
text = "Let's stay with the room a little longer."
pause_after_s = 2

[[step]]
id = "grounding_return"
kind = "say"
text = "Come back to the room. Feel your feet on the floor."
pause_after_s = 1

[[step]]
id = "end"
kind = "end"
text = "Well done."
"""

RATE = 22050


@pytest.fixture()
def env(tmp_path, monkeypatch):
    """A script file, an empty profile folder and voices folder of the test's own."""
    monkeypatch.setenv("VOICE_IMRS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VOICE_IMRS_DATA_DIR", str(tmp_path / "data"))
    script = tmp_path / "render_test.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    return tmp_path, script


def tts_seconds(text: str) -> float:
    from voice_imrs.tts.registry import make_synthesizer

    synth = make_synthesizer("espeak")
    samples = sum(len(c) for c in synth.synthesize(text, VoiceSettings()))
    return samples / synth.sample_rate


def render(args: list[str]) -> int:
    return main(["render", *args])


def bell_onset(audio: np.ndarray, template: np.ndarray, around_s: float,
               window_s: float = 0.5) -> tuple[float, float]:
    """(time of the best match of ``template`` near ``around_s``, normalized correlation).

    Every sample offset is tried: the chime's partials repeat every few samples, so a
    coarser scan can miss the true onset and land on a later beat of the tone.
    """
    x = audio.astype(np.float64)
    t = template[: RATE // 2].astype(np.float64)
    start = max(0, int((around_s - window_s) * RATE))
    stop = min(len(x) - len(t), int((around_s + window_s) * RATE))
    scores = match_scores(x[start:stop + len(t)], t)
    best = int(np.argmax(scores))
    return (start + best) / RATE, float(scores[best])


def match_scores(audio: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalized correlation of ``template`` at every offset in ``audio`` (1: identical)."""
    from scipy.signal import correlate

    x, t = audio.astype(np.float64), template.astype(np.float64)
    # Running sums and an FFT correlation: the direct ones take minutes on a 10 s span.
    squares = np.concatenate([[0.0], np.cumsum(x * x)])
    energy = np.sqrt(np.maximum(squares[len(t):] - squares[:-len(t)], 0.0))
    scores = correlate(x, t, "valid", method="fft") / (energy * np.linalg.norm(t) + 1e-9)
    # Near-silent windows: the running sums' rounding would make noise look like a match.
    return np.where(energy > 1e-3 * max(float(energy.max()), 1.0), scores, 0.0)


# ---------------------------------------------------------------- the calm path rules


def test_calm_path_takes_lowest_rating_yes_unless_detour_and_the_profile_choice():
    script = Script("calm", "Calm", steps=(
        AskRating("r", "Rate it.", branches=(RatingBranch(0, 3, "low"),
                                             RatingBranch(4, 10, "grounding_x")), var="sud"),
        Say("low", "Low."),
        AskChoice("c", "Who helps?", options=(
            ChoiceOption("protector", ("a protector",), "p"),
            ChoiceOption("adult_self", ("my adult self", "adult self"), "a")), var="helper"),
        Say("p", "Protector {sud}.", next="q"),
        Say("a", "Adult self {sud}.", next="q"),
        AskYesNo("q", "Stop now?", yes="grounding_x", no="loop_end"),
        RepeatUntil("loop_end", start="r", until="done", max_rounds=3),
        SetVar("third", "perspective", "third"),
        Say("grounding_x", "[first: I am here | third: they are here]."),
        End("end", "Bye."),
    ))
    items = calm_path(script, {"helper": "your adult self"})
    said = [i.text for i in items if isinstance(i, Speech)]
    steps = [i.step_id for i in items if isinstance(i, StepStart)]
    assert steps == ["r", "low", "c", "a", "q", "grounding_x", "end"]
    assert "Adult self 0." in said              # rating 0, the profile's helper
    assert "they are here." in said             # set var took effect, repeat ran once
    assert track_module.RATING_CUE in said and track_module.YES_NO_CUE in said
    assert any("adult self" in s and "continue" in s for s in said)
    assert sum(isinstance(i, Silence) for i in items) == 3  # one pause per question
    first_choice = calm_path(script, {})
    assert "Protector 0." in [i.text for i in first_choice if isinstance(i, Speech)]


def test_belief_rating_takes_the_highest_branch_and_the_end_is_grounded():
    script = Script("b", "B", steps=(
        AskRating("belief", "How true?", scale="belief",
                  branches=(RatingBranch(0, 5, "weak"), RatingBranch(6, 10, None)), var="b"),
        Say("strong", "Strong {b}."),
    ))
    items = calm_path(script, {})
    said = [i.text for i in items if isinstance(i, Speech)]
    assert "Strong 10." in said
    # Off the end of the script: closed through the built-in grounding close, as in a session.
    assert [i.step_id for i in items if isinstance(i, StepStart)][-1] == "grounding_close"


def test_a_calm_path_that_never_ends_is_a_script_error():
    script = Script("loop", "Loop", steps=(
        Say("a", "A.", next="b"), Say("b", "B.", next="a")), source="loop.toml")
    with pytest.raises(ScriptError) as caught:
        calm_path(script, {})
    assert "loop.toml" in str(caught.value) and "loops" in str(caught.value)


# ---------------------------------------------------------------- rendered files


def test_rendered_wav_duration_bells_loudness_and_cue_sheet(env, capsys):
    folder, script = env
    out = folder / "track.wav"
    # espeak-ng, as tts_seconds measures: the expected length is the sum of its parts.
    assert render([str(script), "--out", str(out), "--background", "rain",
                   "--tts", "espeak"]) == 0
    captured = capsys.readouterr()
    assert "100 percent" in captured.err and "Wrote" in captured.out  # plain: not a tty
    assert "\r" not in captured.err and "#" not in captured.err
    audio, rate = read_wav(out)
    assert rate == RATE
    sheet = json.loads((folder / "track.cues.json").read_text())

    # Duration: every prompt, cue, pause, timer and the bell's lead, and the soft edges
    # (the opening bell's lead, the gap before the closing bell and its ringing out).
    spoken = ["Welcome to this short practice.",
              "From zero to ten, how distressed do you feel right now?",
              track_module.RATING_CUE, "Do you feel settled?", track_module.YES_NO_CUE,
              "Come back to the room. Feel your feet on the floor.", "Well done."]
    expected = (sum(tts_seconds(t) for t in spoken) + 1 + 5 + 5 + 1 + 10 + 10
                + track_module.BELL_LEAD_S + 2 * track_module.EDGE_S
                + track_module.START_LEAD_S + track_module.END_GAP_S
                + len(load_asset(track_module.EDGE_BELL, RATE)) / RATE)
    assert expected - 0.1 < len(audio) / rate < expected + 0.3
    assert sheet["duration_s"] == pytest.approx(len(audio) / rate, abs=0.01)

    # No clipping anywhere.
    assert np.max(np.abs(audio.astype(np.int32))) < 32767

    # The cue sheet: every audible step in order, increasing times, the calm path.
    ids = [s["id"] for s in sheet["steps"]]
    assert ids == ["intro", "rating", "breathe", "quiet", "settled", "grounding_return", "end"]
    starts = [s["start_s"] for s in sheet["steps"]]
    assert starts == sorted(starts) and starts[0] == pytest.approx(
        track_module.EDGE_S + track_module.START_LEAD_S)
    assert {s["kind"] for s in sheet["steps"]} >= {"say", "askrating", "timed", "askyesno"}
    assert sheet["steps"][1]["text"].startswith("From zero to ten")
    assert sheet["background"] == "rain" and "lowest-distress" in sheet["rules"]

    # Bells: the soft opening bell, the phase bell at the intro, the chime at each timer
    # interval, the soft closing bell; each one is in the audio exactly where the cue
    # sheet says (matched filter on the asset itself).
    bells = sheet["bells"]
    assert [b["name"] for b in bells] == ["chime", "bell", "chime", "chime", "chime"]
    quiet = next(s for s in sheet["steps"] if s["id"] == "quiet")["start_s"]
    assert [b["time_s"] for b in bells[2:4]] == pytest.approx([quiet, quiet + 5], abs=0.01)
    assert bells[0]["time_s"] == pytest.approx(track_module.EDGE_S)
    for number, bell in enumerate(bells):
        found, score = bell_onset(audio, load_asset(bell["name"], RATE), bell["time_s"])
        assert abs(found - bell["time_s"]) < 0.005, bell
        soft = number in (0, len(bells) - 1)  # the edge bells sit softly under the rain
        assert score > (0.55 if soft else 0.8), bell
    # ...and not where no bell rings (the rating question).
    rating_at = sheet["steps"][1]["start_s"]
    assert bell_onset(audio, load_asset("bell", RATE), rating_at + 1.0)[1] < 0.5

    # The bed sits well under the voice: the quiet timed step (bed and chimes only, the
    # chimes' first half second left out) is far below each prompt.
    def stretch(track: np.ndarray, step_id: str, seconds: float | None = None,
                skip_s: float = 0.0, cues: dict = sheet) -> float:
        step = next(s for s in cues["steps"] if s["id"] == step_id)
        seconds = tts_seconds(step["text"]) if seconds is None else seconds
        a = int((step["start_s"] + skip_s) * rate)
        return loudness_dbfs(track[a:a + int(seconds * rate)], rate)

    spoken = ("rating", "settled", "grounding_return", "end")
    bed_only = stretch(audio, "quiet", seconds=4.0, skip_s=0.5)
    assert all(stretch(audio, i) > bed_only + 6 for i in spoken)

    # Even loudness: each prompt measures the same level. Measured on the same track
    # without the bed: with it, each stretch would also measure a share of rain that
    # depends on how much of it is pause (0.35 dB apart without, 1.46 with).
    dry = folder / "dry.wav"
    assert render([str(script), "--out", str(dry), "--tts", "espeak"]) == 0
    dry_audio, _ = read_wav(dry)
    dry_cues = json.loads((folder / "dry.cues.json").read_text())
    levels = [stretch(dry_audio, i, cues=dry_cues) for i in spoken]
    assert max(levels) - min(levels) < 1.0, levels


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_mp3_and_ogg_export_with_chapters(env, fmt):
    folder, script = env
    out = folder / f"track.{fmt}"
    assert render([str(script), "--out", str(out)]) == 0
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_chapters",
                            "-show_streams", "-of", "json", str(out)],
                           capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(probe.stdout)
    sheet = json.loads((folder / "track.cues.json").read_text())
    assert info["streams"][0]["codec_name"] == ("mp3" if fmt == "mp3" else "vorbis")
    assert float(info["format"]["duration"]) == pytest.approx(sheet["duration_s"], abs=0.15)
    chapters = info["chapters"]
    assert len(chapters) == len(sheet["steps"])
    assert [float(c["start_time"]) for c in chapters] == pytest.approx(
        [s["start_s"] for s in sheet["steps"]], abs=0.002)
    assert chapters[0]["tags"]["title"].startswith("intro")
    # The title: a format tag in MP3, a Vorbis comment on the stream in OGG.
    tags = {**info["format"].get("tags", {}), **info["streams"][0].get("tags", {})}
    assert {k.lower(): v for k, v in tags.items()}["title"] == "Render test"


def test_missing_ffmpeg_is_one_clear_sentence_and_wav_still_works(env, tmp_path):
    folder, script = env
    bare = {**os.environ, "PATH": str(tmp_path / "no-programs-here"),
            "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "render", str(script),
                           "--out", str(folder / "t.mp3")],
                          capture_output=True, text=True, timeout=120, env=bare)
    assert done.returncode == 4
    assert "ffmpeg" in done.stderr and "apt-get install ffmpeg" in done.stderr
    assert "brew install ffmpeg" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "render", str(script),
                           "--out", str(folder / "t.wav")],
                          capture_output=True, text=True, timeout=120, env=bare)
    assert done.returncode == 0, done.stderr
    assert read_wav(folder / "t.wav")[1] == RATE


def test_bad_choices_are_clear(env, capsys):
    folder, script = env
    assert render([str(script), "--out", str(folder / "t.flac")]) == 2
    assert "Unknown output format 'flac'" in capsys.readouterr().err
    assert render([str(script), "--out", str(folder / "t.wav"), "--background", "ocean"]) == 2
    assert "rain" in capsys.readouterr().err
    assert render([str(script), "--out", str(folder / "t.wav"), "--voice-name", "nobody",
                   "--voices-dir", str(folder / "voices")]) == 2
    assert "nobody" in capsys.readouterr().err


# ---------------------------------------------------------------- a recorded voice


def test_recorded_take_replaces_tts_and_an_edited_prompt_falls_back(env):
    folder, script = env
    voices = folder / "voices"
    clip = read_wav_at(SPEECH / "dev" / "arctic_aew_a0001.wav", 16000)
    quiet_take = (clip.astype(np.float32) * 0.1).astype(np.int16)  # recorded far too softly
    rating_text = "From zero to ten, how distressed do you feel right now?"
    TakeLibrary("therapist", voices).store("rating", rating_text, quiet_take, 16000)

    out = folder / "voiced.wav"
    assert render([str(script), "--out", str(out), "--voice-name", "therapist",
                   "--voices-dir", str(voices)]) == 0
    sheet = json.loads((folder / "voiced.cues.json").read_text())
    voices_used = {s["id"]: s.get("voice") for s in sheet["steps"]}
    assert voices_used["rating"] == "recorded:therapist"
    assert voices_used["intro"] == "synthetic"
    audio, rate = read_wav(out)
    start = int(next(s for s in sheet["steps"] if s["id"] == "rating")["start_s"] * rate)
    expected = read_wav_at(SPEECH / "dev" / "arctic_aew_a0001.wav", rate).astype(np.float64)

    def correlation(offset: int) -> float:
        heard = audio[start + offset:start + offset + len(expected)].astype(np.float64)
        return float(np.dot(heard, expected) / (np.linalg.norm(heard) * np.linalg.norm(expected)))

    # The cue sheet's times are rounded to 1 ms (22 samples): look that far either side.
    best = max(range(-25, 26), key=correlation)
    assert correlation(best) > 0.99  # the take itself, not the synthetic voice
    heard = audio[start + best:start + best + len(expected)]
    # Loudness made even: the soft take plays as loud as the synthetic prompts.
    settled = next(s for s in sheet["steps"] if s["id"] == "settled")["start_s"]
    synthetic = audio[int(settled * rate):int((settled + 1.0) * rate)]
    assert abs(loudness_dbfs(heard, rate) - loudness_dbfs(synthetic, rate)) < 2

    script.write_text(SCRIPT.replace("how distressed do you feel right now?",
                                     "how much distress do you notice now?"))
    assert render([str(script), "--out", str(out), "--voice-name", "therapist",
                   "--voices-dir", str(voices)]) == 0
    sheet = json.loads((folder / "voiced.cues.json").read_text())
    assert {s["id"]: s.get("voice") for s in sheet["steps"]}["rating"] == "synthetic"


def test_the_clients_message_plays_in_a_rendered_micro_imagery_track(env):
    from voice_imrs.render.takes import MESSAGE_STEP, MESSAGE_TEXT, client_message_library

    folder, _ = env
    clip = SPEECH / "dev" / "arctic_aew_a0001.wav"
    client_message_library().store(MESSAGE_STEP, MESSAGE_TEXT, read_wav_at(clip, 16000), 16000)

    def message_match(out) -> tuple[str | None, float]:
        sheet = json.loads(out.with_suffix(".cues.json").read_text())
        step = next(s for s in sheet["steps"] if s["id"] == "own_message")
        following = sheet["steps"][sheet["steps"].index(step) + 1]
        audio, rate = read_wav(out)
        span = audio[int(step["start_s"] * rate):int(following["start_s"] * rate)]
        return step.get("voice"), float(np.max(match_scores(span, read_wav_at(clip, rate))))

    out = folder / "micro.wav"
    assert render(["micro_imagery", "--out", str(out)]) == 0
    voice, match = message_match(out)
    assert voice == "own message" and match > 0.99  # the client's own recording

    assert render(["micro_imagery", "--out", str(out), "--no-message"]) == 0
    voice, match = message_match(out)
    assert voice == "synthetic" and match < 0.5


def test_ring_items_only_where_the_script_asks():
    items = calm_path(Script("s", "S", steps=(Say("a", "A.", bell="chime"),
                                              End("grounding_end", "B."))), {})
    rings = [i for i in items if isinstance(i, Ring)]
    assert [(r.name, r.lead_s) for r in rings] == [("chime", track_module.BELL_LEAD_S)]
