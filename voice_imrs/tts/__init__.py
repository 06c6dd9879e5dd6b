"""Speech synthesis: synthesizers (espeak-ng direct, pyttsx3), their registry, the prompt
cache, and ``speak`` which plays one prompt and can be stopped at once.

Nothing heavy is imported here; each adapter loads its library when first used.
"""

from voice_imrs.tts.speak import speak

__all__ = ["speak"]
