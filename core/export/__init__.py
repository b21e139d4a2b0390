"""core.export.bundle."""
