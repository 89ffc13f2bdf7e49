"""`ground agent`: the interactive loop (`ground agent --screenshot shot.png` to practise without a live desktop)."""

from __future__ import annotations

import argparse

from grounding.cli.options import add_model_options

from .do import add_desktop_options

HELP = "interactive agent: type steps, see where they land, confirm each (y/n/e), `quit` to leave"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--screenshot", metavar="FILE", help="practise on a saved screenshot; nothing is acted on")
    parser.add_argument("--preview-dir", metavar="DIR", help="where annotated previews go (default: a new temp dir)")
    add_desktop_options(parser)
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    from agent.capture import load_screenshot, monitors
    from agent.repl import Repl, enable_history

    from .do import desktop_from_args

    practice = load_screenshot(args.screenshot) if args.screenshot else None
    if practice is None:
        monitors()  # no display: say so now, not after the first step is typed
    else:
        args.dry_run = True
    desktop = desktop_from_args(args)
    enable_history()
    return Repl(desktop, practice=practice, confirm=not args.yes, preview_dir=args.preview_dir).run()
