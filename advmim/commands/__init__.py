"""Sub-commands of the ``advmim`` CLI, discovered by :mod:`advmim.cli` (one module each)."""


def positive_int(text: str) -> int:
    """argparse type of counts such as ``--threads``: an integer >= 1 (else exit 2 naming it)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value
