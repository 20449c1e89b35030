"""Show tables in the terminal with rich."""

from __future__ import annotations


def print_markdown(text: str) -> None:
    from rich.console import Console
    from rich.markdown import Markdown

    Console().print(Markdown(text))
