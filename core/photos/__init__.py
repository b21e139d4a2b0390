"""core.photos."""
