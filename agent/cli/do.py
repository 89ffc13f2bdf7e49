"""`ground do "click Apply"`: one step on the live screen (look, ground, confirm, act)."""

from __future__ import annotations

import argparse

from grounding.cli.options import add_model_options

HELP = "ground one step (click X, type 'y' into X, press ctrl+s, scroll down in X, drag X to Y) and do it"


def add_desktop_options(parser: argparse.ArgumentParser) -> None:
    """Flags shared by `do` and `agent`."""
    group = parser.add_argument_group("desktop")
    group.add_argument("--yes", "-y", action="store_true", help="act without asking for confirmation")
    group.add_argument("--dry-run", action="store_true", help="ground and log, but move and press nothing")
    group.add_argument(
        "--monitor", type=int, default=0, metavar="N", help="monitor to look at (1, 2, ...; default 0: all)"
    )
    group.add_argument("--log", metavar="FILE.jsonl", help="action log (default: the user log dir's actions.jsonl)")
    group.add_argument(
        "--settle", type=float, default=0.3, metavar="S", help="pause between pointing and pressing (default 0.3 s)"
    )
    group.add_argument(
        "--no-a11y", dest="a11y", action="store_false",
        help="vision only: do not read the accessibility tree (by default its exact match wins, vision does the rest)",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instruction", help='the step, e.g. "click Apply" or "type \'hi\' into the search box"')
    parser.add_argument("--annotate", metavar="OUT.png", help="write the screenshot with the target marked")
    add_desktop_options(parser)
    add_model_options(parser)


def desktop_from_args(args: argparse.Namespace):
    from agent.desktop import Desktop

    from grounding.cli.options import grounder_from_args

    if args.settle < 0:
        from grounding.errors import OptionError

        raise OptionError(f"--settle must be >= 0, got {args.settle}")
    return Desktop(
        grounder_from_args(args),
        monitor=args.monitor,
        dry_run=args.dry_run,
        log_path=args.log,
        settle_s=args.settle,
        a11y=args.a11y,
    )


def confirm(question: str) -> str:
    """The user's answer, lower-cased; '' at end of input."""
    try:
        return input(question).strip().lower()
    except EOFError:
        return ""


def run(args: argparse.Namespace) -> int:
    import sys

    from agent.commands import parse
    from agent.desktop import TargetNotFound
    from grounding.errors import GroundingError

    command = parse(args.instruction)
    desktop = desktop_from_args(args)
    try:
        plan = desktop.plan(command)
    except TargetNotFound as exc:
        print(f"ground: not found: {exc}", file=sys.stderr)
        return 1
    for located in plan.targets:
        print(f"target {located.describe()}")
    if args.annotate and plan.screenshot is not None:
        plan.preview().save(args.annotate)
    if not (args.yes or args.dry_run):
        if not sys.stdin.isatty():
            raise GroundingError(f"not confirmed: {plan.describe()} (pass --yes to act without asking)")
        if confirm(f"{plan.describe()}? [y/N] ") not in ("y", "yes"):
            print("skipped")
            return 1
    print(desktop.execute(plan).describe())
    return 0
