"""The echo gate, offline: real synthesized prompts, real recordings, the real recognizer.

The cases are those of ``voice-imrs bench echo-gate`` (``voice_imrs.bench.echo_gate``) on
fewer clips. The live loopback tests (``test_speech_barge_in.py``) run the same gate on
real sound-device streams.
"""

from __future__ import annotations

import pytest

from voice_imrs.bench import echo_gate as cases


def test_words_said_over_a_prompt_pass_the_gate() -> None:
    # Headphones: the microphone never hears the prompt, so nothing it hears is echo.
    # (Comparing loudness envelopes only, the gate muted 7 % of these words' blocks.)
    clips = cases.word_clips(stop=False, held_out_only=False)[::4]
    figures = cases.word_figures(clips)
    assert figures["words"] >= 100
    assert figures["word_blocks_gated"] < 0.04, figures


def test_a_stop_over_the_prompt_is_heard_as_if_there_were_no_gate() -> None:
    stops = cases.word_clips(stop=True, held_out_only=True)
    assert len(stops) >= 40
    figures = cases.stop_figures(stops, room_echo=False)
    assert figures["heard_gate"] == figures["heard_no_gate"], figures
    # The median, not the tail: espeak-ng's output differs by a few samples from run to
    # run, and that alone moves the 95th percentile of 46 stops by up to 100 ms.
    assert figures["p50_ms_gate"] <= figures["p50_ms_no_gate"] + 10, figures


@pytest.mark.parametrize("room", [False, True], ids=["line", "room"])
def test_the_prompts_own_stop_heard_back_does_not_stop_it(room: bool) -> None:
    # Loudspeakers: the prompt says "stop" three times and the microphone hears it back.
    figures = cases.echo_figures(room, cases=16)
    assert figures["stopped_itself_without_gate"] >= 2, figures  # the echo alone would
    assert figures["stopped_itself"] == 0, figures
    assert figures["echo_blocks_gated"] > 0.75, figures
