"""`ground eval DATASET`: score a grounder on a ScreenSpot-Pro / ScreenSpot v1 / v2 style dataset."""

from __future__ import annotations

import argparse

from .options import add_model_options

HELP = "score a grounder on a ScreenSpot-style dataset (resumable, with a report)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dataset", help="dataset folder (annotations/ + images/, or screenspot_*.json) or one annotation file"
    )
    parser.add_argument("--out", metavar="RESULTS.json", help="write {details, metrics, summary} (official structure)")
    parser.add_argument("--report", metavar="REPORT.md|.html", help="write a page with tables, a chart and failures")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object instead of tables")
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="parallel workers (default: the model's own hint, else one per two CPU cores)",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N samples (after --filter)")
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keep samples whose KEY (ui_type, group, application, platform, split, data_source, id) "
        "is VALUE; commas list alternatives; repeat to require several keys",
    )
    parser.add_argument(
        "--language",
        choices=("en", "cn"),
        default="en",
        help="instruction language: cn reads each record's instruction_cn, as ScreenSpot-Pro's "
        "official harness does (default en)",
    )
    parser.add_argument("--resume", action="store_true", help="reuse the journal's predictions for this configuration")
    parser.add_argument(
        "--journal",
        metavar="FILE.jsonl",
        help="journal file (default: RESULTS.json.journal.jsonl, or a per-configuration file in the user cache)",
    )
    parser.add_argument("--gallery", type=int, default=24, metavar="N", help="failures shown in --report (default 24)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from grounding.errors import OptionError
    from grounding.eval import evaluate, fingerprint, load_dataset, parse_filters
    from grounding.eval.journal import default_journal
    from grounding.eval.report import print_summary, report_kind, write_report
    from grounding.types import revision_of

    from .options import backend_options, grounder_from_args, zoom_setting

    for flag in ("workers", "limit"):
        value = getattr(args, flag)
        if value is not None and value < (1 if flag == "workers" else 0):
            raise OptionError(f"--{flag} must be {'at least 1' if flag == 'workers' else 'zero or more'}, got {value}")
    if args.report:
        report_kind(args.report)
    dataset = load_dataset(args.dataset, parse_filters(args.filter), language=args.language)
    print(dataset.describe(), file=sys.stderr)
    _report_problems(dataset.problems)
    if not dataset.samples:
        raise OptionError("no samples to run (check --filter)")
    grounder = grounder_from_args(args)
    zoom = zoom_setting(args)
    if zoom is None:  # "the model's default" is fingerprinted as what that default is now
        from grounding.registry import get

        zoom = get(args.model).default_zoom
    options = backend_options(args)
    if args.language != "en":  # English runs keep the fingerprints (and journals) they had before the flag existed
        options = {**options, "language": args.language}
    fp = fingerprint(args.model, options, zoom, args.dataset, revision_of(grounder))
    journal = args.journal or default_journal(fp, args.out)
    results = evaluate(
        grounder,
        dataset,
        workers=args.workers,
        journal_path=journal,
        resume=args.resume,
        limit=args.limit,
        progress=not (args.no_progress or args.json) and sys.stderr.isatty(),
        fingerprint=fp,
    )
    if results.resumed:
        print(f"resumed: {results.resumed} predictions taken from {journal}", file=sys.stderr)
    summary = results.summary()
    if args.out:
        results.write(args.out)
    if args.report:
        write_report(results, args.report, gallery=args.gallery)
    if args.json:
        print(json.dumps(summary))
    else:
        print_summary(summary)
    if results.interrupted:
        written = ", ".join(p for p in (args.out, args.report) if p) or "nothing else (no --out)"
        print(
            f"ground: interrupted after {summary['total']} of {summary['planned']} samples; partial results in "
            f"{written}; journal {journal} (rerun with --resume to continue)",
            file=sys.stderr,
        )
        return 130
    return 0


def _report_problems(problems) -> None:
    import sys

    if not problems:
        return
    skipped = [p for p in problems if p.skipped]
    failing = [p for p in problems if not p.skipped]
    print(
        f"dataset problems: {len(skipped)} rows skipped, {len(failing)} samples will count as failures:",
        file=sys.stderr,
    )
    for problem in problems[:10]:
        print(f"  {problem}", file=sys.stderr)
    if len(problems) > 10:
        print(f"  ... and {len(problems) - 10} more: " + ", ".join(str(p.id) for p in problems[10:60]), file=sys.stderr)
