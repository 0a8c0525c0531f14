"""PNG charts and the metrics JSON for ``qa eval --out``: what a person would rather look at."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_outputs(report: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "metrics.json", out / "hit_at_k.png", out / "by_type.png", out / "answers.png"]
    paths[0].write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    modes = list(report["modes"])
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode in modes:
        ks = [n for n in (1, 3, 5, 10) if f"hit@{n}" in report["modes"][mode]]
        ax.plot(ks, [report["modes"][mode][f"hit@{n}"] for n in ks], marker="o", label=mode)
    ax.set(xlabel="k", ylabel="hit@k (answerable questions)", ylim=(0, 1.02), title="hit@k by retrieval mode")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(paths[1], dpi=120)
    plt.close(fig)

    types = sorted({t for m in modes for t in report["modes"][m]["by_type"]})
    metric = "hit@5" if all("hit@5" in report["modes"][m] for m in modes) else "hit@1"
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(modes), 1)
    for i, mode in enumerate(modes):
        vals = [report["modes"][mode]["by_type"].get(t, {}).get(metric, 0.0) for t in types]
        ax.bar([x + i * width for x in range(len(types))], vals, width, label=mode)
    ax.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(types))])
    ax.set_xticklabels(
        [f"{t}\n(n={report['modes'][modes[0]]['by_type'].get(t, {}).get('n', 0)})" for t in types]
    )
    ax.set(ylabel=metric, ylim=(0, 1.05), title=f"{metric} by question type")
    ax.legend()
    fig.tight_layout()
    fig.savefig(paths[2], dpi=120)
    plt.close(fig)

    answer = report["answer"]
    groups = [(t, v) for t, v in answer["by_type"].items()] + [
        (f"expects\n{t}", v) for t, v in answer["by_expects"].items()
    ]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar(range(len(groups)), [v["correct"] / v["n"] if v["n"] else 0.0 for _, v in groups], color="#4c72b0")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{t}\n(n={v['n']})" for t, v in groups], fontsize=7)
    ax.axhline(answer["accuracy"], color="grey", linestyle="--", linewidth=1)
    ax.set(
        ylabel="answer accuracy",
        ylim=(0, 1.05),
        title=f"chat answers quoting the fact: {answer['accuracy']:.3f} overall",
    )
    fig.tight_layout()
    fig.savefig(paths[3], dpi=120)
    plt.close(fig)
    return paths
