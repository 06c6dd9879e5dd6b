"""The ``voice-imrs`` command line: one module per group of commands."""
