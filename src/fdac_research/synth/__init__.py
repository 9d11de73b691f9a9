"""Synthetic releases of the research dataset (placeholder; filled below)."""
