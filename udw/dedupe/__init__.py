"""Near-duplicate detection: cheap signatures (shared with frame extraction) and dataset dedupe."""
