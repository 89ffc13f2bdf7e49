"""Linux: the AT-SPI tree read straight off the accessibility D-Bus with jeepney (pure Python, any venv).

pyatspi would need PyGObject, which a venv cannot get without system build packages; jeepney speaks D-Bus itself,
so every call can carry its own timeout, and calls are pipelined: all questions about one level of the tree go out
before the first answer is read, so a walk costs about one round trip per level instead of one per property.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from grounding.geometry import Box, Transform

from .backend import Backend, Limits, Progress, Unavailable, keep
from .coords import XWindow, correction, match_window, scale_between, x11_windows
from .element import Element
from .roles import ATSPI

ACCESSIBLE = "org.a11y.atspi.Accessible"
COMPONENT = "org.a11y.atspi.Component"
TEXT = "org.a11y.atspi.Text"
REGISTRY = ("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root")
ROOT_PATH = "/org/a11y/atspi/accessible/root"
SCREEN_COORDS = 0  # ATSPI_COORD_TYPE_SCREEN
BATCH = 256  # requests in flight at once: enough to hide round trips, few enough not to flood a slow application

# AtspiRole values (atspi-constants.h) -> the role names GetRoleName gives; a table saves one call per node.
ROLE_NAMES = (
    "invalid", "accelerator label", "alert", "animation", "arrow", "calendar", "canvas", "check box",
    "check menu item", "color chooser", "column header", "combo box", "date editor", "desktop icon", "desktop frame",
    "dial", "dialog", "directory pane", "drawing area", "file chooser", "filler", "focus traversable", "font chooser",
    "frame", "glass pane", "html container", "icon", "image", "internal frame", "label", "layered pane", "list",
    "list item", "menu", "menu bar", "menu item", "option pane", "page tab", "page tab list", "panel",
    "password text", "popup menu", "progress bar", "push button", "radio button", "radio menu item", "root pane",
    "row header", "scroll bar", "scroll pane", "separator", "slider", "spin button", "split pane", "status bar",
    "table", "table cell", "table column header", "table row header", "tearoff menu item", "terminal", "text",
    "toggle button", "tool bar", "tool tip", "tree", "tree table", "unknown", "viewport", "window", "extended",
    "header", "footer", "paragraph", "ruler", "application", "autocomplete", "editbar", "embedded", "entry", "chart",
    "caption", "document frame", "heading", "page", "section", "redundant object", "form", "link",
    "input method window", "table row", "tree item", "document spreadsheet", "document presentation",
    "document text", "document web", "document email", "comment", "list box", "grouping", "image map",
    "notification", "info bar", "level bar", "title bar", "block quote", "audio", "video", "definition", "article",
    "landmark", "log", "marquee", "math", "rating", "timer", "static", "math fraction", "math root", "subscript",
    "superscript", "description list", "description term", "description value", "footnote", "content deletion",
    "content insertion", "mark", "suggestion", "push button menu",
)
# AtspiStateType bit positions -> names (GetState answers two 32-bit words).
STATE_NAMES = (
    "invalid", "active", "armed", "busy", "checked", "collapsed", "defunct", "editable", "enabled", "expandable",
    "expanded", "focusable", "focused", "has-tooltip", "horizontal", "iconified", "modal", "multi-line",
    "multiselectable", "opaque", "pressed", "resizable", "selectable", "selected", "sensitive", "showing",
    "single-line", "stale", "transient", "vertical", "visible", "manages-descendants", "indeterminate", "required",
    "truncated", "animated", "invalid-entry", "supports-autocompletion", "selectable-text", "is-default", "visited",
    "checkable", "has-popup", "read-only",
)
TOPLEVEL_ROLES = {"frame", "window", "dialog", "alert", "file chooser", "color chooser", "font chooser"}
FIELD_KINDS = {"input", "dropdown"}  # roles whose text is worth reading when they have no name


def role_name(number: int) -> str:
    return ROLE_NAMES[number] if 0 <= number < len(ROLE_NAMES) else "unknown"


def state_names(words) -> frozenset[str]:
    bits = sum(int(word) << (32 * i) for i, word in enumerate(words))
    return frozenset(name for i, name in enumerate(STATE_NAMES) if bits >> i & 1)


class Stalled(Exception):
    """An application stopped answering (no reply within the per-call timeout)."""


class Failed(Exception):
    """A D-Bus error reply (the object went away, the interface is missing...)."""


class Bus:
    """A connection to the accessibility bus that sends many calls before reading their answers."""

    def __init__(self, address: str):
        from jeepney.io.blocking import open_dbus_connection

        self.connection = open_dbus_connection(bus=address, auth_timeout=1.0)

    def close(self) -> None:
        self.connection.close()

    def calls(self, requests: list, timeout_s: float) -> list:
        """Each request's reply body, or a Failed for an error reply; Stalled when no answer comes for timeout_s."""
        from jeepney import HeaderFields, MessageType

        results: list = [None] * len(requests)
        for start in range(0, len(requests), BATCH):
            pending = {}
            for index in range(start, min(start + BATCH, len(requests))):
                serial = next(self.connection.outgoing_serial)
                self.connection.send(requests[index], serial=serial)
                pending[serial] = index
            while pending:
                try:
                    message = self.connection.receive(timeout=timeout_s)
                except TimeoutError:
                    raise Stalled(f"no answer for {timeout_s:g}s") from None
                index = pending.pop(message.header.fields.get(HeaderFields.reply_serial, -1), None)
                if index is None:
                    continue  # a signal, or the late answer of an abandoned call
                if message.header.message_type is MessageType.error:
                    results[index] = Failed(str(message.body[0]) if message.body else "error")
                else:
                    results[index] = message.body
        return results


