"""Grounding on a live desktop, every action carried out for real: `a11y` (the accessibility tree), `offline`
(vision) and the fused default, on real applications under Xvfb (1920x1080) with AT-SPI.

    python3 benchmarks/bench_live.py [--apps gucharmap,qt-calculator,...] [--grounders a11y,fused,offline]
                                     [--limit N] [--out out/bench_live]

Applications (default set; none of them is in the dev benchmark): gtk3-widget-factory's three pages (GTK 3, Debian
gtk-3-examples), galculator, gucharmap (GNOME Character Map) and mousepad with its toolbar shown (GTK 3 desktop
apps), the Qt 5 widget gallery and calculator (Debian qtbase5-examples), a settings page in Chromium
(benchmarks/live/settings.html, --force-renderer-accessibility) and a Tk window (tests/apps/buttons.py: Tk
publishes no accessibility tree, the "not exposed" case). `--apps writer` adds LibreOffice Writer (GTK 3 plugin).

Targets: the named controls each view of an application shows at start (buttons, toolbar icons, check boxes,
radio buttons, tabs, menus, drop-downs, fields, links; a name the application shows twice is left out), asked for
as a user would ("click the Save button", "tick 'Dark mode'", "open the View menu"). `ui` says whether the name is
drawn in the control ("text", as OCR reads it) or not ("icon"), as the dev set defines it.

Each instruction is grounded on a fresh capture and clicked for real. It counts as right when the application says
so: the page's title names the control (Chromium), the Tk app reports the widget, a check box's, radio's, toggle's
or tab's checked/selected state changed; otherwise by the tree's hit test at the pointer just before the press (the
element under the click is the target or inside it), never by the grounder's own answer. After each action the
view is restored: the start tab or page clicked again, Escape if something is still open, and the application
restarted when its controls still differ from the start (a dialog that would not close, a new window, a crash).
Time per action = capture + grounding (the executor's settle time not included), each on a screen never seen
before (the desktop's background changes shade before every action, so no cached tree walk or OCR page is reused);
`tree_s` is the tree walk's own time, which the walker cuts at its deadline (1.5 s). Results go to
OUT/results.jsonl as they come (one row per action) and OUT/summary.md at the end, with the load average at start
and end: timings on a busy machine are upper bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

QT = Path("/usr/lib/x86_64-linux-gnu/qt5/examples/widgets")
PAGE = REPO / "benchmarks" / "live" / "settings.html"
QT_ON = {"QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1"}
SKIP = {"Close", "Quit", "Exit", "Minimize", "Maximize", "Menu", "(None)", ""}  # window controls and no-names
ACTIONABLE = ("button", "checkbox", "radio", "tab", "menu", "menu item", "link", "input", "dropdown", "switch")
PHRASES = {
    "button": "click the {} button", "checkbox": "tick '{}'", "radio": "select the {} option",
    "tab": "open the {} tab", "menu": "open the {} menu", "link": "follow the {} link", "input": "click the {} field",
    "dropdown": "open the {} drop-down", "switch": "toggle {}", "menu item": "click the {} menu entry",
}
CHECKABLE = ("check box", "radio button", "page tab", "toggle button")  # roles whose state shows a click
SETTLE_S = 0.4  # after a click, before the application's state is read
TK_BUTTONS = ("Discard", "Cancel", "Apply", "Retry", "Save", "Help", "Print")


@dataclass(frozen=True)
class Spec:
    """How to run one application for the benchmark."""

    key: str
    argv: tuple[str, ...]  # "{runtime}" is the session's private directory
    tree_name: str | None  # its AT-SPI application name; None: it publishes no tree
    env: dict[str, str] = field(default_factory=dict)
    views: tuple[str, ...] = ("",)  # the control clicked to show each view ("": as it starts)
    # Controls whose effect a restore cannot undo or that reach outside the application (print, export files).
    unsafe: frozenset[str] = frozenset()
    settings: str = ""  # GSettings keyfile lines (the keyfile backend: the user's dconf is never touched)
    top: int = 0  # controls above this y belong to the browser's own chrome, not the page
    start_s: float = 60.0  # allowed per start attempt


SPECS = (
    Spec("gtk3-widget-factory", ("gtk3-widget-factory",), "gtk3-widget-factory",
         views=("Page 1", "Page 2", "Page 3")),
    Spec("galculator", ("galculator",), "galculator"),
    Spec("gucharmap", ("gucharmap",), "gucharmap"),
    Spec("mousepad", ("mousepad",), "mousepad",
         settings="[org/xfce/mousepad/preferences/window]\ntoolbar-visible=true\n"),
    Spec("qt-gallery", (str(QT / "gallery" / "gallery"),), "gallery", QT_ON),
    Spec("qt-calculator", (str(QT / "widgets" / "calculator" / "calculator"),), "calculator", QT_ON),
    Spec("chromium", ("chromium", "--no-sandbox", "--force-renderer-accessibility", "--no-first-run",
                      "--disable-gpu", "--window-position=0,0", "--window-size=1600,1000",
                      "--user-data-dir={runtime}/chromium", PAGE.as_uri()), "Chromium", {"ACCESSIBILITY_ENABLED": "1"},
         top=140, start_s=90.0),
    Spec("tk-buttons", (sys.executable, str(REPO / "tests" / "apps" / "buttons.py"), *TK_BUTTONS), None,
         start_s=30.0),
    Spec("writer", ("soffice", "--writer", "--norestore", "--nologo", "-env:UserInstallation=file://{runtime}/lo"),
         "soffice", {"SAL_USE_VCLPLUGIN": "gtk3"}, start_s=120.0,
         unsafe=frozenset({"Open", "Save", "Export Directly as PDF", "Print", "Print Preview", "Toggle Print Preview",
                           "Insert Special Character", "Clone", "Window"})),
)
APPS = {spec.key: spec for spec in SPECS}
DEFAULT_APPS = [spec.key for spec in SPECS if spec.key != "writer"]
# The Tk window's widgets (Tk publishes no tree: vision alone can find them); it reports what each one received.
TK_TARGETS = (
    *((f"click {label}", label, f"pressed {label}") for label in TK_BUTTONS),
    *((f"right-click {label}", label, f"right-clicked {label}") for label in ("Discard", "Print")),
    ("double-click Open report", "Open report", "double-clicked Open report"),
    ("hover over Hover here", "Hover here", "hovered Hover here"),
)


@dataclass(frozen=True)
class Target:
    app: str
    view: str
    instruction: str
    name: str
    role: str  # the platform role in the tree ("" for the Tk app)
    kind: str  # button, checkbox, tab, menu... ("not exposed" for the Tk app)
    ui: str  # "text" (the name is drawn in the control), "icon" (it is not), "" (not exposed)


def phrase(kind: str, name: str) -> str:
    """The instruction a user would give: "Open..." is asked for as "Open", "link button" as "the link button"."""
    text = PHRASES[kind].format(name.rstrip(".…").strip() or name)
    noun = PHRASES[kind].rsplit("{}", 1)[1].strip()
    return text.replace(f"{noun} {noun}", noun) if noun else text


def icon_file_name(name: str) -> bool:
    """A name that is an icon theme's file name ("view-refresh-symbolic"): what a toolkit publishes for an image
    nobody named, not words a user would ask for."""
    return " " not in name and name.count("-") >= 2 and name == name.lower()


def targets_in(spec: Spec, view: str, elements, screenshot) -> list[Target]:
    """The view's named controls, each once: a name shown twice (by any element of the application) is ambiguous."""
    counts: dict[str, int] = {}
    for e in elements:
        counts[e.name.casefold()] = counts.get(e.name.casefold(), 0) + 1
    lines = drawn_text(screenshot.image)
    found = []
    for e in elements:
        kind = next((k for k in e.kinds if k in ACTIONABLE), None)
        if kind is None or e.name in SKIP or e.name in spec.unsafe or e.name == view or e.box.y1 < spec.top:
            continue
        if icon_file_name(e.name):
            continue
        if counts[e.name.casefold()] > 1 or e.box.area < 64:
            continue
        ui = "text" if drawn_in(e.name, e.box, lines) else "icon"
        found.append(Target(spec.key, view, phrase(kind, e.name), e.name, e.role, kind, ui))
    return found


