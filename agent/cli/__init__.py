"""The `ground` console script: thin subcommands over the grounding and agent modules.

Each subcommand is a module in this package with `HELP`, `configure(parser)` and `run(args) -> int`; modules import
only argparse-level things at the top, so `ground --help` starts fast and works without a display.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

# Subcommand name -> module in this package.
SUBCOMMANDS = {
    "eval": "eval",
    "do": "do",
    "agent": "repl_cmd",
    "locate": "locate",
    "models": "models",
    "serve": "serve",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ground",
        description="Find the pixel to act on for an instruction on a screenshot, score grounders, act on a desktop.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from grounding.errors import GroundingError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except GroundingError as exc:
        print(f"ground: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ground: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug of ours: still one line, with a way to see the traceback
        if os.environ.get("SCREENGROUND_DEBUG"):
            raise
        print(
            f"ground: internal error: {type(exc).__name__}: {exc} (set SCREENGROUND_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
