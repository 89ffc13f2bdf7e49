"""The `ground` console script: one dispatcher over subcommands that live beside the rooms they drive.

`locate`, `eval`, `models` and `serve` are in `grounding.cli`; `do` and `agent` are in this package. Each subcommand
module has `HELP`, `configure(parser)` and `run(args) -> int` and imports only argparse-level things at the top, so
`ground --help` starts fast and works without a display.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

# Subcommand name -> the module that implements it.
SUBCOMMANDS = {
    "eval": "grounding.cli.eval",
    "do": "agent.cli.do",
    "agent": "agent.cli.agent",
    "locate": "grounding.cli.locate",
    "models": "grounding.cli.models",
    "serve": "grounding.cli.serve",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ground",
        description="Find the pixel to act on for an instruction on a screenshot, score grounders, act on a desktop.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from grounding.errors import GroundingError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
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


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"ground: warning: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
