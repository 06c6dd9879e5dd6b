"""voice_imrs: an offline, voice-guided session assistant for imagery rescripting.

The package root imports nothing heavy: sound, speech and model libraries are imported
only by the adapter that needs them, so the pure core works on any machine.
"""

__version__ = "0.1.0"
