"""Table groups (row order and titles) shared by the table model, the statistics and the figures."""

from __future__ import annotations

GROUP_ORDER = ["lower", "semi", "ours", "upper"]
GROUP_TITLE = {"lower": "Supervised (labeled only)", "semi": "Semi-supervised",
               "ours": "Ours", "upper": "Fully supervised"}
