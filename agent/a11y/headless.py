"""The pieces of a headless Linux desktop whose applications publish their accessibility trees: an Xvfb screen, a
private D-Bus session bus, the AT-SPI bus, and the bus address on the X root window where Qt 5 looks for it.

Used by the tests' throwaway desktops and by icon harvesting; a script driving apps under Xvfb can use them too.
Each starter returns the process it started; stopping it is the caller's job.
"""

from __future__ import annotations

import os
import select
import subprocess
from pathlib import Path

LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
# A session bus that activates no services: no desktop portal or dconf gets started, nothing outlives the session.
_SESSION_BUS_CONFIG = (
    "<busconfig><type>session</type><listen>unix:dir={dir}</listen><auth>EXTERNAL</auth>"
    '<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>'
    '<allow own="*"/></policy></busconfig>'
)


def start_xvfb(screen: tuple[int, int], extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str, int]:
    """An Xvfb server on a free display; returns (process, ':N', the read end Xvfb must keep open).

    -displayfd: Xvfb picks a free display number itself and writes it once it accepts connections. -noreset: by
    default the server resets when its last client disconnects, which forgets the root window's properties (the
    AT-SPI bus address) and the RandR monitors set on it."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{screen[0]}x{screen[1]}x24", "-nolisten", "tcp",
         "-noreset", *extra],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    number = b""
    while not number.endswith(b"\n") and select.select([read_end], [], [], 20)[0]:
        chunk = os.read(read_end, 64)
        if not chunk:
            break
        number += chunk
    if not number.strip().isdigit():
        server.kill()
        os.close(read_end)
        raise RuntimeError("Xvfb did not start")
    return server, f":{number.decode().strip()}", read_end


def start_session_bus(runtime: Path) -> tuple[subprocess.Popen, str]:
    """A D-Bus session bus listening in `runtime` (a private directory); returns (process, its address)."""
    config = runtime / "session.conf"
    config.write_text(_SESSION_BUS_CONFIG.format(dir=runtime))
    bus = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = bus.stdout.readline().strip()
    if not address:
        bus.kill()
        raise RuntimeError("dbus-daemon did not start")
    return bus, address


def start_atspi_bus() -> subprocess.Popen:
    """The AT-SPI bus on the session bus of this process's environment (the registry starts on demand)."""
    os.environ.pop("AT_SPI_BUS_ADDRESS", None)
    return subprocess.Popen([LAUNCHER, "--launch-immediately"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def publish_bus_on_display(address: str) -> None:
    """Put the AT-SPI bus address on the X root window (AT_SPI_BUS), where at-spi-bus-launcher puts it in a desktop
    session: Qt 5 reads it there and connects at once. Without it Qt 5.15 learns the address from the session bus
    only, and its bridge then often connects but never exports its tree (measured: 7 of 12 fresh starts, the app on
    the accessibility bus with no root object, nothing on stderr). The property lives only as long as the X server
    does not reset (-noreset), so it is checked, not assumed."""
    if bus_on_display() == address:
        return
    subprocess.run(["xprop", "-root", "-f", "AT_SPI_BUS", "8s", "-set", "AT_SPI_BUS", address],
                   check=True, timeout=10, capture_output=True)
    if bus_on_display() != address:
        raise RuntimeError("the AT-SPI bus address did not stay on the X root window (did the X server reset?)")


def bus_on_display() -> str | None:
    shown = subprocess.run(["xprop", "-root", "AT_SPI_BUS"], capture_output=True, text=True, timeout=10).stdout
    return shown.split("=", 1)[1].strip().strip('"') if "=" in shown else None
