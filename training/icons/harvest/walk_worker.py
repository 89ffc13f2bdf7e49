"""The accessibility worker the harvester walks with: agent.a11y's, keeping every showing element with a box.

The desktop agent's walker keeps only enabled, named elements (what an instruction can act on). A harvest needs the
rest too: disabled controls are drawn greyed (a look worth learning) and unnamed ones must not be mistaken for
background. agent.a11y has no switch for that, so this worker swaps its filter before serving the same protocol.
"""

from __future__ import annotations

import sys

from grounding.geometry import Box


def keep_showing(name: str, text: str, box: Box | None, states: frozenset[str], region: Box | None) -> bool:
    if box is None or box.width < 1 or box.height < 1 or not {"showing", "visible"} <= states:
        return False
    return region is None or region.contains(box.center)


if __name__ == "__main__":
    from agent.a11y import atspi, worker

    atspi.keep = keep_showing
    worker.serve(sys.stdin, sys.stdout)
