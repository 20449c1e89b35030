"""Sub-commands of the ``advmim`` CLI, discovered by :mod:`advmim.cli` (one module each)."""
