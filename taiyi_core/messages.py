"""One-line error messages for the terminal, printed as plain text.

Messages quote file names, YAML keys and user values; printed as rich markup, ``[...]`` would be
read as a style and ``:train:`` as an emoji (a preset key became a train emoji). They are Text.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text


def error_text(message: str) -> Text:
    return Text.assemble(("error: ", "bold red"), message)


def print_error(console: Console, message: str) -> None:
    console.print(error_text(message), highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """``error: <message>`` on stderr; returns the Exit for a command to raise (``raise fail(...)``)."""
    print_error(Console(stderr=True), message)
    return typer.Exit(code)
