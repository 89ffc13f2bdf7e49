"""An "application" that joins the AT-SPI registry and then never answers a question about its tree: the hung app
a walk must survive. Prints "ready" once registered; runs until killed. Needs jeepney and the session's
DBUS_SESSION_BUS_ADDRESS (the AT-SPI bus address is asked from org.a11y.Bus there)."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jeepney.io.blocking import open_dbus_connection  # noqa: E402

from agent.a11y.atspi import ROOT_PATH, bus_address, call  # noqa: E402


def main() -> None:
    connection = open_dbus_connection(bus=bus_address(5.0))
    embed = call("org.a11y.atspi.Registry", ROOT_PATH, "org.a11y.atspi.Socket", "Embed", "(so)",
                 ((connection.unique_name, ROOT_PATH),))
    connection.send_and_get_reply(embed, timeout=5.0)
    print("ready", flush=True)
    while True:  # questions arrive and are never answered
        time.sleep(3600)


if __name__ == "__main__":
    main()
