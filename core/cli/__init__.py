"""The command lines: ``python -m core.train`` (with ``--folds`` for cross-validation). ``core.train``,
``core.evaluate``, ``core.export``, ``core.reference`` and ``core.classroom`` are their entry modules."""
