"""What the run history calls a run of a one-click experiment: the job that starts the run and the history
that files it read the labels here, so neither imports the other."""

RUN_LABELS = {  # by the kind of job the student started
    "high_lr": "try lr = 1e-2 in phase 2",
    "kiran": "Kiran: transfer learning",
    "preset_best": "preset: best for small data",
}
SCRATCH_LABEL = "Kiran: CNN from scratch"  # the scratch CNN's run in Kiran's experiment
