"""One session's record: begun before the session, ended after it, whatever happens.

``run``, ``console`` and ``simulate --record`` record through ``recorded``, so they agree
on the rules: a record never stops a session (it is said once that it is not recorded);
a session that fails before its first event leaves no record (the client would see a
session they never did); and one that ends without its end being logged (Ctrl-C before
the runner could say so) is ended as ``signal``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from voice_imrs.core.events import LogEvent
from voice_imrs.errors import RecordError
from voice_imrs.records.store import SessionRecorder


def not_recorded(error: Exception) -> None:
    """Said once: records never block a session (grounding least of all)."""
    print(f"voice-imrs: this session is not recorded: {error} The exercise runs as usual.",
          file=sys.stderr)


def open_recorder(store_transcripts: bool, client: str | None = None
                  ) -> SessionRecorder | None:
    """The record store, or None (told once) when it cannot be opened."""
    try:
        return SessionRecorder.open(client=client, store_transcripts=store_transcripts)
    except RecordError as error:
        not_recorded(error)
        return None


@dataclass
class Recording:
    """The session being recorded: pass ``observe`` to the runner as an observer.

    end_reason: what the session is ended with if its own end never reaches the record.
    """

    recorder: SessionRecorder
    session_id: int
    began: bool = False
    end_reason: str = "signal"

    def observe(self, event: LogEvent) -> None:
        self.began = True
        self.recorder.add(event)  # the session_end event ends the record with its reason


@contextlib.contextmanager
def recorded(recorder: SessionRecorder | None, script: str, mode: str,
             client: str | None = None) -> Iterator[Recording | None]:
    """Record one session of ``script`` (None: not recorded, and said so if it failed)."""
    if recorder is None:
        yield None
        return
    try:
        session_id = recorder.begin(script, mode, client)
    except RecordError as error:
        not_recorded(error)
        yield None
        return
    recording = Recording(recorder, session_id)
    try:
        yield recording
    except BaseException:
        if not recording.began:
            # It never started (no sound device, a missing model...): a record of it would
            # show the client a session they never did, ended "interrupted".
            recorder.end("fault")
            recorder.delete_session(session_id)
        raise
    finally:
        recorder.end(recording.end_reason)  # nothing to do when the session_end was logged
