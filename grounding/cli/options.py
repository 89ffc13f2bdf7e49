"""Options shared by every subcommand that builds a grounder (locate, eval, do, agent, serve)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_model_options(parser: argparse.ArgumentParser) -> None:
    from grounding.registry import DEFAULT_MODEL

    group = parser.add_argument_group("model")
    group.add_argument(
        "--model", "-m", default=DEFAULT_MODEL, help=f"grounder name (`ground models`; default {DEFAULT_MODEL})"
    )
    group.add_argument("--model-path", metavar="DIR_OR_ID", help="weights: a local directory or a hub id")
    group.add_argument("--device", help="cuda, cuda:1, cpu (default: cuda when available)")
    group.add_argument("--dtype", help="bfloat16, float16, float32 (default: bf16 on CUDA, fp32 on CPU)")
    group.add_argument(
        "--max-pixels", type=int, help="largest image the model sees, in pixels (trades accuracy for memory)"
    )
    group.add_argument("--base-url", action="append", help="OpenAI-compatible endpoint; repeat to spread over replicas")
    group.add_argument("--api-key", help="bearer token for --base-url (default: $OPENAI_API_KEY)")
    group.add_argument("--model-name", help="the model name the endpoint serves")
    group.add_argument("--family", help="prompt/parser/coordinate conventions to use (vlm and openai backends)")
    group.add_argument(
        "--allow-unisolated-python",
        action="store_true",
        default=None,
        help="offer the tool loop's python tool where no sandbox (bubblewrap) isolates it: the model's code then "
        "runs with your network and files",
    )
    group.add_argument(
        "--option",
        "-O",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other backend option (VALUE read as JSON when it parses, else as a string)",
    )
    zoom = parser.add_argument_group("zoom", "refine answers on magnified crops (any tuning flag turns zoom on)")
    zoom.add_argument(
        "--zoom",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="refine on magnified crops (default: the model's measured default)",
    )
    zoom.add_argument("--zoom-steps", type=int, metavar="N", help="narrowing looks after a hit (default 2)")
    zoom.add_argument(
        "--zoom-crop", type=float, metavar="F", help="each crop's side as a fraction of the last (default 0.5)"
    )
    zoom.add_argument("--zoom-min-crop", type=int, metavar="PX", help="floor on a crop's longer side (default 768)")
    zoom.add_argument("--zoom-upscale", type=float, metavar="F", help="largest magnification of a crop (default 2)")
    zoom.add_argument(
        "--zoom-search",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="tile the screen when the first look finds nothing (default on)",
    )
    zoom.add_argument("--candidates", type=int, metavar="N", help="parallel attempts, voted on (default 1)")


def _option_pairs(pairs: list[str]) -> dict[str, Any]:
    from grounding.errors import OptionError

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise OptionError(f"--option expects KEY=VALUE, got {pair!r}")
        if key.strip() == "zoom":
            raise OptionError("zoom is not a backend option: use --zoom / --no-zoom and the --zoom-* flags")
        try:
            options[key.strip().replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip().replace("-", "_")] = value
    return options


def backend_options(args: argparse.Namespace) -> dict[str, Any]:
    options = {
        "model": args.model_path,
        "device": args.device,
        "dtype": args.dtype,
        "max_pixels": args.max_pixels,
        "base_url": args.base_url,
        "api_key": args.api_key,
        "model_name": args.model_name,
        "family": args.family,
        "allow_unisolated_python": args.allow_unisolated_python,
    }
    options.update(_option_pairs(args.option))
    return {k: v for k, v in options.items() if v is not None}


# Tuning flag -> ZoomConfig field.
_ZOOM_FLAGS = {
    "zoom_steps": "steps",
    "zoom_crop": "crop",
    "zoom_min_crop": "min_crop",
    "zoom_upscale": "upscale",
    "zoom_search": "search",
    "candidates": "candidates",
}


def zoom_setting(args: argparse.Namespace) -> Any:
    """None (the model's default), False, True, or a dict of ZoomConfig settings when tuning flags are given."""
    settings = {
        field: getattr(args, flag) for flag, field in _ZOOM_FLAGS.items() if getattr(args, flag, None) is not None
    }
    if args.zoom is False:
        if settings:
            from grounding.errors import OptionError

            flags = ", ".join(
                "--" + flag.replace("_", "-") for flag in _ZOOM_FLAGS if getattr(args, flag, None) is not None
            )
            raise OptionError(f"--no-zoom contradicts {flags}")
        return False
    return settings or args.zoom


def grounder_from_args(args: argparse.Namespace):
    import grounding

    return grounding.load(args.model, zoom=zoom_setting(args), **backend_options(args))
