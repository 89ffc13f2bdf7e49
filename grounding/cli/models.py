"""`ground models`: what `--model` accepts."""

from __future__ import annotations

import argparse

HELP = "list the registered grounders"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace) -> int:
    import json

    import grounding

    entries = grounding.available()
    if args.json:
        print(json.dumps([
            {"name": e.name, "description": e.description, "default_zoom": e.default_zoom, "preset": dict(e.preset)}
            for e in entries
        ], indent=2))
        return 0
    width = max(len(e.name) for e in entries)
    for e in entries:
        zoom = " [zoom on by default]" if e.default_zoom else ""
        print(f"{e.name.ljust(width)}  {e.description}{zoom}")
    return 0
