"""Charts a student must read, said in words too: on a phone there is no hover, and a screen reader cannot
see bars. Each function turns the chart's own data into a short Markdown summary shown under it."""

from __future__ import annotations

from itertools import groupby


def _part_name(stage: int, block: str) -> str:
    if block in ("input", "stem"):
        return "input and stem (Conv1)"
    if block == "top":
        return "top (Conv_1, out_relu)"
    return f"stage {stage}"


def layer_bars_words(summary: dict) -> str:
    """The layer diagram (``ui.charts.layer_bars``) stage by stage: blocks, layers, parameters, frozen or not."""
    lines = []
    parts = groupby(summary["layers"], key=lambda row: _part_name(row["stage"], row["block"]))
    for name, rows in parts:
        rows = list(rows)
        blocks = sorted({int(row["block"].split("_")[1]) for row in rows if row["block"].startswith("block_")})
        named = (f" (blocks {blocks[0]}–{blocks[-1]})" if len(blocks) > 1 else f" (block {blocks[0]})" if blocks
                 else "")
        trainable = sum(row["state"] == "trainable" for row in rows)
        frozen = sum(row["state"] == "frozen" for row in rows)
        state = ("all frozen" if not trainable else "all trainable" if not frozen
                 else f"{trainable} trainable, {frozen} frozen")
        params = sum(row["params"] for row in rows)
        lines.append(f"- **{name}**{named}: {len(rows)} layers, {params:,} parameters; its layers with weights: {state}")
    head = summary["head"]
    lines.append(f"- **new head** ({', '.join(h['name'] for h in head)}): {sum(h['params'] for h in head):,} "
                 "parameters, always trainable")
    return "\n".join(lines)
