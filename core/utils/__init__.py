"""core.utils."""
