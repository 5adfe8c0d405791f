"""`python -m generator generate|replay ...` (jobs.py registers the same two commands)."""

import typer

from generator.cli import generate, replay

app = typer.Typer(add_completion=False, no_args_is_help=True)
app.command()(generate)
app.command()(replay)

if __name__ == "__main__":
    app()
