"""The private session record: storing events (store), history, report, summary, export.

Only the standard library is imported here; matplotlib is imported by the report when a chart
is drawn.
"""

from voice_imrs.records.store import (
    RecordStore,
    SessionRecorder,
    SessionSummary,
    data_dir,
)

__all__ = ["RecordStore", "SessionRecorder", "SessionSummary", "data_dir"]
