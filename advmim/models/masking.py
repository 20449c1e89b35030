"""SimMIM-style random block masks (exact masked-block count per sample).

Block sizes in the configuration are pixels at the paper's 224-px input (``REFERENCE_SIZE``):
:func:`scaled_block` turns them into pixels at the run's input size, so one ablation definition
(blocks of 16 / 32 / 64 px) means the same fraction of the image at every size. A block that
does not divide the image makes a ceil-sized grid whose last row and column are cropped.
"""

from __future__ import annotations

import math

import torch


def num_masked(n_blocks: int, ratio: float) -> int:
    """Blocks to mask: ``ceil(ratio * n_blocks)`` (tolerant to float noise, e.g. 0.7 * 10)."""
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"mask ratio must be in [0, 1], got {ratio}")
    return min(n_blocks, math.ceil(round(ratio * n_blocks, 9)))


REFERENCE_SIZE = 224  # the paper's input size, in which mask block sizes are given


def scaled_block(block_at_reference: float, img_size: int, multiple: int = 1) -> int:
    """Pixels at ``img_size`` of a block given in pixels at 224 px, rounded to the nearest
    positive multiple of ``multiple`` (the Swin-UNet patch size, so blocks cover whole tokens)."""
    if block_at_reference <= 0:
        raise ValueError(f"mask block must be positive, got {block_at_reference}")
    px = block_at_reference * img_size / REFERENCE_SIZE
    return max(multiple, multiple * round(px / multiple))


def _grid(size: int, block: int) -> int:
    """Blocks along one side: ``ceil(size / block)`` (the last one cropped when partial)."""
    if block <= 0:
        raise ValueError(f"mask block must be positive, got {block}")
    return -(-size // block)


def coarse_mask(
    batch: int,
    rows: int,
    cols: int,
    ratio: float,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """(B, 1, rows, cols) {0,1} float mask with exactly ``num_masked`` ones per sample."""
    n = rows * cols
    k = num_masked(n, ratio)
    noise_device = generator.device if generator is not None else device
    noise = torch.rand(batch, n, generator=generator, device=noise_device)
    idx = noise.argsort(dim=1)[:, :k]
    mask = torch.zeros(batch, n, device=noise_device)
    mask.scatter_(1, idx, 1.0)
    return mask.view(batch, 1, rows, cols).to(device)


def expand_mask(mask: torch.Tensor, factor: int) -> torch.Tensor:
    """Nearest-upsample a (B, 1, h, w) mask by an integer factor (each cell -> factor^2)."""
    if factor < 1:
        raise ValueError(f"upsampling factor must be >= 1, got {factor}")
    return mask.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)


def block_mask(
    batch: int,
    height: int,
    width: int,
    block: int,
    ratio: float,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Pixel mask (B, 1, height, width): ``ceil(ratio * n_blocks)`` random block x block squares."""
    rows, cols = _grid(height, block), _grid(width, block)
    mask = expand_mask(coarse_mask(batch, rows, cols, ratio, generator, device), block)
    return mask[..., :height, :width]


def token_block_mask(
    batch: int,
    height: int,
    width: int,
    block: int,
    patch: int,
    ratio: float,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Block mask on the token grid (B, 1, height/patch, width/patch); ``block`` is in pixels."""
    if block < patch or block % patch:
        raise ValueError(
            f"mask block {block} px must be a positive multiple of the patch size {patch} px"
        )
    rows, cols = _grid(height, block), _grid(width, block)
    coarse = coarse_mask(batch, rows, cols, ratio, generator, device)
    return expand_mask(coarse, block // patch)[..., : height // patch, : width // patch]


def to_grid(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resample a (B, 1, h, w) block mask to a grid that is an integer multiple or divisor.

    Downsampling (e.g. pixels -> tokens) requires every cell to be fully masked or unmasked,
    i.e. the mask block must be a multiple of the cell size; otherwise a ValueError is raised.
    """
    h, w = mask.shape[-2:]
    if height >= h:
        f = height // h
        if height % h or width != w * f:
            raise ValueError(f"cannot upsample a {h}x{w} mask to {height}x{width}")
        return expand_mask(mask, f)
    f = h // height
    if h % height or w != width * f:
        raise ValueError(f"cannot downsample a {h}x{w} mask to {height}x{width}")
    cells = mask.reshape(*mask.shape[:-2], height, f, width, f)
    lo, hi = cells.amin(dim=(-3, -1)), cells.amax(dim=(-3, -1))
    if not torch.equal(lo, hi):
        raise ValueError(f"mask blocks are smaller than the {f}x{f} cells of the target grid")
    return hi
