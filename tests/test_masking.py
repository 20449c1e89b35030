"""Block-mask generator: exact counts, block structure, randomness, errors."""

import math

import pytest
import torch

from advmim.models.masking import (
    block_mask,
    coarse_mask,
    expand_mask,
    num_masked,
    scaled_block,
    to_grid,
    token_block_mask,
)


@pytest.mark.parametrize("ratio", [0.3, 0.5, 0.7, 0.9])
@pytest.mark.parametrize("block", [16, 32, 64])
def test_exact_block_count_per_sample(ratio, block):
    size = 128
    n = (size // block) ** 2
    m = block_mask(5, size, size, block, ratio, generator=torch.Generator().manual_seed(0))
    assert m.shape == (5, 1, size, size) and m.dtype == torch.float32
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    blocks = to_grid(m, size // block, size // block)  # raises if not block-aligned
    assert blocks.sum(dim=(1, 2, 3)).tolist() == [math.ceil(ratio * n)] * 5
    assert m.sum(dim=(1, 2, 3)).tolist() == [math.ceil(ratio * n) * block * block] * 5


def test_paper_setting_masks_35_of_49_blocks():
    m = block_mask(3, 224, 224, 32, 0.7)
    assert (m.sum(dim=(1, 2, 3)) / 32**2).tolist() == [35.0] * 3


def test_num_masked_is_robust_to_float_noise():
    assert num_masked(10, 0.7) == 7  # 0.7 * 10 == 7.000000000000001 in floating point
    assert num_masked(49, 0.7) == 35
    assert num_masked(16, 0.0) == 0 and num_masked(16, 1.0) == 16
    with pytest.raises(ValueError):
        num_masked(16, 1.5)


def test_masks_differ_between_samples_and_calls_and_are_seedable():
    a = block_mask(8, 64, 64, 16, 0.5)
    b = block_mask(8, 64, 64, 16, 0.5)
    assert not torch.equal(a, b)
    assert any(not torch.equal(a[0], a[i]) for i in range(1, 8))
    s1 = block_mask(4, 64, 64, 16, 0.5, generator=torch.Generator().manual_seed(7))
    s2 = block_mask(4, 64, 64, 16, 0.5, generator=torch.Generator().manual_seed(7))
    assert torch.equal(s1, s2)


def test_token_mask_matches_pixel_mask():
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    pix = block_mask(2, 64, 96, 32, 0.7, generator=g1)
    tok = token_block_mask(2, 64, 96, 32, 4, 0.7, generator=g2)
    assert tok.shape == (2, 1, 16, 24)
    assert torch.equal(to_grid(pix, 16, 24), tok)
    assert torch.equal(to_grid(tok, 64, 96), pix)


def test_expand_mask_and_coarse_mask():
    c = coarse_mask(2, 2, 3, 0.5)
    assert c.shape == (2, 1, 2, 3) and c.sum().item() == 6
    e = expand_mask(c, 4)
    assert e.shape == (2, 1, 8, 12) and torch.equal(e[..., ::4, ::4], c)


def test_block_that_does_not_divide_the_image_is_cropped():
    m = block_mask(2, 100, 96, 32, 0.7, generator=torch.Generator().manual_seed(0))
    assert m.shape == (2, 1, 100, 96)  # a 4 x 3 grid of 32-px blocks, the last row cropped
    assert torch.equal(m[:, :, :32, :32], m[:, :, :1, :1].expand(-1, -1, 32, 32))
    t = token_block_mask(2, 224, 224, 64, 4, 0.7, generator=torch.Generator().manual_seed(0))
    assert t.shape == (2, 1, 56, 56)


def test_scaled_block_keeps_the_fraction_of_the_image():
    assert [scaled_block(b, 224, 4) for b in (16, 32, 64)] == [16, 32, 64]
    assert [scaled_block(b, 64, 4) for b in (16, 32, 64)] == [4, 8, 20]
    assert scaled_block(32, 96, 4) == 12 and scaled_block(8, 64, 4) == 4  # never below a token
    with pytest.raises(ValueError, match="positive"):
        scaled_block(0, 224, 4)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="multiple of the patch"):
        token_block_mask(1, 64, 64, 2, 4, 0.7)
    with pytest.raises(ValueError, match="smaller than"):
        to_grid(block_mask(1, 64, 64, 2, 0.5), 16, 16)
