"""``voice-imrs models list|download``: the Vosk models we know, and fetching one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voice_imrs.cli.plain import plain_output


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``models list`` and ``models download``."""
    models = subparsers.add_parser("models", help="list or download speech recognition models")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION")
    listing = actions.add_parser("list", help="known and installed models")
    listing.set_defaults(handler=list_command)
    download = actions.add_parser("download", help="fetch, verify and unpack a model")
    download.add_argument("name", help="model name, e.g. vosk-model-small-en-us-0.15")
    download.add_argument("--url", help="archive URL (for a model not in the list)")
    download.add_argument("--sha256", help="expected SHA-256 of the archive")
    download.add_argument("--dest", help="folder to unpack into (default: models/)")
    download.set_defaults(handler=download_command)
    models.set_defaults(handler=lambda args: (models.print_help(), 2)[1])


def list_command(args: argparse.Namespace) -> int:
    from voice_imrs.asr.model_download import KNOWN_MODELS
    from voice_imrs.asr.registry import installed_vosk_models, model_search_dirs

    print("Known models (voice-imrs models download NAME):")
    for model in KNOWN_MODELS.values():
        print(f"  {model.name}  {model.language}  {model.size / 1e6:.1f} MB\n"
              f"    {model.url}\n    sha256 {model.sha256}")
    installed = installed_vosk_models()
    print("Installed:" if installed else
          "Installed: none (looked in " + ", ".join(map(str, model_search_dirs())) + ")")
    for path in installed:
        print(f"  {path}")
    return 0


def check_download(name: str, url: str | None, sha256: str | None) -> None:
    """The name becomes a folder, the URL is fetched: both checked before anything is."""
    import re
    import sys
    from urllib.parse import urlsplit

    from voice_imrs.errors import ValueRangeError
    from voice_imrs.session.preflight import check_safe_name

    check_safe_name("model name", name)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueRangeError(f"The model URL {url!r} is not an http or https address.",
                                  hint="Give the https:// address of the model's .zip file.")
        if sha256 is None:
            print(f"voice-imrs: no --sha256 given: the download of {name} cannot be "
                  "verified. Give the archive's SHA-256 when you know it.", file=sys.stderr)
    if sha256 is not None and not re.fullmatch(r"[0-9A-Fa-f]{64}", sha256):
        raise ValueRangeError(f"--sha256 {sha256!r} is not a SHA-256 (64 hex digits).",
                              hint="Copy it from the model's download page.")


def download_command(args: argparse.Namespace) -> int:
    from voice_imrs.asr.model_download import download_model
    from voice_imrs.asr.registry import default_models_dir

    check_download(args.name, args.url, args.sha256)
    dest = Path(args.dest) if args.dest else default_models_dir()
    target = download_model(args.name, dest, url=args.url, sha256=args.sha256,
                            plain=plain_output(sys.stderr))
    print(f"Installed {args.name} in {target}")
    return 0
