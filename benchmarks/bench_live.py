"""Grounding on a live desktop, every action carried out for real: `a11y` (the accessibility tree), `offline`
(vision) and the fused default, on real applications under Xvfb (1920x1080) with AT-SPI.

    python3 benchmarks/bench_live.py [--apps gtk3-widget-factory,qt-gallery,...] [--grounders a11y,offline,fused]
                                     [--limit N] [--out out/bench_live]

Applications: gtk3-widget-factory (GTK 3, Debian gtk-3-examples), the Qt 5
widget gallery and calculator (Debian qtbase5-examples), a settings page in Chromium (benchmarks/live/settings.html,
--force-renderer-accessibility), LibreOffice Writer (GTK 3 plugin; the one app here that the dev set also has), and
the Tk test app (Tk publishes no accessibility tree: the "not exposed" case).
The targets of the first four are their visible, named controls as the tree lists them at start (buttons, check
boxes, radio buttons, tabs, menus, toolbar icons, fields, links; names that occur twice are left out), asked for as
a user would ("click the X button", "tick X", "open the X tab"); the Tk app's are its labelled widgets.

Each instruction is grounded on a fresh capture, then clicked for real. It counts as right when the application
says so: the page's title names the control (Chromium), the Tk app reports the widget, a check box's or radio's
checked state or a tab's selected state changed; otherwise by the tree's hit test at the pointer just before the
press (the element under the click is the target or inside it), never by the grounder's own answer. After each
action Escape closes what it opened and the start tab is selected again. Time per action = capture + grounding
(the executor's 0.3 s settle not included), measured on this shared 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

QT = Path("/usr/lib/x86_64-linux-gnu/qt5/examples/widgets")
PAGE = REPO / "benchmarks" / "live" / "settings.html"
QT_ON = {"QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1"}
SKIP = {"Close", "Quit", "Exit", "Minimize", "Maximize", "Menu", "(None)", ""}  # window controls and no-names
# Controls whose effect the restore step cannot undo: they disable the app, switch its page, open new windows or
# change the window's layout.
UNSAFE = {
    "qt-gallery": {"Disable widgets"},
    "gtk3-widget-factory": {"Page 1", "Page 2", "Page 3"},
    "writer": {"New", "Open", "Save", "Export Directly as PDF", "Print", "Print Preview", "Track Changes Functions",
               "Window", "Show Draw Functions", "Insert Special Character", "Toggle Print Preview", "Sidebar",
               "Clone", "Formatting Marks"},
}
ACTIONABLE = {"button", "checkbox", "radio", "tab", "menu", "menu item", "link", "input", "dropdown", "switch"}
PHRASES = {
    "button": "click the {} button", "checkbox": "tick '{}'", "radio": "select the {} option",
    "tab": "open the {} tab", "menu": "open the {} menu", "link": "follow the {} link", "input": "click the {} field",
    "dropdown": "open the {} drop-down", "switch": "toggle {}", "menu item": "click the {} menu entry",
}


@dataclass(frozen=True)
class Target:
    app: str
    instruction: str
    name: str
    role: str  # the platform role in the tree ("" for the Tk app)
    category: str


APPS = {
    "gtk3-widget-factory": (["gtk3-widget-factory"], "gtk3-widget-factory", {}),
    "qt-gallery": ([str(QT / "gallery" / "gallery")], "gallery", QT_ON),
    "qt-calculator": ([str(QT / "widgets" / "calculator" / "calculator")], "calculator", QT_ON),
    "chromium": (["chromium", "--no-sandbox", "--force-renderer-accessibility", "--no-first-run", "--disable-gpu",
                  "--window-position=0,0", "--window-size=1600,1000", "--user-data-dir={runtime}/chromium",
                  PAGE.as_uri()], "Chromium", {}),
    "writer": (["soffice", "--writer", "--norestore", "--nologo", "-env:UserInstallation=file://{runtime}/lo"],
               "soffice", {"SAL_USE_VCLPLUGIN": "gtk3"}),
    "tk-buttons": ([sys.executable, str(REPO / "tests" / "apps" / "buttons.py"), "Discard", "Cancel", "Apply",
                    "Retry"], None, {}),
}
TK_TARGETS = [("click Discard", "Discard", "pressed Discard"), ("click Cancel", "Cancel", "pressed Cancel"),
              ("click Apply", "Apply", "pressed Apply"), ("click Retry", "Retry", "pressed Retry"),
              ("double-click Open report", "Open report", "double-clicked Open report")]


def targets_from_tree(app_key: str, app_name: str, snapshot) -> list[Target]:
    from agent.a11y.match import rank

    mine = [e for e in snapshot.elements if e.app == app_name]
    counts: dict[str, int] = {}
    for e in mine:
        counts[e.name] = counts.get(e.name, 0) + 1
    found = []
    for e in mine:
        kind = next((k for k in e.kinds if k in ACTIONABLE), None)
        if kind is None or e.name in SKIP or counts[e.name] > 1 or e.box.area < 64:
            continue
        if app_key == "chromium" and e.window and e.box.y1 < 140:  # the browser's own chrome, not the page
            kind = None if e.role != "push button" else kind
            continue
        instruction = PHRASES[kind].format(e.name)
        ranked = rank(mine, instruction)
        if not ranked or ranked[0].element != e or e.name in UNSAFE.get(app_key, ()):  # the phrase must name this element among the app's, by text
            continue
        category = "toolbar icon" if kind == "button" and _icon_only(app_key, e) else kind
        found.append(Target(app_key, instruction, e.name, e.role, category))
    return found


def _icon_only(app_key: str, element) -> bool:
    """Buttons that show an icon and no text: the page's toolbar and Writer's toolbars."""
    if app_key == "chromium":
        return element.box.y1 < 200
    return app_key == "writer" and element.box.width <= 48 and element.box.height <= 48


def hit_chain(x: int, y: int) -> list[tuple[str, str, frozenset[str]]]:
    """The AT-SPI hit test at a screen point: the deepest element under it and its ancestors' (role, name, states),
    starting from the smallest showing top-level window that contains the point."""
    from agent.a11y.atspi import (
        ACCESSIBLE,
        COMPONENT,
        REGISTRY,
        Bus,
        Failed,
        bus_address,
        call,
        one_property,
        role_name,
        state_names,
    )

    bus = Bus(bus_address(2.0))
    try:
        [apps] = bus.calls([call(*REGISTRY, ACCESSIBLE, "GetChildren")], 2.0)
        windows = []
        for name, path in apps[0]:
            [kids] = bus.calls([call(name, path, ACCESSIBLE, "GetChildren")], 2.0)
            windows += [] if isinstance(kids, Failed) else kids[0]
        best = None
        for name, path in windows:
            extents, states = bus.calls([call(name, path, COMPONENT, "GetExtents", "u", (0,)),
                                         call(name, path, ACCESSIBLE, "GetState")], 2.0)
            if isinstance(extents, Failed) or isinstance(states, Failed) or "showing" not in state_names(states[0]):
                continue
            wx, wy, w, h = extents[0]
            if wx <= x < wx + w and wy <= y < wy + h and (best is None or w * h < best[0]):
                best = (w * h, name, path)
        chain, node = [], best[1:] if best else None
        while node and len(chain) < 40:
            role, label, states = bus.calls([call(*node, ACCESSIBLE, "GetRole"), one_property(*node, "Name"),
                                             call(*node, ACCESSIBLE, "GetState")], 2.0)
            if isinstance(role, Failed):
                break
            chain.append((role_name(role[0]), str(label[0][1]), state_names(states[0])))
            [child] = bus.calls([call(*node, COMPONENT, "GetAccessibleAtPoint", "iiu", (x, y, 0))], 2.0)
            if isinstance(child, Failed) or not child[0][0] or child[0][1] == "/org/a11y/atspi/null" \
                    or tuple(child[0]) == tuple(node):
                break
            node = tuple(child[0])
        return chain
    finally:
        bus.close()


def element_states(name: str, role: str) -> frozenset[str] | None:
    from agent.a11y import walk

    found = [e for e in walk(scope="desktop", deadline_s=5.0).elements if e.name == name and e.role == role]
    return found[0].states if len(found) == 1 else None


def page_title(app) -> str:
    from agent.a11y import walk

    return next((e.name for e in walk(scope="desktop", deadline_s=5.0).elements if e.role == "frame"), "")


def run_one(desktop, target: Target, app) -> dict:
    from agent.desktop import TargetNotFound

    before = element_states(target.name, target.role) if target.role in ("check box", "radio button", "page tab",
                                                                          "toggle button") else None
    started = time.perf_counter()
    try:
        plan = desktop.plan(target.instruction)
    except TargetNotFound as exc:
        return {"ok": False, "time_s": time.perf_counter() - started, "why": "not found",
                "source": exc.located.prediction.extra.get("source")}
    took = time.perf_counter() - started
    prediction = plan.targets[0].prediction
    point = plan.actions[0].point
    x, y = point.rounded()
    chain = hit_chain(x, y) if target.role else []
    desktop.execute(plan)
    time.sleep(0.4)
    evidence = ""
    if target.app == "tk-buttons":
        expected = dict((t[1], t[2]) for t in TK_TARGETS)[target.name]
        ok, evidence = expected in app.events(quiet=0.6), "app event"
    elif target.app == "chromium":
        titled = page_title(app).startswith(target.name + " - ")
        ok, evidence = titled or _in_chain(target, chain), "page title" if titled else "hit test"
    elif before is not None:
        after = element_states(target.name, target.role)
        flipped = after is not None and (("checked" in before) != ("checked" in after)
                                         or ("selected" in before) != ("selected" in after))
        ok, evidence = flipped or _in_chain(target, chain), "state" if flipped else "hit test"
    else:
        ok, evidence = _in_chain(target, chain), "hit test"
    return {"ok": ok, "time_s": took, "source": prediction.extra.get("source"), "evidence": evidence,
            "point": [x, y], "hit": [f"{r} {n!r}" for r, n, _ in chain[-2:]]}


def _in_chain(target: Target, chain) -> bool:
    return any(role == target.role and name == target.name for role, name, _ in chain)


def restore(target: Target, start_tabs) -> None:
    """Escape closes what the action opened (a menu, a drop-down's list, a dialog a toolbar button opened), but only
    where it cannot close the application itself (the Qt gallery is a dialog: Escape would end it)."""
    presses = 2 if target.app in ("writer", "chromium") else 1 if target.category in ("menu", "dropdown") else 0
    for _ in range(presses):  # one Escape closes a popup; a second one would close a dialog app behind it
        subprocess.run(["xdotool", "key", "Escape"], check=False)
        time.sleep(0.15)
    for x, y in start_tabs:
        subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=False)
        time.sleep(0.2)


def grounders(names: list[str]):
    from agent.a11y.grounder import A11yGrounder
    from agent.desktop import Desktop

    log = REPO / "out" / "bench_live" / "actions.jsonl"
    made = {
        "a11y": lambda: Desktop(A11yGrounder(), log_path=log),
        "offline": lambda: Desktop("offline", a11y=False, log_path=log),
        "fused": lambda: Desktop("offline", log_path=log),
    }
    return {name: made[name]() for name in names}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument("--grounders", default="a11y,fused,offline")
    parser.add_argument("--limit", type=int, default=0, help="at most N targets per application")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bench_live")
    args = parser.parse_args()
    from tests.desktop_session import DesktopSession

    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    with DesktopSession((1920, 1080)) as session:
        desktops = grounders(args.grounders.split(","))
        for key in args.apps.split(","):
            argv, app_name, env = APPS[key]
            argv = [a.format(runtime=session._runtime.name) for a in argv]
            if app_name is None:
                app = session.launch(argv, app="", min_elements=0, ready_line=True, timeout=30)
                targets = [Target(key, ins, name, "", "not exposed") for ins, name, _ in TK_TARGETS]
                start_tabs = []
            else:
                app = session.launch(argv, app=app_name, min_elements=5, env=env, timeout=240, tries=6 if env else 2)
                from agent.a11y import walk

                snapshot = walk(scope="desktop", deadline_s=5.0)
                targets = targets_from_tree(key, app_name, snapshot)
                start_tabs = [e.box.center.rounded() for e in snapshot.elements
                              if e.app == app_name and e.role == "page tab" and "selected" in e.states]
            targets = targets[: args.limit] if args.limit else targets
            print(f"{key}: {len(targets)} targets", flush=True)
            for grounder_name, desktop in desktops.items():
                for target in targets:
                    if key == "tk-buttons" and app.process.poll() is not None:  # a pressed button closes the app
                        app = session.launch(argv, app="", min_elements=0, ready_line=True, timeout=30)
                    outcome = run_one(desktop, target, app)
                    results.append({"grounder": grounder_name, **target.__dict__, **outcome})
                    print(f"  {grounder_name:8} {'ok ' if outcome['ok'] else 'BAD'} {outcome['time_s']:.2f}s "
                          f"{outcome.get('source')!s:12} {target.instruction}"
                          + ("" if outcome["ok"] else f"  {outcome.get('why') or outcome.get('hit')}"), flush=True)
                    restore(target, start_tabs)
            app.stop()
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(table(results))
    return 0


def table(results: list[dict]) -> str:
    lines = ["| grounder | split | n | accuracy | median s | p90 s |", "|---|---|---:|---:|---:|---:|"]
    for grounder in dict.fromkeys(r["grounder"] for r in results):
        mine = [r for r in results if r["grounder"] == grounder]
        splits = [("all", mine), ("exposed", [r for r in mine if r["category"] != "not exposed"]),
                  ("not exposed", [r for r in mine if r["category"] == "not exposed"])]
        splits += [(f"app {a}", [r for r in mine if r["app"] == a]) for a in dict.fromkeys(r["app"] for r in mine)]
        splits += [(f"kind {c}", [r for r in mine if r["category"] == c])
                   for c in sorted({r["category"] for r in mine})]
        for split, rows in splits:
            if not rows:
                continue
            times = sorted(r["time_s"] for r in rows)
            p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
            accuracy = 100 * sum(r["ok"] for r in rows) / len(rows)
            lines.append(f"| {grounder} | {split} | {len(rows)} | {accuracy:.1f} | {statistics.median(times):.2f} "
                         f"| {p90:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
