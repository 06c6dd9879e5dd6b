"""Building a session's parts from the profile and the command line's choices.

One place turns a profile into the engine's safety policy and placeholder values, and
picks the synthesizer, recognizer and bell sounds, so ``run``, ``simulate`` and ``demo``
assemble sessions the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from voice_imrs.core.engine import Plan
from voice_imrs.core.profile import Profile
from voice_imrs.core.safety import SafetyPolicy
from voice_imrs.core.script import Script
from voice_imrs.ports import PCM, VoiceSettings
from voice_imrs.session.recorded_voice import PromptSource, RecordedVoice

if TYPE_CHECKING:
    from voice_imrs.asr.listener import IntentListener
    from voice_imrs.render.mixer import BackgroundBed


def policy_for(profile: Profile) -> SafetyPolicy:
    """The safety thresholds the profile asks for."""
    return SafetyPolicy(high=profile.high, medium=profile.medium, resume_at=profile.resume_at,
                        rise=profile.rise, silence_s=profile.silence_s,
                        barge_in=profile.barge_in, pace=profile.pace)


def variables_for(profile: Profile) -> dict[str, str]:
    """Placeholder values plus the perspective and eyes wording to start with."""
    return {**profile.variables(), "perspective": profile.perspective, "eyes": profile.eyes}


def voice_for(profile: Profile, voice: str | None = None, rate: int | None = None) -> VoiceSettings:
    return VoiceSettings(voice=voice if voice is not None else profile.voice,
                         rate_wpm=rate or profile.rate_wpm, volume=profile.volume)


def plan_for(script: Script, profile: Profile) -> Plan:
    return Plan.of(script, policy_for(profile))


@dataclass
class Speech:
    """The speaking side of a session: a prompt renderer at the synthesizer's rate."""

    renderer: PromptSource
    sample_rate: int

    def close(self) -> None:
        self.renderer.close()


def make_speech(tts: str = "auto") -> Speech:
    from voice_imrs.tts.cache import PromptCache
    from voice_imrs.tts.registry import make_synthesizer

    synth = make_synthesizer(tts)
    return Speech(PromptCache(synth), synth.sample_rate)


def make_listener(recognizer: str, model: str | None, profile: Profile) -> IntentListener:
    from voice_imrs.asr.listener import IntentListener
    from voice_imrs.asr.registry import make_recognizer

    return IntentListener(make_recognizer(recognizer, model=model,
                                          stop_words=tuple(profile.stop_words)),
                          stop_words=tuple(profile.stop_words))


def bell_sounds(rate: int) -> Callable[[str], PCM]:
    """Name -> bell audio at ``rate`` (the shipped, generated assets)."""
    from voice_imrs.render.assets import load_asset

    @lru_cache(maxsize=8)
    def sound(name: str) -> PCM:
        return load_asset(name, rate)

    return sound


def prompt_voice(speech: Speech, script: Script, profile: Profile,
                 recorded_voice: str | None = None) -> RecordedVoice:
    """The prompt renderer for ``script``: recorded takes (the therapist's, the client's
    message) in front of the synthesizer, or the synthesizer alone when there are none.

    ``recorded_voice`` overrides the profile's ("" turns it off).
    """
    from voice_imrs.render.takes import OWN_MESSAGE_STEP, load_client_message

    name = profile.recorded_voice if recorded_voice is None else recorded_voice
    wants_message = any(step.id == OWN_MESSAGE_STEP for step in script.steps)
    message = load_client_message(speech.sample_rate) if wants_message else None
    if not name and message is None:
        return RecordedVoice.plain(speech.renderer)
    return RecordedVoice.for_script(speech.renderer, speech.sample_rate, script, name, message)


def background_bed(profile: Profile, rate: int,
                   background: str | None = None) -> BackgroundBed | None:
    """The background texture to play under the voice, or None.

    ``background`` overrides the profile's ("" or "none" turns it off); an unknown name is
    a clear error listing the textures.
    """
    from voice_imrs.render.mixer import BackgroundBed

    name = profile.background if background is None else background
    if not name or name.strip().lower() == "none":
        return None
    return BackgroundBed(name, rate)
