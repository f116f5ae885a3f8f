"""The plan map (written below)."""
