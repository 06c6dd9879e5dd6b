"""Benchmarks: recognition on held-out real voices next to a peer, and resources per recognizer.

Each benchmark prints human-readable lines and, as its last line, a JSON summary; the
``voice-imrs bench`` commands (``voice_imrs.cli.bench``) are thin wrappers around them.
"""
