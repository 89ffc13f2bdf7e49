"""`ground serve --model NAME`: a grounder behind the OpenAI chat-completions protocol."""

from __future__ import annotations

import argparse
import os

from .options import add_model_options

HELP = "serve a grounder over the OpenAI chat-completions protocol (/v1/models, /v1/chat/completions)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument(
        "--answer-family", default="qwen2.5-vl", metavar="FAMILY",
        help="model family whose prompt and answer format the server speaks (default qwen2.5-vl); "
        "--family instead sets the served model's own conventions",
    )
    parser.add_argument(
        "--token", default=os.environ.get("SCREENGROUND_SERVE_TOKEN"),
        help="require this bearer token from clients (default: $SCREENGROUND_SERVE_TOKEN, else none)",
    )
    parser.add_argument("--max-body-mb", type=float, default=64, help="largest request accepted, in MB (default 64)")
    parser.add_argument("--concurrency", type=int, default=1, help="requests the grounder runs at once (default 1)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    import grounding
    from grounding.errors import OptionError
    from grounding.serve import make_server

    from .options import backend_options, zoom_setting

    if not 0 <= args.port <= 65535:
        raise OptionError(f"--port must lie in 0..65535, got {args.port}")
    if args.concurrency < 1 or args.max_body_mb <= 0:
        raise OptionError("--concurrency and --max-body-mb must be positive")
    options = backend_options(args)
    served_name = options.pop("model_name", None) or args.model  # --model-name names the served model here
    grounder = grounding.load(args.model, zoom=zoom_setting(args), **options)
    try:
        server = make_server(
            grounder, host=args.host, port=args.port, family=args.answer_family, model_name=served_name,
            token=args.token, max_body_bytes=int(args.max_body_mb * 2**20), concurrency=args.concurrency,
            quiet=args.quiet,
        )
    except OSError as exc:
        raise OptionError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.token:
        print("ground serve: warning: listening beyond this machine without --token", file=sys.stderr)
    print(f"serving {served_name} (answers in the {args.answer_family} format) on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
