"""The therapist's console: a local web page that shows and steers a running session.

``server`` serves it (aiohttp, on the session's own event loop, 127.0.0.1 only),
``auth`` decides which requests may pass, ``state`` keeps the live view and pushes it,
``phases`` names the part of the session a step belongs to, ``session`` ties them to a
``SessionRunner``; the page itself is ``assets/``. Beside it: ``cues`` (the therapist's
private cue tones), ``device_test`` (``voice-imrs devices --test``) and ``phase_report``
(the report part by part). The controls themselves are engine events, in
``voice_imrs.core.controls``. Nothing here is imported by the rest of the package unless
a console is asked for: aiohttp loads only then.
"""
