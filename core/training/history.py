"""A student's run history: every training of the session, its settings, results and curves.

Plain Python (no TensorFlow, no Streamlit) so it is easy to test and cheap to import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.utils.stats import accuracy_interval

# The settings a student changes on the Train page, in the order the table shows them.
SETTING_COLUMNS = ("base", "image_size", "epochs1", "epochs2", "unfreeze", "lr1", "lr2", "batch_size",
                   "augment", "preprocessing", "seed")


@dataclass
class RunRecord:
    run_id: int
    label: str
    kind: str  # "transfer" or "scratch"
    settings: dict
    test_accuracy: float
    phase1_accuracy: float | None
    seconds: float
    stopped: bool
    dataset: str
    epochs: list[dict] = field(default_factory=list)
    test_n: int = 0  # test photos behind test_accuracy (0: not recorded)

    def row(self) -> dict:
        row = {"run": self.run_id, "label": self.label, "kind": self.kind}
        row.update({name: self.settings.get(name) for name in SETTING_COLUMNS})
        row.update({
            "test accuracy": round(self.test_accuracy, 4),
            "95% interval": _interval_text(self.test_accuracy, self.test_n),
            "after phase 1": None if self.phase1_accuracy is None else round(self.phase1_accuracy, 4),
            "seconds": round(self.seconds, 1),
            "stopped early": self.stopped,
            "data": self.dataset,
        })
        return row


def add_run(runs: list[RunRecord], result, label: str | None = None, kind: str = "transfer") -> RunRecord:
    """Append a finished (or stopped) ``TrainResult`` and return its record."""
    settings = result.config.to_dict()
    run_id = max((r.run_id for r in runs), default=0) + 1
    record = RunRecord(
        run_id=run_id,
        label=label or default_label(settings, kind),
        kind=kind,
        settings=settings,
        test_accuracy=float(result.test["accuracy"]),
        phase1_accuracy=result.timings.get("phase_test_accuracy", {}).get("phase1"),
        seconds=float(result.timings.get("total", 0.0)),
        stopped=bool(result.stopped),
        dataset=result.dataset_source,
        epochs=[asdict(e) for e in result.history],
        test_n=int(result.test.get("n", 0)),
    )
    runs.append(record)
    return record


def _interval_text(accuracy: float, n: int) -> str:
    if not n:
        return ""
    interval = accuracy_interval(accuracy, n)
    return f"{interval.low:.0%}–{interval.high:.0%} (n = {n})"


def default_label(settings: dict, kind: str = "transfer") -> str:
    if kind == "scratch":
        return f"from scratch, {settings['epochs1'] + settings['epochs2']} epochs"
    fine = f", top {settings['unfreeze']} @ lr {settings['lr2']:g}" if settings["epochs2"] and settings["unfreeze"] else ""
    return f"{settings['base']} {settings['image_size']}px, head @ lr {settings['lr1']:g}{fine}"


def runs_table(runs: list[RunRecord]) -> list[dict]:
    return [run.row() for run in runs]


def changed_settings(runs: list[RunRecord]) -> list[str]:
    """Settings that differ between the runs: what a comparison is really about."""
    return [name for name in SETTING_COLUMNS if len({repr(r.settings.get(name)) for r in runs}) > 1]


def curve_rows(runs: list[RunRecord], run_ids: list[int] | None = None) -> list[dict]:
    """Long-format rows (one per run, epoch and metric) for overlaying learning curves."""
    picked = [r for r in runs if run_ids is None or r.run_id in run_ids]
    rows = []
    for run in picked:
        for epoch in run.epochs:
            for metric in ("accuracy", "val_accuracy", "loss", "val_loss"):
                rows.append({"run": f"#{run.run_id} {run.label}", "epoch": epoch["epoch"], "phase": epoch["phase"],
                             "metric": metric, "value": epoch[metric]})
    return rows
