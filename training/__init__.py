"""How the shipped models are made: run from a checkout (`python3 -m training.icons all`); not part of the package."""
