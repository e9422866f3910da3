"""Building blocks that sit beside the web layer: caches today."""
