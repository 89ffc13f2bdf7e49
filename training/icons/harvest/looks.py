"""What users vary about how an application looks: widget theme, icon theme, scale, window size.

A look becomes environment variables plus settings files in the application's fresh home directory: GTK reads
gtk-3.0/settings.ini (and GTK_THEME, GDK_SCALE), Qt 5 reads qt5ct's configuration through QT_QPA_PLATFORMTHEME,
KDE applications also read kdeglobals; web pages get the scale as the browser's device scale factor and dark pages
through prefers-color-scheme.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

# GTK themes Debian installs (gnome-themes-extra, arc-theme, numix-gtk-theme, materia-gtk-theme, greybird-gtk-theme),
# HighContrast being built into GTK 3. Each: (name, dark).
GTK_THEMES = (
    ("Adwaita", False), ("Adwaita:dark", True), ("HighContrast", False), ("HighContrastInverse", True),
    ("Arc", False), ("Arc-Dark", True), ("Numix", False), ("Materia", False), ("Materia-dark", True),
    ("Greybird", False), ("Greybird-dark", True),
)
# Freedesktop icon themes Debian installs; dark variants for dark widget themes where the theme has one.
ICON_THEMES = {
    False: ("Adwaita", "Papirus", "breeze", "elementary-xfce", "Tango", "Numix", "oxygen", "ePapirus"),
    True: ("Adwaita", "Papirus-Dark", "breeze-dark", "elementary-xfce-dark", "Numix", "ePapirus-Dark"),
}
QT_STYLES = ("Fusion", "Windows")
QT5CT_COLOURS = {False: "", True: "/usr/share/qt5ct/colors/darker.conf"}
SIZES = ((1280, 800), (1600, 900), (1920, 1080), (1366, 768))  # logical window sizes


@dataclass(frozen=True)
class Look:
    theme: str
    dark: bool
    icons: str
    scale: int  # 1 or 2: device pixels per logical pixel
    size: tuple[int, int]  # logical window size
    qt_style: str = "Fusion"

    @property
    def name(self) -> str:
        return f"{self.theme.replace(':', '-')}_{self.icons}_x{self.scale}_{self.size[0]}x{self.size[1]}"

    def distinct(self, web: bool) -> tuple:
        """What makes two looks differ for a desktop application, or for a web page."""
        return (self.dark, self.scale, self.size) if web else (self.theme, self.icons, self.scale, self.size)

    def environment(self, home: Path) -> dict[str, str]:
        """Variables for an application started in `home`, after writing the settings files this look needs."""
        config = home / ".config"
        (config / "gtk-3.0").mkdir(parents=True, exist_ok=True)
        theme, _, variant = self.theme.partition(":")
        (config / "gtk-3.0" / "settings.ini").write_text(
            f"[Settings]\ngtk-theme-name={theme}\ngtk-icon-theme-name={self.icons}\n"
            f"gtk-application-prefer-dark-theme={'true' if variant == 'dark' else 'false'}\n")
        (home / ".gtkrc-2.0").write_text(f'gtk-theme-name="{theme}"\ngtk-icon-theme-name="{self.icons}"\n')
        (config / "qt5ct").mkdir(exist_ok=True)
        colours = QT5CT_COLOURS[self.dark]
        (config / "qt5ct" / "qt5ct.conf").write_text(
            f"[Appearance]\nicon_theme={self.icons}\nstyle={self.qt_style}\n"
            f"custom_palette={'true' if colours else 'false'}\ncolor_scheme_path={colours}\n")
        (config / "kdeglobals").write_text(f"[Icons]\nTheme={self.icons}\n")
        return {
            "GTK_THEME": self.theme,
            "GDK_SCALE": str(self.scale),
            "QT_SCALE_FACTOR": str(self.scale),
            "QT_QPA_PLATFORMTHEME": "qt5ct",
            "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
            "XDG_CONFIG_HOME": str(config),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "LANG": "C.UTF-8",
            "GSETTINGS_BACKEND": "keyfile",  # settings in the fresh home, not in a dconf database shared by all
        }


def looks(app_name: str, count: int, web: bool = False, seed: int = 0) -> list[Look]:
    """`count` looks for one application, drawn from every theme, icon theme, scale and size, the same for the same
    application and seed; the first is the default look (Adwaita, scale 1). A web page only tells light from dark,
    so its looks differ in that, the scale or the size."""
    rng = random.Random(f"{app_name}/{seed}")
    drawn = [Look("Adwaita", False, "Adwaita", 1, (1600, 900))]
    distinct = {drawn[0].distinct(web)}
    for _ in range(100 * count):
        if len(drawn) >= count:
            break
        theme, dark = rng.choice(GTK_THEMES)
        look = Look(theme, dark, rng.choice(ICON_THEMES[dark]), rng.choice((1, 1, 2)), rng.choice(SIZES),
                    rng.choice(QT_STYLES))
        if look.distinct(web) not in distinct:
            drawn.append(look)
            distinct.add(look.distinct(web))
    return drawn
