"""The ``hub`` command line: one module per group of commands, gathered in ``hub.cli.main``."""
