"""core.models.bases."""
