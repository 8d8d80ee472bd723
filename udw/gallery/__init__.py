"""Looking at images: grids, thumbnails, gallery pages, generation metadata."""

from .grid import make_grid, dataset_grid

__all__ = ["make_grid", "dataset_grid"]
