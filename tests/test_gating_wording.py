"""Therapist-only stays therapist-only, tracks never promise to listen, and the wording
states only what the client says or can check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from voice_imrs.core import engine
from voice_imrs.core.profile import Profile
from voice_imrs.core.safety import SafetyPolicy, safety_steps
from voice_imrs.render.track import Speech, calm_path
from voice_imrs.script_files import builtin_scripts
from voice_imrs.session.parts import variables_for

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = builtin_scripts()
#: Things software cannot know about the client, or the listening a track cannot do.
UNCHECKABLE = re.compile(r"\byou are safe\b|\byou're safe\b|\byou were a child\b|"
                         r"\bi am safe now\b|cannot harm you", re.IGNORECASE)
LISTENING = re.compile(r"\bsay (stop|yes|no|ready|\w+ or)\b|\bmy voice stops\b|"
                       r"\bpress the space\b|\bsay it aloud to me\b", re.IGNORECASE)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile.toml"
    profile.write_text('mode = "homework"\nscreen_done = true\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOICE_IMRS_DATA_DIR": str(tmp_path / "d"),
           "VOICE_IMRS_CONFIG_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "voice_imrs", *args, "--profile", str(profile)],
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("command", [["render", "imrs_session", "--out", "x.wav"],
                                     ["run", "imrs_session"]])
def test_therapist_only_scripts_are_refused_without_teaching_the_bypass(tmp_path, command):
    if command[0] == "render":
        command = [*command[:-1], str(tmp_path / "x.wav")]
    result = _cli(tmp_path, *command)
    assert result.returncode == 9, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.lower()
    assert "therapist" in message
    for bypass in ("profile set", "mode therapist", "setup"):
        assert bypass not in message, message
    assert not (tmp_path / "x.wav").exists()


def test_the_readme_documents_the_setting_for_therapists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "For therapists" in readme and "profile set mode therapist" in readme


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_a_rendered_track_never_promises_that_it_listens(name: str) -> None:
    script = LIBRARY[name]
    variables = {**variables_for(Profile(mode="therapist")), "delivery": "track"}
    texts = [item.text for item in calm_path(script, variables) if isinstance(item, Speech)]
    heard = [t for t in texts if LISTENING.search(t)]
    assert not heard, heard


def _every_text(script) -> list[str]:
    plan = engine.Plan.of(script)
    return [str(getattr(step, "text", "")) for step in plan.steps.values()]


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_no_prompt_asserts_what_software_cannot_know(name: str) -> None:
    bad = [t for t in _every_text(LIBRARY[name]) if UNCHECKABLE.search(t)]
    assert not bad, bad


def test_the_safety_steps_and_defaults_state_only_what_can_be_checked() -> None:
    texts = [str(getattr(s, "text", "")) for s in safety_steps(SafetyPolicy())]
    assert not [t for t in texts if UNCHECKABLE.search(t)]
    assert not UNCHECKABLE.search(Profile().anchor_phrase)


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_no_caption_shows_a_doubled_full_stop(name: str) -> None:
    """A profile phrase ending in a full stop, placed before the text's own full stop."""
    script = LIBRARY[name]
    variables = {**variables_for(Profile(mode="therapist")), "delivery": "live"}
    texts = [item.text for item in calm_path(script, variables) if isinstance(item, Speech)]
    assert not [t for t in texts if re.search(r"(?<!\.)\.\.(?!\.)", t)]
