"""The grounding subcommands of `ground` (locate, eval, models, serve) and the model/zoom options they share.

Each subcommand module has `HELP`, `configure(parser)` and `run(args) -> int`, and imports only argparse-level things
at the top, so `ground --help` starts fast and works without a display. The dispatcher is `agent.cli`.
"""
