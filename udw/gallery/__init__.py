"""Looking at images: grids, thumbnails, gallery pages, generation metadata, the dataset browser."""

from .browser import BrowserService
from .export import export_gallery
from .geninfo import GenerationInfo
from .grid import dataset_grid, make_grid
from .meta_write import save_image
from .metadata import ImageMeta, read_metadata
from .query import Filter
from .thumbs import ThumbCache

__all__ = ["make_grid", "dataset_grid", "ThumbCache", "GenerationInfo", "ImageMeta", "read_metadata",
           "save_image", "export_gallery", "Filter", "BrowserService"]
