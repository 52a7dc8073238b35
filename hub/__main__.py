"""`python -m hub`: the same as the `hub` command."""

from .cli import app

app()