def call(bus_name: str, path: str, interface: str, method: str, signature: str = "", body: tuple = ()):
    from jeepney import DBusAddress, new_method_call

    return new_method_call(DBusAddress(path, bus_name=bus_name, interface=interface), method, signature, body)


def one_property(bus_name: str, path: str, name: str, interface: str = ACCESSIBLE):
    return call(bus_name, path, "org.freedesktop.DBus.Properties", "Get", "ss", (interface, name))


# One Properties.Get each, never GetAll: Qt 5.15's bridge crashes the application on GetAll (measured here: the Qt
# form died with SIGSEGV on the first GetAll), and libatspi asks one property at a time too.
PROPERTIES = ("Name", "Description", "ChildCount")


def bus_address(timeout_s: float) -> str:
    """Where the accessibility bus listens: $AT_SPI_BUS_ADDRESS, else org.a11y.Bus on the session bus."""
    if os.environ.get("AT_SPI_BUS_ADDRESS"):
        return os.environ["AT_SPI_BUS_ADDRESS"]
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        raise Unavailable("no D-Bus session bus ($DBUS_SESSION_BUS_ADDRESS is not set), so no AT-SPI bus")
    from jeepney.io.blocking import open_dbus_connection

    try:
        session = open_dbus_connection(bus="SESSION", auth_timeout=timeout_s)
    except (OSError, TimeoutError, RuntimeError) as exc:
        raise Unavailable(f"cannot reach the D-Bus session bus: {exc}") from None
    try:
        reply = session.send_and_get_reply(call("org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus", "GetAddress"),
                                           timeout=timeout_s)
    except TimeoutError:
        raise Unavailable(f"the session bus did not give the AT-SPI bus address within {timeout_s:g}s") from None
    finally:
        session.close()
    if reply.header.message_type.name == "error" or not reply.body or not reply.body[0]:
        raise Unavailable("no AT-SPI bus on the session bus (at-spi-bus-launcher is not running)")
    return reply.body[0]


@dataclass
class Node:
    bus_name: str
    path: str
    at: tuple[int, ...]  # child indexes from the application root
    depth: int


@dataclass
class App:
    bus_name: str
    name: str
    pid: int | None
    windows: list[Node]
    active: bool


class AtspiBackend(Backend):
    """Keeps its bus connection between walks (the worker lives on), and remembers applications that stopped
    answering so that the next walks do not wait for them again until `retry_s` has passed."""

    name = "at-spi"
    retry_s = 30.0

    def __init__(self) -> None:
        self.bus: Bus | None = None
        self.stalled: dict[str, float] = {}  # bus name -> when it last failed to answer

    def walk(self, limits: Limits, progress: Progress) -> Iterator[Element]:
        if self.bus is None:
            try:
                self.bus = Bus(bus_address(limits.call_timeout_s))
            except (OSError, TimeoutError, RuntimeError) as exc:
                raise Unavailable(f"cannot connect to the AT-SPI bus: {exc}") from None
        try:
            yield from _Walk(self, limits, progress).run()
        except (OSError, Unavailable):
            self.bus.close()  # a broken or vanished bus: the next walk connects afresh
            self.bus = None
            raise

    def skipped(self, bus_name: str) -> bool:
        since = self.stalled.get(bus_name)
        return since is not None and time.monotonic() - since < self.retry_s


