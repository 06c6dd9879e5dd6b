"""Speech synthesis by driving the espeak-ng C library in-process (ctypes).

Why not a subprocess or pyttsx3's ``say``: in-process synthesis hands us PCM in small
chunks within milliseconds, and returning 1 from the synth callback abandons the rest at
once, so a prompt can start playing before it is fully rendered and can be dropped early.

espeak-ng keeps one global state per process and is not thread-safe, so every call into it
holds ``ESPEAK_LOCK``. It is started in synchronous mode: each call runs on the caller's
thread and the callback runs inside ``espeak_Synth``. Its asynchronous modes queue every
setting on a thread of their own, and that queue can drop a setting made just before a
synthesis (measured with pyttsx3's driver: 9 of 60 renders at the wrong rate), which is
also why pyttsx3 does not drive this library in our process (see pyttsx3_render.py).

A synthesis runs on a short-lived worker thread that fills an unbounded queue: the library
call never waits for the consumer, so the lock is held only for the few milliseconds
synthesis takes, and an abandoned generator cannot wedge it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import queue
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voice_imrs.errors import UnknownChoiceError, VoiceError
from voice_imrs.ports import PCM, VoiceInfo, VoiceSettings

#: Every call into libespeak-ng holds this (the library is a process-wide singleton).
ESPEAK_LOCK = threading.RLock()

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH = 1, 2, 3
_EE_OK = 0
#: Milliseconds of audio per synth callback: small chunks let playback start early.
_CHUNK_MS = 100
_MIN_RATE, _MAX_RATE = 80, 450


class _EspeakVoice(ctypes.Structure):
    # ``languages`` is a packed list (priority byte, NUL-terminated name)..., 0: read by hand.
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p),
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.c_void_p)


@dataclass
class _Job:
    """The synthesis in progress: where chunks go and whether to abandon it."""

    chunks: queue.SimpleQueue[PCM | BaseException | None]
    cancelled: threading.Event


class _Library:
    """The loaded libespeak-ng with its prototypes; one per process."""

    def __init__(self) -> None:
        self.dll = _load_dll()
        dll = self.dll
        dll.espeak_Initialize.restype = ctypes.c_int
        dll.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        dll.espeak_SetSynthCallback.restype = None
        dll.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        dll.espeak_Synth.restype = ctypes.c_int
        dll.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                     ctypes.c_void_p, ctypes.c_void_p]
        dll.espeak_SetParameter.restype = ctypes.c_int
        dll.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        dll.espeak_SetVoiceByName.restype = ctypes.c_int
        dll.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        dll.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoice))
        dll.espeak_ListVoices.argtypes = [ctypes.POINTER(_EspeakVoice)]
        rate = dll.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _CHUNK_MS, None,
                                     _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise VoiceError("espeak-ng could not start (its voice data may be missing).",
                             hint="Reinstall it: sudo apt install --reinstall espeak-ng-data.")
        self.sample_rate = int(rate)
        self.job: _Job | None = None
        # Kept referenced for the life of the process: the library calls it.
        self.callback = _SynthCallback(self._on_synth)

    def _on_synth(self, wav: ctypes._Pointer[ctypes.c_short], count: int,
                  _events: int) -> int:
        job = self.job
        if job is None or job.cancelled.is_set():
            return 1  # abandon the rest of this synthesis
        if count > 0 and wav:
            job.chunks.put(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.int16))
        return 0

    def list_voices(self, variants: bool = False) -> list[tuple[str, str, list[str]]]:
        """(name, identifier, languages) of each voice, or of each variant."""
        spec = None
        if variants:
            buffer = ctypes.create_string_buffer(b"variant")
            spec = _EspeakVoice(languages=ctypes.cast(buffer, ctypes.c_void_p))
        with ESPEAK_LOCK:
            array = self.dll.espeak_ListVoices(ctypes.byref(spec) if spec else None)
            found = []
            index = 0
            while array[index]:
                voice = array[index].contents
                found.append((voice.name.decode("utf-8", "replace"),
                              voice.identifier.decode("utf-8", "replace"),
                              _languages(voice.languages)))
                index += 1
        return found


def _languages(address: int | None) -> list[str]:
    if not address:
        return []
    raw = ctypes.cast(address, ctypes.POINTER(ctypes.c_ubyte))
    names, index = [], 0
    while raw[index] != 0:  # a priority byte; 0 ends the list
        index += 1
        start = index
        while raw[index] != 0:
            index += 1
        names.append(bytes(raw[start:index]).decode("utf-8", "replace"))
        index += 1
    return names


def _load_dll() -> ctypes.CDLL:
    candidates = [ctypes.util.find_library("espeak-ng"), "libespeak-ng.so.1",
                  "libespeak-ng.dylib", "libespeak-ng.dll"]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return ctypes.CDLL(candidate)
        except OSError:
            continue
    raise VoiceError(
        "The espeak-ng speech library (libespeak-ng) is not installed.",
        hint=("Install it (Debian/Ubuntu: sudo apt install espeak-ng libespeak-ng1)."
              if sys.platform.startswith("linux")
              else "Install espeak-ng, or choose --tts pyttsx3."),
    )


_library: _Library | None = None


def _get_library() -> _Library:
    global _library
    with ESPEAK_LOCK:
        if _library is None:
            _library = _Library()
        return _library


def espeak_available() -> bool:
    """Whether libespeak-ng loads and starts here."""
    try:
        _get_library()
    except VoiceError:
        return False
    return True


class EspeakSynthesizer:
    """ports.Synthesizer over libespeak-ng: int16 PCM (22050 Hz) streamed in ~100 ms chunks.

    Voices are named by language code ("en-us", "en-gb"), espeak identifier ("gmw/en-US")
    or name ("English (America)"), optionally with a variant: "en-gb+f3".
    """

    name = "espeak"

    def __init__(self) -> None:
        self._library = _get_library()
        self._voice_index: dict[str, str] | None = None
        self._variant_index: dict[str, str] | None = None

    @property
    def sample_rate(self) -> int:
        return self._library.sample_rate

    def voices(self) -> list[VoiceInfo]:
        return [info for info, _ in self._catalogue()]

    def _catalogue(self) -> list[tuple[VoiceInfo, str]]:
        """Each usable voice with the espeak identifier that selects it."""
        found: list[tuple[VoiceInfo, str]] = []
        seen: set[str] = set()
        for name, identifier, languages in self._library.list_voices():
            if identifier.startswith("mb/"):
                continue  # MBROLA voices need the separate mbrola program and data
            voice_id = languages[0] if languages else identifier
            if voice_id.lower() in seen:
                voice_id = identifier
            seen.add(voice_id.lower())
            found.append((VoiceInfo(id=voice_id, name=name, languages=tuple(languages)),
                          identifier))
        return found

    def variants(self) -> list[str]:
        """Variant names that can follow a voice after "+" ("f3", "m3", "klatt", ...)."""
        return [identifier.split("/")[-1]
                for _, identifier, _ in self._library.list_voices(variants=True)]

    def espeak_voice_name(self, voice: str) -> str:
        """What espeak_SetVoiceByName takes for a user's voice choice; raises if unknown."""
        base, _, variant = voice.strip().partition("+")
        if self._voice_index is None or self._variant_index is None:
            index: dict[str, str] = {}
            for info, espeak_id in self._catalogue():
                for key in (info.id, info.name, espeak_id):
                    index.setdefault(key.lower(), espeak_id)
            self._voice_index = index
            self._variant_index = {v.lower(): v for v in self.variants()}
        identifier = self._voice_index.get(base.lower()) if base else None
        if identifier is None:
            raise UnknownChoiceError("voice", voice, [v.id for v in self.voices()])
        if variant:
            real_variant = self._variant_index.get(variant.lower())
            if real_variant is None:
                raise UnknownChoiceError("voice variant", variant, self._variant_index.values())
            return f"{identifier}+{real_variant}"
        return identifier

    def synthesize(self, text: str, settings: VoiceSettings) -> Iterator[PCM]:
        """Yield chunks as espeak-ng produces them; closing the generator abandons the rest."""
        voice = self.espeak_voice_name(settings.voice or "en-us")  # raises before any thread
        job = _Job(queue.SimpleQueue(), threading.Event())
        worker = threading.Thread(target=self._run, args=(job, text, voice, settings),
                                  name="espeak-synth", daemon=True)
        worker.start()
        try:
            while True:
                chunk = job.chunks.get()
                if chunk is None:
                    break
                if isinstance(chunk, BaseException):
                    raise chunk
                yield chunk
        finally:
            job.cancelled.set()
            worker.join()

    def _run(self, job: _Job, text: str, voice: str, settings: VoiceSettings) -> None:
        library = self._library
        dll = library.dll
        try:
            with ESPEAK_LOCK:
                dll.espeak_SetSynthCallback(library.callback)
                if dll.espeak_SetVoiceByName(voice.encode("utf-8")) != _EE_OK:
                    raise VoiceError(f"espeak-ng could not load voice {voice!r}.",
                                     hint="Choose another with --voice (see voice-imrs voices).")
                rate = min(max(int(settings.rate_wpm), _MIN_RATE), _MAX_RATE)
                dll.espeak_SetParameter(_PARAM_RATE, rate, 0)
                dll.espeak_SetParameter(_PARAM_PITCH, min(max(int(settings.pitch), 0), 100), 0)
                # Volume is applied at the output so that "louder" acts at once.
                dll.espeak_SetParameter(_PARAM_VOLUME, 100, 0)
                data = text.encode("utf-8") + b"\0"
                library.job = job
                try:
                    # Synchronous mode: returns when the text is done or abandoned.
                    dll.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0,
                                     _CHARS_UTF8 | _ENDPAUSE, None, None)
                finally:
                    library.job = None
        except BaseException as error:  # handed to the consumer, raised there
            job.chunks.put(error)
        finally:
            job.chunks.put(None)
