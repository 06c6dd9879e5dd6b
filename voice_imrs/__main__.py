"""Allow ``python -m voice_imrs``."""

from voice_imrs.cli.main import entry

entry()