class _Walk:
    def __init__(self, backend: AtspiBackend, limits: Limits, progress: Progress):
        self.backend, self.bus, self.limits, self.progress = backend, backend.bus, limits, progress

    def run(self) -> Iterator[Element]:
        apps = self._apps()
        active = [app for app in apps if app.active]
        if self.limits.scope == "active" and active:
            apps = active
        elif self.limits.scope == "active":
            self.progress.note("no window is active: read every application")
        x_windows = x11_windows()
        for app in sorted(apps, key=lambda a: not a.active):
            try:
                yield from self._app(app, x_windows)
            except Stalled as exc:
                self.backend.stalled[app.bus_name] = time.monotonic()
                self.progress.note(f"{app.name or app.bus_name} stopped answering ({exc}); skipped")
            if self.progress.truncated:
                return

    def _apps(self) -> list[App]:
        timeout = self.limits.call_timeout_s
        try:
            [reply] = self.bus.calls([call(*REGISTRY, ACCESSIBLE, "GetChildren")], timeout)
        except Stalled:
            raise Unavailable(f"the AT-SPI registry did not answer within {timeout:g}s") from None
        if isinstance(reply, Failed):
            raise Unavailable(f"the AT-SPI registry failed: {reply}")
        roots = [(name, path) for name, path in reply[0] if name]
        apps = []
        for name, path in roots:
            if self.backend.skipped(name):
                self.progress.note(f"application {name} skipped: it did not answer the last time")
                continue
            # One application at a time: a stalled one costs its own timeout and is skipped, not the whole walk.
            try:
                children, app_name, pid = self.bus.calls(
                    [call(name, path, ACCESSIBLE, "GetChildren"), one_property(name, path, "Name"),
                     call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "GetConnectionUnixProcessID", "s", (name,))],
                    timeout,
                )
            except Stalled:
                self.backend.stalled[name] = time.monotonic()
                self.progress.note(f"application {name} did not answer within {timeout:g}s; skipped")
                continue
            if isinstance(children, Failed):
                continue
            windows = [Node(bus, p, (i,), 1) for i, (bus, p) in enumerate(children[0]) if bus]
            try:
                states = self.bus.calls([call(w.bus_name, w.path, ACCESSIBLE, "GetState") for w in windows], timeout)
            except Stalled:
                self.backend.stalled[name] = time.monotonic()
                self.progress.note(f"application {name} did not answer within {timeout:g}s; skipped")
                continue
            active = any(not isinstance(s, Failed) and "active" in state_names(s[0]) for s in states)
            app_name = "" if isinstance(app_name, Failed) else str(app_name[0][1])
            apps.append(App(name, app_name, None if isinstance(pid, Failed) else int(pid[0]), windows, active))
        return apps

    def _app(self, app: App, x_windows: list[XWindow]) -> Iterator[Element]:
        """The application's showing windows, each walked level by level."""
        windows = self._read(app.windows)
        shown = [(node, info) for node, info in windows if info and "showing" in info.states]
        shown.sort(key=lambda item: "active" not in item[1].states)
        # The toolkit's scale, measured on the windows X11 can identify, holds for its popups that X11 cannot name.
        matched = {id(node): match_window(info.name, app.pid, info.box, x_windows)
                   for node, info in shown if info.box is not None}
        scales = [scale_between(shown_info.box, window.box) for (node, shown_info) in shown
                  if (window := matched.get(id(node))) is not None]
        app_scale = max(scales, default=1.0)
        for node, info in shown:
            if info.box is None:
                continue
            to_screen = correction(info.box, matched.get(id(node)), app_scale)
            yield from self._window(app, node, info, to_screen)
            if self.progress.truncated:
                return

    def _window(self, app: App, window: Node, info: _Info, to_screen: Transform) -> Iterator[Element]:
        limits, progress = self.limits, self.progress
        bounds = to_screen.apply_box(info.box)
        level = [(window, info)]
        while level:
            for node, node_info in level:
                element = self._element(app, node, node_info, info.name, to_screen, bounds)
                if element is not None:
                    yield element
            parents = [(node, node_info) for node, node_info in level if self._descend(node, node_info)]
            if not parents:
                return
            if parents[0][0].depth >= limits.max_depth:
                progress.truncated = f"depth cap {limits.max_depth}"
                return
            children = self._children([node for node, _ in parents])
            if progress.nodes + len(children) > limits.max_nodes:
                children = children[: max(0, limits.max_nodes - progress.nodes)]
                progress.truncated = f"node cap {limits.max_nodes}"
            level = [(node, node_info) for node, node_info in self._read(children) if node_info is not None]
            if progress.truncated:
                for node, node_info in level:
                    element = self._element(app, node, node_info, info.name, to_screen, bounds)
                    if element is not None:
                        yield element
                return

    def _descend(self, node: Node, info: _Info) -> bool:
        if "showing" not in info.states or info.child_count <= 0:
            return False
        if "manages-descendants" in info.states or info.child_count > self.limits.max_children:
            self.progress.note(f"not read: the {info.child_count} children of {info.role} {info.name!r}")
            return False
        return True

    def _children(self, parents: list[Node]) -> list[Node]:
        replies = self.bus.calls([call(n.bus_name, n.path, ACCESSIBLE, "GetChildren") for n in parents],
                                 self.limits.call_timeout_s)
        children = []
        for parent, reply in zip(parents, replies):
            if isinstance(reply, Failed):
                continue
            children += [Node(bus, path, (*parent.at, i), parent.depth + 1)
                         for i, (bus, path) in enumerate(reply[0]) if bus and path != "/org/a11y/atspi/null"]
        return children

    def _read(self, nodes: list[Node]) -> list[tuple[Node, _Info | None]]:
        """Role, states, name, description, child count and screen extents of each node: six calls per node, all
        in flight together."""
        requests = []
        for n in nodes:
            requests += [
                call(n.bus_name, n.path, ACCESSIBLE, "GetRole"),
                call(n.bus_name, n.path, ACCESSIBLE, "GetState"),
                call(n.bus_name, n.path, COMPONENT, "GetExtents", "u", (SCREEN_COORDS,)),
                *(one_property(n.bus_name, n.path, name) for name in PROPERTIES),
            ]
        per_node = 3 + len(PROPERTIES)
        replies = self.bus.calls(requests, self.limits.call_timeout_s)
        self.progress.nodes += len(nodes)
        read = []
        for i, node in enumerate(nodes):
            role, state, extents, name, description, child_count = replies[per_node * i: per_node * (i + 1)]
            if any(isinstance(r, Failed) for r in (role, state, name, child_count)):
                read.append((node, None))
                continue
            box = None
            if not isinstance(extents, Failed):
                x, y, w, h = extents[0]
                box = Box.from_xywh(x, y, w, h) if w > 0 and h > 0 else None
            read.append((node, _Info(
                role=role_name(int(role[0])),
                states=state_names(state[0]),
                name=str(name[0][1] or ""),
                description="" if isinstance(description, Failed) else str(description[0][1] or ""),
                child_count=int(child_count[0][1] or 0),
                box=box,
            )))
        self._read_texts([(node, info) for node, info in read if info is not None and _wants_text(info)])
        return read

    def _read_texts(self, fields: list[tuple[Node, _Info]]) -> None:
        if not fields:
            return
        replies = self.bus.calls(
            [call(n.bus_name, n.path, TEXT, "GetText", "ii", (0, 200)) for n, _ in fields], self.limits.call_timeout_s
        )
        for (_, info), reply in zip(fields, replies):
            if not isinstance(reply, Failed):
                info.text = str(reply[0]).strip()

    def _element(self, app: App, node: Node, info: _Info, window: str, to_screen: Transform, bounds: Box) -> Element | None:
        if info.box is None:
            return None
        box = to_screen.apply_box(info.box)
        inside = box.intersection(bounds)
        # Boxes outside their window (scrolled away, stale) are dropped; ones that spill over are cut to it.
        if inside is None or inside.width < 1 or inside.height < 1:
            return None
        states = info.states | ({"enabled"} if "sensitive" in info.states else frozenset())
        if not keep(info.name, info.text, inside, states, self.limits.region):
            return None
        return Element(
            role=info.role, kinds=ATSPI.get(info.role, ()), name=info.name, box=inside,
            description=info.description, text=info.text, states=info.states, app=app.name, window=window,
            path=node.at,
        )


@dataclass
class _Info:
    role: str
    states: frozenset[str]
    name: str
    description: str
    child_count: int
    box: Box | None
    text: str = ""


def _wants_text(info: _Info) -> bool:
    kinds = ATSPI.get(info.role, ())
    return not info.name and bool(FIELD_KINDS.intersection(kinds)) and "showing" in info.states
