"""``python -m tools.cli``: the innspill command."""

from tools.cli.main import app

app()
