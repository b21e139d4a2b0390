"""core.classroom.serve."""
