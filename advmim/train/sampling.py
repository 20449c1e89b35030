"""Deterministic two-stream batch sampling: batch indices are a pure function of (seed, iteration).

Resuming at iteration k therefore needs no sampler state, and an interrupted run continues with
exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import numpy as np

from advmim.blocks.seeding import derive_seed


class EpochSampler:
    """Shuffled epochs over ``n`` items, sliced into batches of ``batch`` (wrapping epochs)."""

    def __init__(self, n: int, batch: int, seed: int, stream: str):
        if n < 1:
            raise ValueError(f"stream {stream!r} has no items to sample")
        self.n, self.batch, self.seed, self.stream = n, batch, seed, stream
        self._cache: dict[int, np.ndarray] = {}

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._cache:
            if len(self._cache) > 4:
                self._cache.clear()
            rng = np.random.default_rng(derive_seed(self.seed, self.stream, "epoch", epoch))
            self._cache[epoch] = rng.permutation(self.n)
        return self._cache[epoch]

    def indices(self, iteration: int) -> list[int]:
        start = iteration * self.batch
        out = []
        for pos in range(start, start + self.batch):
            epoch, offset = divmod(pos, self.n)
            out.append(int(self._perm(epoch)[offset]))
        return out

    def sample_rngs(self, iteration: int) -> list[np.random.Generator]:
        """One augmentation generator per batch slot."""
        return [
            np.random.default_rng(derive_seed(self.seed, self.stream, "aug", iteration, slot))
            for slot in range(self.batch)
        ]
