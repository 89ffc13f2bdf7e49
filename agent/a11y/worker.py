"""The process that walks the accessibility tree: `python -m agent.a11y.worker`, driven by walker.py.

It reads one JSON request per line on stdin and answers with JSON lines on stdout: one {"element": ...} per element
as soon as it is read (so a walk cut short by the deadline still hands over what it had), then {"done": ...}, or
{"unavailable": reason} / {"failed": reason}. It stays up for the next request; the parent kills it when a walk
runs past the deadline, so nothing here needs to be interruptible.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from grounding.geometry import Box

from .backend import Limits, Progress, Unavailable, for_platform


def serve(requests, out) -> None:
    backend = None
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        limits = Limits(**{**request, "region": Box.of(request["region"]) if request.get("region") else None})
        progress = Progress()
        try:
            backend = backend or for_platform()
            # python-xlib and the toolkits' libraries print warnings; stdout carries the answers only.
            with contextlib.redirect_stdout(io.StringIO()):
                for element in backend.walk(limits, progress):
                    _send(out, {"element": element.to_dict()})
        except Unavailable as exc:
            _send(out, {"unavailable": str(exc)})
            continue
        except Exception as exc:  # a backend bug must not take the desktop script down: reported, not raised
            _send(out, {"failed": f"{type(exc).__name__}: {exc}", "nodes": progress.nodes})
            continue
        _send(out, {"done": {"nodes": progress.nodes, "truncated": progress.truncated, "notes": progress.notes or []}})


def _send(out, message: dict) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)