def drawn_text(image):
    """The text lines OCR reads on a screenshot (screen pixels: the benchmark captures the whole screen)."""
    from grounding.ocr.engine import find_text, recognize

    return [line for line in recognize(image, find_text(image, max(image.size))) if line is not None]


def drawn_in(name: str, box, lines) -> bool:
    """Whether the control shows its name: an OCR line centred in its box reads (about) the name."""
    from rapidfuzz import fuzz

    wanted = name.rstrip(".…").strip().casefold()
    inside = " ".join(line.text for line in lines if box.contains(line.box.center)).casefold()
    return bool(inside) and (fuzz.ratio(wanted, inside) >= 80 or (len(wanted) >= 3 and wanted in inside))


class Running:
    """One application under test: started (with retries), its views shown, restored between actions."""

    def __init__(self, session, spec: Spec):
        self.session, self.spec = session, spec
        self.app = None
        self.restarts = 0
        self.prints: dict[str, frozenset] = {}
        self.start_tabs: dict[str, list[tuple[int, int]]] = {}

    def start(self, attempts: int = 3) -> None:
        runtime = self.session._runtime.name
        argv = [a.format(runtime=runtime) for a in self.spec.argv]
        env = {**self.spec.env, "XDG_CONFIG_HOME": f"{runtime}/config-{self.spec.key}"}
        if self.spec.settings:
            keyfile = Path(env["XDG_CONFIG_HOME"]) / "glib-2.0" / "settings" / "keyfile"
            keyfile.parent.mkdir(parents=True, exist_ok=True)
            keyfile.write_text(self.spec.settings)
            env["GSETTINGS_BACKEND"] = "keyfile"
        if self.spec.tree_name is None:
            self.app = self.session.launch(argv, app="", min_elements=0, ready_line=True, env=env,
                                           timeout=self.spec.start_s)
            return
        # Each attempt gets the full allowance: a loaded machine slows a start down, it rarely makes it fail.
        self.app = self.session.launch(argv, app=self.spec.tree_name, min_elements=5, env=env,
                                       timeout=self.spec.start_s * attempts, tries=attempts)

    def restart(self, why: str) -> None:
        print(f"    restart {self.spec.key}: {why}", flush=True)
        self.app.stop()
        self.restarts += 1
        self.start()

    def elements(self):
        from agent.a11y import walk

        return [e for e in walk(scope="desktop", deadline_s=5.0).elements if e.app == self.spec.tree_name]

    def fingerprint(self) -> frozenset:
        """What must be as it was before the next action: the named controls (popups' items included) and where they
        are. States are left out (a check box may stay ticked); so are labels (a calculator's display)."""
        return frozenset((e.name, e.role, tuple(e.box.to_list())) for e in self.elements()
                         if e.name and e.kinds and e.kinds != ("label",) and e.box.y1 >= self.spec.top)

    def show(self, view: str) -> None:
        """The view's page and its start tabs selected."""
        clicks = []
        if view:
            clicks = [e.box.center.rounded() for e in self.elements() if e.name == view][:1]
            if not clicks:
                self.restart(f"its control {view!r} is gone")
                clicks = [e.box.center.rounded() for e in self.elements() if e.name == view][:1]
        for x, y in [*clicks, *self.start_tabs.get(view, [])]:
            subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=False, timeout=10)
            time.sleep(0.3)

    def enter(self, view: str) -> list[Target]:
        """Show a view for the first time and list its targets."""
        from agent.capture import capture

        self.show(view)
        time.sleep(0.5)
        elements = self.elements()
        self.start_tabs[view] = [e.box.center.rounded() for e in elements
                                 if e.role == "page tab" and "selected" in e.states and e.box.y1 >= self.spec.top]
        self.prints[view] = self.fingerprint()
        return targets_in(self.spec, view, elements, capture())

    def restore(self, view: str) -> None:
        if self.spec.tree_name is None:
            if self.app.process.poll() is not None:  # a pressed Tk button closes the app
                self.start()
            return
        for _ in range(2):
            if self.app.process.poll() is not None:
                break
            self.show(view)
            time.sleep(0.3)
            if self.fingerprint() == self.prints[view]:
                return
            # Still different after the start tab was clicked: something is open (a menu, a list, a dialog).
            # Escape closes it; pressed only now, since in a dialog application Escape with nothing open closes it.
            subprocess.run(["xdotool", "key", "Escape"], check=False, timeout=10)
            time.sleep(0.3)
        self.restart("its controls differ from the start" if self.app.process.poll() is None else "it exited")
        self.show(view)


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


