"""A Tk window that reports on stdout which of its clearly labelled widgets received what.

Used by the desktop-agent tests: the printed lines tell which widget a click, key or hover really reached.
    pressed LABEL          a button was clicked (the window then closes, as a dialog would; exit code 0)
    right-clicked LABEL    a button got a right click
    double-clicked Open report
    hovered Hover here
    typed TEXT             Return in the entry (which starts out holding "Search")
    pressed ctrl+s
Usage: python3 buttons.py [--delay SECONDS] [LABEL ...]   (default labels: Discard Cancel Apply)
"""

import argparse
import tkinter as tk

FONT = ("DejaVu Sans", 22)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.0, help="show the window only after this many seconds")
    parser.add_argument("labels", nargs="*", default=["Discard", "Cancel", "Apply"])
    args = parser.parse_args()

    root = tk.Tk()
    root.title("screenground test app")
    root.geometry("+120+100")
    root.withdraw()

    def report(line: str) -> None:
        print(line, flush=True)

    def pressed(label: str) -> None:
        report(f"pressed {label}")
        root.destroy()

    for column, label in enumerate(args.labels):
        button = tk.Button(root, text=label, font=FONT, width=9, command=lambda name=label: pressed(name))
        button.bind("<Button-3>", lambda _e, name=label: report(f"right-clicked {name}"))
        button.grid(row=0, column=column, padx=30, pady=30)

    opener = tk.Label(root, text="Open report", font=FONT, relief=tk.GROOVE, padx=10)
    opener.bind("<Double-Button-1>", lambda _e: report("double-clicked Open report"))
    opener.grid(row=1, column=0, padx=30, pady=30)
    hover = tk.Label(root, text="Hover here", font=FONT, padx=10)
    hover.bind("<Enter>", lambda _e: report("hovered Hover here"))
    hover.grid(row=1, column=1, padx=30, pady=30)
    entry = tk.Entry(root, font=FONT, width=12)
    entry.insert(0, "Search")
    entry.bind("<Return>", lambda _e: report(f"typed {entry.get()}"))
    entry.grid(row=1, column=2, padx=30, pady=30)
    root.bind_all("<Control-s>", lambda _e: report("pressed ctrl+s"))

    def show() -> None:
        root.deiconify()
        root.wait_visibility()
        root.update()
        report("ready")  # mapped and drawn: tests wait for this line before looking at the screen

    root.after(int(args.delay * 1000), show)
    root.mainloop()


if __name__ == "__main__":
    main()
