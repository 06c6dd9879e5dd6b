"""Drive the pure engine without audio: the walker lives in ``voice_imrs.core.walker``."""

from voice_imrs.core.walker import Answer, Run, calm_answer, drive

__all__ = ["Answer", "Run", "calm_answer", "drive"]
