"""Homework audio: sound assets, the background bed and mixing, rendered tracks, and a
therapist's recorded takes.

Nothing heavy is imported here (pydub and sounddevice load inside the functions that need
them).
"""
