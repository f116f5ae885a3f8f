"""The access map (written below)."""