def element_states(running: Running, target: Target) -> frozenset[str] | None:
    found = [e for e in running.elements() if e.name == target.name and e.role == target.role]
    return found[0].states if len(found) == 1 else None


def run_one(desktop, target: Target, running: Running, number: int) -> dict:
    from agent.desktop import TargetNotFound

    before = element_states(running, target) if target.role in CHECKABLE else None
    new_screen(number)
    started = time.perf_counter()
    try:
        plan = desktop.plan(target.instruction)
    except TargetNotFound as exc:
        return {"ok": False, "time_s": time.perf_counter() - started, "why": f"not found: {exc.located.prediction.raw}",
                **looked(exc.located.prediction.extra)}
    took = time.perf_counter() - started
    prediction = plan.targets[0].prediction
    x, y = plan.actions[0].point.rounded()
    chain = hit_chain(x, y) if target.role else []
    desktop.execute(plan)
    time.sleep(SETTLE_S)
    if target.app == "tk-buttons":
        expected = {instruction: event for instruction, _, event in TK_TARGETS}[target.instruction]
        ok, evidence = expected in running.app.events(quiet=0.6), "app event"
    elif target.app == "chromium" and page_title(running).startswith(target.name + " - "):
        ok, evidence = True, "page title"
    elif before is not None and flipped(before, element_states(running, target)):
        ok, evidence = True, "state"
    else:
        ok, evidence = any(role == target.role and name == target.name for role, name, _ in chain), "hit test"
    return {"ok": ok, "time_s": took, **looked(prediction.extra), "evidence": evidence, "point": [x, y],
            "hit": [f"{r} {n!r}" for r, n, _ in chain[-2:]]}


