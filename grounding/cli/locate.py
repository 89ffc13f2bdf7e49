"""`ground locate IMAGE INSTRUCTION`: the pixel to act on."""

from __future__ import annotations

import argparse

from .options import add_model_options

HELP = "find the target of an instruction on a screenshot"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="screenshot file (PNG, JPEG, ...)")
    parser.add_argument("instruction", help='what to find, e.g. "open the File menu"')
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--annotate", metavar="OUT.png", help="write the screenshot with the point and box drawn")
    parser.add_argument("--trace-dir", metavar="DIR", help="write each zoom step's crop with its answer drawn")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    import json

    import grounding
    from grounding.annotate import annotate

    from .options import grounder_from_args

    image = grounding.load_image(args.image)
    grounder = grounder_from_args(args)
    prediction = grounder.locate(image, args.instruction)
    if args.annotate:
        annotate(image, prediction.point, prediction.box, label=args.instruction).save(args.annotate)
    if args.trace_dir:
        from grounding.trace import write_trace

        write_trace(image, prediction, args.trace_dir)
    if args.json:
        print(
            json.dumps(
                {
                    "model": args.model,
                    "grounder": grounder.name,
                    "instruction": args.instruction,
                    **prediction.to_dict(),
                }
            )
        )
    elif prediction.point is not None:
        x, y = prediction.point.rounded()
        box = f"  box {[round(v) for v in prediction.box]}" if prediction.box else ""
        print(f"{x} {y}  score {prediction.score:.2f}{box}  ({prediction.elapsed_s:.2f}s)")
    else:
        print(f"{prediction.status.value}: no point for {args.instruction!r} (score {prediction.score:.2f})")
    return 0 if prediction.point is not None else 1
