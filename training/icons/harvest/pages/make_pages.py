"""Pages and data of the PyPI web applications, written into the harvest's web folder (run with their Python).

    python make_pages.py WEB_FOLDER
"""

import sys
from pathlib import Path

import numpy as np

web = Path(sys.argv[1])
rng = np.random.default_rng(0)

# Bokeh: a plot with its full toolbar, as a standalone page with the library inlined.
from bokeh.embed import file_html  # noqa: E402
from bokeh.layouts import row  # noqa: E402
from bokeh.plotting import figure  # noqa: E402
from bokeh.resources import INLINE  # noqa: E402

tools = ("pan,wheel_zoom,box_zoom,zoom_in,zoom_out,box_select,lasso_select,poly_select,tap,hover,crosshair,undo,redo,"
         "reset,save,help")
left = figure(title="Sales", tools=tools, width=700, height=500)
left.scatter(rng.normal(size=200), rng.normal(size=200), size=8)
right = figure(title="Trend", tools=tools, width=700, height=500, toolbar_location="above")
right.line(np.arange(100), np.cumsum(rng.normal(size=100)))
(web / "bokeh.html").write_text(file_html(row(left, right), INLINE, "Bokeh"))

# Plotly: charts with their mode bar always shown, the library inlined.
import plotly.graph_objects as go  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

chart = make_subplots(rows=1, cols=2)
chart.add_trace(go.Scatter(x=rng.normal(size=100), y=rng.normal(size=100), mode="markers"), 1, 1)
chart.add_trace(go.Bar(x=list("abcdef"), y=rng.integers(1, 10, 6)), 1, 2)
chart.write_html(web / "plotly.html", include_plotlyjs=True, full_html=True, config={
    "displayModeBar": True, "displaylogo": False, "modeBarButtonsToAdd": ["drawline", "drawrect", "eraseshape"]})

# Optuna: a study for the dashboard to show.
import optuna  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = f"sqlite:///{web / 'optuna.db'}"
study = optuna.create_study(study_name="tuning", storage=storage, load_if_exists=True, direction="minimize")
if not study.trials:
    study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2 + t.suggest_int("depth", 1, 8), n_trials=30)

# MkDocs Material: a small documentation site.
site = web / "mkdocs"
(site / "docs").mkdir(parents=True, exist_ok=True)
(site / "mkdocs.yml").write_text(
    "site_name: Handbook\ntheme:\n  name: material\n  features: [navigation.tabs, search.suggest, content.code.copy,"
    " content.action.edit]\n  palette:\n    - scheme: default\n"
    "      toggle: {icon: material/weather-night, name: Dark mode}\n"
    "    - scheme: slate\n      toggle: {icon: material/weather-sunny, name: Light mode}\nrepo_url: http://127.0.0.1/repo\n"
    "edit_uri: edit/main/docs/\nplugins: [search]\nnav: [index.md, setup.md]\n")
(site / "docs" / "index.md").write_text("# Handbook\n\nWelcome.\n\n```python\nprint('hello')\n```\n")
(site / "docs" / "setup.md").write_text("# Setup\n\nInstall it.\n")

# Locust: a load test for its web UI.
(web / "locustfile.py").write_text(
    "from locust import HttpUser, task\n\n\nclass Visitor(HttpUser):\n    @task\n    def home(self):\n"
    "        self.client.get('/')\n")