def looked(extra: dict) -> dict:
    """Which source answered, the tree walk's time, and whether the answer says it reused an earlier look at the
    same pixels (the tree walk or the OCR page)."""
    return {"source": extra.get("source"), "tree_s": extra.get("tree_s"),
            "cached": bool(extra.get("tree_cached") or extra.get("ocr_cached"))}


def new_screen(number: int) -> None:
    """Give the desktop's background (where no window is) a shade of its own: no two actions see the same pixels,
    so each one pays a first look (the tree walk, the OCR page), as on a real desktop whose clock or notifications
    change, instead of reusing the last action's."""
    subprocess.run(["xsetroot", "-solid", f"#{40 + number % 50:02x}{60 + number // 50 % 50:02x}70"], check=True,
                   timeout=10)


def flipped(before: frozenset[str], after: frozenset[str] | None) -> bool:
    return after is not None and any((state in before) != (state in after) for state in ("checked", "selected"))


def page_title(running: Running) -> str:
    return next((e.name for e in running.elements() if e.role == "frame"), "")


def grounders(names: list[str], log: Path):
    from agent.a11y.grounder import A11yGrounder
    from agent.desktop import Desktop

    made = {
        "a11y": lambda: Desktop(A11yGrounder(), log_path=log),
        "offline": lambda: Desktop("offline", a11y=False, log_path=log),
        "fused": lambda: Desktop("offline", log_path=log),
    }
    return {name: made[name]() for name in names}


