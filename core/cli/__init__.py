"""core.cli."""
