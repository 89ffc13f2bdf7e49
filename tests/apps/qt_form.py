"""A Qt 5 window (run it with a Python that has PyQt5: Debian's /usr/bin/python3 with python3-pyqt5) that reports on
stdout which of its controls received what, for the accessibility tests. Qt publishes its tree over AT-SPI only with
QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1 (or a screen reader running).

    clicked LABEL | toggled LABEL on|off | tab LABEL | menu LABEL | ready
"""

import sys

from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import (
    QApplication, QCheckBox, QHBoxLayout, QMainWindow, QPushButton, QTabWidget, QVBoxLayout, QWidget,
)


def report(line: str) -> None:
    print(line, flush=True)


def main() -> None:
    app = QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("screenground Qt form")
    window.move(300, 60)

    menu = window.menuBar().addMenu("File")
    for item in ("Open", "Quit"):
        menu.addAction(item).triggered.connect(lambda _c=False, i=item: report(f"menu {i}"))
    toolbar = window.addToolBar("Main")
    toolbar.addAction("Refresh").triggered.connect(lambda: report("clicked Refresh"))

    tabs = QTabWidget()
    for name, boxes in (("General", ("Wrap lines", "Show hidden files")), ("Advanced", ("Use proxy",))):
        page = QWidget()
        layout = QVBoxLayout(page)
        for label in boxes:
            check = QCheckBox(label)
            check.toggled.connect(lambda on, l=label: report(f"toggled {l} {'on' if on else 'off'}"))
            layout.addWidget(check)
        tabs.addTab(page, name)
    tabs.currentChanged.connect(lambda i: report(f"tab {tabs.tabText(i)}"))

    central = QWidget()
    column = QVBoxLayout(central)
    column.addWidget(tabs)
    row = QHBoxLayout()
    for label in ("Cancel", "Apply"):
        button = QPushButton(label)
        button.clicked.connect(lambda _c=False, l=label: report(f"clicked {l}"))
        row.addWidget(button)
    column.addLayout(row)
    window.setCentralWidget(central)
    window.resize(360, 260)
    window.show()
    QTimer.singleShot(300, lambda: report("ready"))
    app.exec_()


if __name__ == "__main__":
    main()
