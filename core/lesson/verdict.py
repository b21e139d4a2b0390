""""Which base should I pick?": a verdict from measurements and the needs the student states.

The student says what matters (it must run on a phone, it must train here, it must keep up with a live
camera) and sets every limit (a phone size budget, how many times slower than MobileNetV2 is acceptable);
the verdict then keeps the bases that meet those needs and picks the most accurate one. Every fact it uses is
measured or published, and it says which: parameters and sizes counted from the real Keras architectures,
pretrained weights found (or not) on this computer, ImageNet top-1 from the source in the table.

The pick never flips with how busy the machine is: sizes, weights and top-1 do not change with load, and speed
enters only as a ratio to MobileNetV2 timed on the same computer (both slow down together under load), and
only when the student asks for speed. Plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REFERENCE_BASE = "mobilenet_v2"  # the lesson's base: speed is measured relative to it


@dataclass(frozen=True)
class Needs:
    on_phone: bool = True
    phone_budget_mb: float = 20.0  # the student's budget for the base's weights (set with a slider)
    train_here: bool = True  # only bases whose pretrained weights are on this computer
    live_camera: bool = False
    max_slowdown: float = 2.0  # at most this many times MobileNetV2's time per photo (set with a slider)


@dataclass(frozen=True)
class Verdict:
    pick: dict | None
    kept: list[dict]
    left_out: dict[str, list[str]] = field(default_factory=dict)  # base name -> why
    notes: list[str] = field(default_factory=list)

    def markdown(self, needs: Needs) -> str:
        if self.pick is None:
            head = "**No base meets all your needs.** Loosen a limit above, or see why each was left out."
        else:
            p = self.pick
            why = [f"{p['top1']:g}% ImageNet top-1 (the best of the {len(self.kept)} that meet your needs)",
                   f"{p['size_mb']:g} MB of weights"]
            if needs.train_here:
                why.append("pretrained weights on this computer, so you can train it here")
            if p.get("slowdown") is not None:
                why.append(f"{p['slowdown']:.1f}× MobileNetV2's time per photo")
            head = f"**Pick: {p['name']}**: " + "; ".join(why) + "."
        lines = [head, ""]
        lines += [f"- {name}: left out, " + "; ".join(reasons) + "." for name, reasons in self.left_out.items()]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


def relative_speed(latency_ms: dict[str, float]) -> dict[str, float]:
    """Each base's time per photo divided by MobileNetV2's, from timings made on this computer."""
    reference = latency_ms.get(REFERENCE_BASE)
    if not reference:
        return {}
    return {key: ms / reference for key, ms in latency_ms.items() if ms is not None}


def decide(rows: list[dict], needs: Needs, latency_ms: dict[str, float] | None = None) -> Verdict:
    """Keep the bases that meet ``needs``; pick the most accurate (ties: the smaller).

    ``rows`` are ``base_table()`` rows (``key``, ``name``, ``size_mb``, ``top1``, ``weights_available``);
    ``latency_ms`` maps base keys to measured milliseconds per photo (optional).
    """
    slowdown = relative_speed(latency_ms or {})
    notes: list[str] = []
    if needs.live_camera and not slowdown:
        notes.append("Speed not used yet: time MobileNetV2 and the others above, and the live-camera need applies.")
    kept, left_out = [], {}
    for row in rows:
        reasons = []
        if needs.train_here and not row["weights_available"]:
            reasons.append("no pretrained weights on this computer, so it cannot be trained here")
        if needs.on_phone and row["size_mb"] >= needs.phone_budget_mb:
            reasons.append(f"{row['size_mb']:g} MB of weights, not under your {needs.phone_budget_mb:g} MB phone budget")
        ratio = slowdown.get(row["key"])
        if needs.live_camera and slowdown:
            if ratio is None:
                reasons.append("not timed yet, so its speed is unknown")
            elif ratio > needs.max_slowdown:
                reasons.append(f"{ratio:.1f}× MobileNetV2's time per photo, over your {needs.max_slowdown:g}× limit")
        if reasons:
            left_out[row["name"]] = reasons
        else:
            kept.append({**row, "slowdown": ratio if needs.live_camera else None})
    pick = max(kept, key=lambda r: (r["top1"], -r["size_mb"])) if kept else None
    return Verdict(pick, kept, left_out, notes)
