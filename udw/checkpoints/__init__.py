"""Checkpoints: streamed reading, architecture detection, hashes, inspection, lineage, LoRAs."""
