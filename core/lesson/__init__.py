"""core.lesson."""
