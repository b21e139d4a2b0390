"""The dataset report shown before training: what was found, what was left out, and what to fix.

Plain Python + Pillow: no Streamlit, no TensorFlow. Image sizes come from file headers only, so a
report over a thousand photos takes a fraction of a second.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.photos.datasets import SPLITS, Dataset, DatasetError, SkippedFile, file_digest, load_folder
from core.photos.images import upright_size
from core.photos.upload import REASON_HIDDEN
from core.utils.safe_text import csv_cell, hide_paths
from core.utils.wording import join_words

TINY_PIXELS = 64  # photos narrower or lower than this get blown up into a blur
DUPLICATE_PREFIX = "duplicate of"
_DUPLICATE_ACROSS = "duplicate of a photo already in"


@dataclass(frozen=True)
class Advice:
    """One warning for the student: what we noticed and what to do about it."""

    kind: str  # "skipped", "duplicates", "near-duplicates", "small-class", "imbalance", "tiny-images",
    # "missing-in-split", "same-photo"
    message: str
    advice: str

    def __str__(self) -> str:
        return f"{self.message} {self.advice}"


@dataclass(frozen=True)
class SizeSummary:
    """Photo sizes in pixels (as displayed, i.e. after EXIF rotation)."""

    count: int
    min_width: int
    median_width: int
    max_width: int
    min_height: int
    median_height: int
    max_height: int
    tiny: int  # photos narrower or lower than TINY_PIXELS


@dataclass
class DatasetReport:
    class_names: list[str]
    counts: dict[str, dict[str, int]]  # {split: {class name: photos}}, like Dataset.counts()
    sizes: SizeSummary | None
    skipped: dict[str, int]  # {reason: files} for files left out (duplicates included)
    skipped_files: list[SkippedFile]  # every file left out, paths relative to the dataset where possible
    duplicates: list[SkippedFile]  # photos dropped because a copy was already in an earlier split
    warnings: list[Advice] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # anything here blocks training
    ignored: int = 0  # hidden/system files in the upload (__MACOSX/, .DS_Store...), left out silently
    source: str = ""
    layout: str = ""
    tiny_by_class: dict[str, int] = field(default_factory=dict)
    near_duplicate_groups: int = 0  # resized/re-encoded copies of one picture, each group kept in one split
    near_duplicate_photos: int = 0

    @property
    def can_train(self) -> bool:
        return not self.problems

    @property
    def totals(self) -> dict[str, int]:
        return {name: sum(self.counts[s].get(name, 0) for s in SPLITS) for name in self.class_names}

    @property
    def total_images(self) -> int:
        return sum(self.totals.values())

    def rows(self) -> list[dict]:
        """One row per class: ``{"class", "train", "val", "test", "total"}`` (for a table)."""
        return [
            {"class": name, **{s: self.counts[s].get(name, 0) for s in SPLITS}, "total": total}
            for name, total in self.totals.items()
        ]


def reason_group(reason: str) -> str:
    """The gist of a reason, so "too large: 9000x9000 pixels (...)" and "too large: 30000x..." count together."""
    if reason.startswith(DUPLICATE_PREFIX):
        return reason if reason.startswith(_DUPLICATE_ACROSS) else "duplicate of another photo"
    return re.split(r":| \(", reason, maxsplit=1)[0].strip() or reason


def _class_conflict(skipped: SkippedFile) -> tuple[str, str] | None:
    """``("daisy", "roses")`` when a photo in roses/ was dropped as a copy of one in daisy/."""
    found = re.fullmatch(r"duplicate of (.+)/[^/]+", skipped.reason)
    if not found or skipped.reason.startswith(_DUPLICATE_ACROSS):
        return None
    here, there = Path(skipped.path).parent.name, found.group(1)
    if not here or here == there:
        return None
    first, second = sorted((here, there))
    return first, second


def _display_path(path: str, root: str) -> str:
    if root:
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    return hide_paths(path)  # never a server folder


def _size_summary(dataset: Dataset) -> tuple[SizeSummary | None, dict[str, int]]:
    widths, heights = [], []
    tiny_by_class: Counter = Counter()
    for split in SPLITS:
        for item in dataset.splits[split]:
            size = upright_size(item.path)
            if size is None:
                continue
            widths.append(size[0])
            heights.append(size[1])
            if min(size) < TINY_PIXELS:
                tiny_by_class[dataset.class_names[item.label]] += 1
    if not widths:
        return None, {}
    summary = SizeSummary(
        count=len(widths),
        min_width=min(widths),
        median_width=int(statistics.median(widths)),
        max_width=max(widths),
        min_height=min(heights),
        median_height=int(statistics.median(heights)),
        max_height=max(heights),
        tiny=sum(tiny_by_class.values()),
    )
    return summary, dict(tiny_by_class)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _names(names) -> str:
    names = list(names)
    quoted = [f"'{n}'" for n in names]
    return join_words(quoted)


def _copies_within_splits(dataset: Dataset) -> tuple[list[tuple[str, str]], int]:
    """Copies left inside one split (core.photos.datasets only drops copies *across* splits):
    ``(pairs of classes sharing a photo, extra copies within one class)``."""
    conflicts: set[tuple[str, str]] = set()
    copies = 0
    for split in SPLITS:
        first_label: dict[str, int] = {}
        for item in dataset.splits[split]:
            try:
                digest = file_digest(item.path)
            except OSError:
                continue
            if digest not in first_label:
                first_label[digest] = item.label
            elif first_label[digest] == item.label:
                copies += 1
            else:
                pair = sorted((dataset.class_names[first_label[digest]], dataset.class_names[item.label]))
                conflicts.add((pair[0], pair[1]))
    return sorted(conflicts), copies


def dataset_report(
    dataset: Dataset,
    small_class: int = 10,
    imbalance_ratio: float = 3.0,
    extraction=None,
) -> DatasetReport:
    """What a student should know about ``dataset`` before training on it.

    ``extraction`` (a :class:`core.photos.upload.ExtractionReport`) adds the files the upload step left out.
    """
    names = list(dataset.class_names)
    counts = dataset.counts()
    for split in SPLITS:
        counts.setdefault(split, {name: 0 for name in names})
    root = dataset.root

    skipped_files: list[SkippedFile] = []
    ignored = 0
    if extraction is not None:
        for entry in extraction.skipped:
            if entry.reason == REASON_HIDDEN:
                ignored += 1
            else:
                skipped_files.append(SkippedFile(entry.name, entry.reason))
    skipped_files += [SkippedFile(_display_path(s.path, root), s.reason) for s in dataset.skipped]
    duplicates = [s for s in skipped_files if s.reason.startswith(DUPLICATE_PREFIX)]
    grouped = Counter(reason_group(s.reason) for s in skipped_files)

    sizes, tiny_by_class = _size_summary(dataset)
    report = DatasetReport(
        class_names=names,
        counts=counts,
        sizes=sizes,
        skipped=dict(grouped.most_common()),
        skipped_files=skipped_files,
        duplicates=duplicates,
        ignored=ignored,
        source=hide_paths(dataset.source),
        layout=dataset.layout,
        tiny_by_class=tiny_by_class,
    )
    totals = report.totals
    advice = report.warnings.append

    # Problems: training would fail or be meaningless.
    if len(names) < 2:
        report.problems.append("A classifier needs at least two classes (one folder of photos per class).")
    for split, purpose in (("train", "learn from"), ("val", "check progress with"), ("test", "measure the result with")):
        if sum(counts[split].values()) == 0:
            fix = (
                f"Put some photos of each class in the {split} folder."
                if dataset.layout == "split-folders"
                else "Add more photos (at least 3 per class)."
            )
            report.problems.append(f"The {split} split has no photos, so there is nothing to {purpose}. {fix}")
    no_train = [n for n in names if counts["train"].get(n, 0) == 0 and totals[n] > 0]
    if no_train and sum(counts["train"].values()):
        one = len(no_train) == 1
        report.problems.append(
            f"{_names(no_train)} {'has' if one else 'have'} no photos in train, so the model cannot learn what "
            f"{'it looks' if one else 'they look'} like. Put some of {'its' if one else 'their'} photos in the "
            "train folder."
        )
    empty = [n for n in names if totals[n] == 0]
    if empty:
        report.problems.append(f"{_names(empty)} {'has' if len(empty) == 1 else 'have'} no usable photos.")

    # Warnings: training works, but the student should know.
    others = [s for s in skipped_files if not s.reason.startswith(DUPLICATE_PREFIX)]
    if others:
        advice(Advice(
            "skipped",
            f"{_plural(len(others), 'file was', 'files were')} left out because they could not be used.",
            "See the list of skipped files and their reasons; fix or remove them if you want them included.",
        ))
    if duplicates:
        advice(Advice(
            "duplicates",
            f"{_plural(len(duplicates), 'photo was an exact copy', 'photos were exact copies')} of another photo; "
            "only the first copy of each was kept.",
            "Copies teach the model nothing new, and a copy in test of a photo in train would make the "
            "test score look better than it really is.",
        ))
    report.near_duplicate_groups = dataset.near_duplicate_groups
    report.near_duplicate_photos = dataset.near_duplicate_photos
    if dataset.near_duplicate_groups:
        advice(Advice(
            "near-duplicates",
            f"{_plural(dataset.near_duplicate_groups, 'group', 'groups')} of near-duplicate photos "
            f"({dataset.near_duplicate_photos} photos: resized or re-saved copies of one picture) were found; "
            "each group was kept in one split.",
            "So the model is never tested on a copy of a photo it trained on. Copies add little: "
            "photos of new flowers teach more.",
        ))
    conflicts, copies = _copies_within_splits(dataset)
    conflicts = sorted(set(conflicts) | {c for c in map(_class_conflict, dataset.skipped) if c})
    for a, b in conflicts:
        advice(Advice(
            "same-photo",
            f"The same photo is in both '{a}' and '{b}'.",
            "One photo cannot belong to two classes: keep it in the right folder only.",
        ))
    if copies:
        advice(Advice(
            "same-photo",
            f"{_plural(copies, 'photo appears', 'photos appear')} more than once in the same split.",
            "Copies count twice without teaching the model anything new; remove the extra copies.",
        ))
    small = [n for n in names if 0 < totals[n] < small_class]
    for name in small:
        advice(Advice(
            "small-class",
            f"'{name}' has only {_plural(totals[name], 'photo')}.",
            f"The lesson's advice for transfer learning is 100–200 photos per class; below {small_class} the model "
            "sees almost no variety.",
        ))
    filled = {n: t for n, t in totals.items() if t > 0}
    if len(filled) >= 2:
        biggest = max(filled, key=filled.get)
        smallest = min(filled, key=filled.get)
        ratio = filled[biggest] / filled[smallest]
        if ratio > imbalance_ratio:
            advice(Advice(
                "imbalance",
                f"'{biggest}' has {ratio:.1f} times as many photos as '{smallest}' "
                f"({filled[biggest]} against {filled[smallest]}).",
                f"The model may learn to guess '{biggest}' too often. Add photos to the small classes "
                "or leave some out of the big ones.",
            ))
    if sizes and sizes.tiny:
        which = ", ".join(f"{n}: {c}" for n, c in sorted(tiny_by_class.items()))
        advice(Advice(
            "tiny-images",
            f"{_plural(sizes.tiny, 'photo is', 'photos are')} smaller than {TINY_PIXELS} pixels ({which}).",
            "They get blown up to the model's input size and look blurry; use bigger photos if you have them.",
        ))
    for split, purpose in (("val", "validation"), ("test", "test")):
        if sum(counts[split].values()) == 0:
            continue  # already a problem
        missing = [n for n in names if counts[split].get(n, 0) == 0 and totals[n] > 0]
        if missing:
            advice(Advice(
                "missing-in-split",
                f"{_names(missing)} {'has' if len(missing) == 1 else 'have'} no photos in {split}.",
                f"The {purpose} score cannot tell how well {'it is' if len(missing) == 1 else 'they are'} "
                "recognised. Add more photos of " + ("it." if len(missing) == 1 else "them."),
            ))
    return report


def check_folder(
    folder, seed: int = 42, *, extraction=None, small_class: int = 10, imbalance_ratio: float = 3.0
) -> tuple[Dataset | None, DatasetReport | None, str | None]:
    """Load ``folder`` and report on it: ``(dataset, report, None)``, or ``(None, None, message)``
    when the photos cannot be used at all, so a page can show the message instead of crashing."""
    try:
        dataset = load_folder(folder, seed)
    except DatasetError as error:
        return None, None, hide_paths(str(error))
    except OSError as error:
        return None, None, f"The photos could not be read ({error.strerror or error})."
    report = dataset_report(dataset, small_class, imbalance_ratio, extraction=extraction)
    return dataset, report, None


def _to_csv(header: list[str], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()


def report_to_csv(report: DatasetReport) -> str:
    """One row per class: ``class,train,val,test,total``."""
    return _to_csv(["class", *SPLITS, "total"], ([r["class"], *(r[s] for s in SPLITS), r["total"]] for r in report.rows()))


def skipped_to_csv(report: DatasetReport) -> str:
    """One row per file left out: ``file,reason``."""
    return _to_csv(["file", "reason"], ([s.path, s.reason] for s in report.skipped_files))
