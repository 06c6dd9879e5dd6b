"""Audio adapters: WAV files, sound devices, and PCM helpers."""