def bench_app(spec: Spec, session, desktops: dict, args, rows: list[dict]) -> str:
    """Every view of one application, each target with each grounder; returns a line for the summary."""
    running = Running(session, spec)
    try:
        running.start()
    except RuntimeError as exc:
        line = f"{spec.key}: did not start ({str(exc).splitlines()[0][:200]})"
        print(line, flush=True)
        return line
    try:
        seen: set[tuple[str, str]] = set()
        count = 0
        for view in spec.views:
            if spec.tree_name is None:
                targets = [Target(spec.key, "", ins, name, "", "not exposed", "") for ins, name, _ in TK_TARGETS]
            else:
                targets = [t for t in running.enter(view) if (t.name, t.role) not in seen]
                seen |= {(t.name, t.role) for t in targets}
            targets = targets[: args.limit] if args.limit else targets
            count += len(targets)
            print(f"{spec.key}{' / ' + view if view else ''}: {len(targets)} targets", flush=True)
            for grounder_name, desktop in desktops.items():
                for target in targets:
                    outcome = run_one(desktop, target, running, len(rows))
                    row = {"grounder": grounder_name, **asdict(target), **outcome}
                    rows.append(row)
                    with (args.out / "results.jsonl").open("a") as stream:
                        stream.write(json.dumps(row) + "\n")
                    print(f"  {grounder_name:8} {'ok ' if row['ok'] else 'BAD'} {row['time_s']:.2f}s "
                          f"{row.get('source')!s:12} {target.instruction}"
                          + ("" if row["ok"] else f"  {row.get('why') or row.get('hit')}"), flush=True)
                    running.restore(view)
        return f"{spec.key}: {count} targets, {running.restarts} restarts"
    finally:
        running.app.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default=",".join(DEFAULT_APPS), help=f"any of {', '.join(APPS)}")
    parser.add_argument("--grounders", default="a11y,fused,offline")
    parser.add_argument("--limit", type=int, default=0, help="at most N targets per view")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bench_live")
    args = parser.parse_args()
    unknown = [key for key in args.apps.split(",") if key not in APPS]
    if unknown:
        parser.error(f"unknown application(s): {', '.join(unknown)} (known: {', '.join(APPS)})")
    from tests.desktop_session import DesktopSession

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.jsonl").write_text("")
    load_start, started = os.getloadavg(), time.monotonic()
    print(f"load average at start: {load_start[0]:.1f} {load_start[1]:.1f} {load_start[2]:.1f}", flush=True)
    rows: list[dict] = []
    apps_lines = []
    with DesktopSession((1920, 1080)) as session:
        desktops = grounders(args.grounders.split(","), args.out / "actions.jsonl")
        for key in args.apps.split(","):
            apps_lines.append(bench_app(APPS[key], session, desktops, args, rows))
    load_end = os.getloadavg()
    summary = "\n".join([
        f"load average at start {load_start[0]:.1f} {load_start[1]:.1f} {load_start[2]:.1f}, at end "
        f"{load_end[0]:.1f} {load_end[1]:.1f} {load_end[2]:.1f}; {time.monotonic() - started:.0f} s in all; "
        f"{os.cpu_count()} CPUs", "", *[f"- {line}" for line in apps_lines], "", table(rows)])
    (args.out / "summary.md").write_text(summary + "\n")
    print(summary)
    return 0


def table(rows: list[dict]) -> str:
    """Accuracy and time per action; `reused` counts answers that reused an earlier look at the same pixels (none
    should: the desktop's background changes before each action)."""
    lines = ["| grounder | split | n | accuracy % | median s | p90 s | max s | max tree s | reused |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for grounder in dict.fromkeys(r["grounder"] for r in rows):
        mine = [r for r in rows if r["grounder"] == grounder]
        splits = [("all", mine), ("exposed", [r for r in mine if r["kind"] != "not exposed"]),
                  ("not exposed", [r for r in mine if r["kind"] == "not exposed"])]
        splits += [(f"ui {u}", [r for r in mine if r["ui"] == u]) for u in ("text", "icon")]
        splits += [(f"app {a}", [r for r in mine if r["app"] == a]) for a in dict.fromkeys(r["app"] for r in mine)]
        splits += [(f"kind {k}", [r for r in mine if r["kind"] == k]) for k in sorted({r["kind"] for r in mine})]
        for split, chosen in splits:
            if chosen:
                lines.append(f"| {grounder} | {split} | {len(chosen)} | " + " | ".join(figures(chosen)) + " |")
    return "\n".join(lines)


def figures(rows: list[dict]) -> list[str]:
    times = sorted(r["time_s"] for r in rows)
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    trees = [r["tree_s"] for r in rows if r.get("tree_s") is not None]
    return [f"{100 * sum(r['ok'] for r in rows) / len(rows):.1f}", f"{statistics.median(times):.2f}", f"{p90:.2f}",
            f"{times[-1]:.2f}", f"{max(trees):.2f}" if trees else "-", str(sum(bool(r.get("cached")) for r in rows))]


if __name__ == "__main__":
    sys.exit(main())
