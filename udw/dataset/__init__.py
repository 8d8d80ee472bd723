"""Building datasets: import, seed-format metadata and captions, arrangement, balancing, export."""

from .arrange import ArrangeReport, ArrangeSettings, arrange
from .balance import Balance, compute as compute_balance, table as balance_table
from .captions import CaptionSettings, render as render_caption
from .export import ExportReport, ExportSettings, run_export
from .ingest import ImportReport, import_images
from .metadata import ItemMeta, MetaSettings, collect

__all__ = ["ArrangeReport", "ArrangeSettings", "Balance", "CaptionSettings", "ExportReport", "ExportSettings",
           "ImportReport", "ItemMeta", "MetaSettings", "arrange", "balance_table", "collect", "compute_balance",
           "import_images", "render_caption", "run_export"]
