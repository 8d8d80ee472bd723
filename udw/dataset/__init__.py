"""Building datasets: importing images, and (later stages) metadata, captions, arrangement, export."""

from .ingest import ImportReport, import_images

__all__ = ["ImportReport", "import_images"]
