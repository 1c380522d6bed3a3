#!/usr/bin/python3
"""Plot bench/linreg's curves: test loss vs SGD step, one panel per design.

Each strategy is drawn at the learning rate the benchmark chose for it (the
CSV's best = 1 rows): the line is the mean over seeds, the shaded band spans
the lowest to the highest seed.

usage: /usr/bin/python3 bench/linreg_plot.py CURVES.csv OUT.png [--title TEXT]
"""
import argparse
import csv
import math
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from PIL import Image  # noqa: E402  (matplotlib depends on Pillow)

STRATEGIES = ["uniform", "linupper", "quadratic", "extremes", "linear", "infobatch", "topq", "dro"]


def read_curves(path):
    """{design: {strategy: (lr, {seed: {step: loss}})}} for the chosen lr."""
    curves = defaultdict(dict)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["best"] != "1":
                continue
            design, strategy = row["design"], row["strategy"]
            lr, seeds = curves[design].setdefault(strategy, (row["lr"], defaultdict(dict)))
            seeds[int(row["seed"])][int(row["step"])] = float(row["test_loss"])
    return curves


def band(seeds):
    """Steps, seed-mean, min and max of a strategy's curves (finite values only)."""
    steps = sorted(next(iter(seeds.values())).keys())
    mean, lo, hi = [], [], []
    for s in steps:
        vals = [c[s] for c in seeds.values() if math.isfinite(c[s])]
        if len(vals) < len(seeds):  # a diverged seed: stop the curve there
            steps = steps[: len(mean)]
            break
        mean.append(sum(vals) / len(vals))
        lo.append(min(vals))
        hi.append(max(vals))
    return steps, mean, lo, hi


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--title", default="bench/linreg: test loss vs step (mean over seeds, "
                    "band = min..max)")
    args = ap.parse_args()
    curves = read_curves(args.csv)
    if not curves:
        sys.exit(f"linreg_plot: no chosen-lr rows (best = 1) in {args.csv}")
    designs = list(curves)
    cols = 2 if len(designs) > 1 else 1
    rows = (len(designs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 4.2 * rows), dpi=80, squeeze=False)
    colors = plt.get_cmap("tab10")
    for k, design in enumerate(designs):
        ax = axes[k // cols][k % cols]
        for i, strategy in enumerate(STRATEGIES):
            if strategy not in curves[design]:
                continue
            lr, seeds = curves[design][strategy]
            steps, mean, lo, hi = band(seeds)
            if not steps:
                continue
            style = "-" if strategy in ("uniform", "linupper", "quadratic") else "--"
            width = 2.2 if strategy in ("uniform", "linupper") else 1.2
            ax.plot(steps, mean, style, color=colors(i), lw=width, label=f"{strategy} (lr {lr})")
            ax.fill_between(steps, lo, hi, color=colors(i), alpha=0.12, lw=0)
        ax.set_yscale("log")
        ax.set_title(f"design: {design}")
        ax.set_xlabel("SGD step")
        ax.set_ylabel("test loss")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    for k in range(len(designs), rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle(args.title, fontsize=10)
    fig.tight_layout()
    # A 256-colour palette keeps the PNG small enough to commit (< 200 KB).
    fig.canvas.draw()
    image = Image.frombytes("RGBA", fig.canvas.get_width_height(), bytes(fig.canvas.buffer_rgba()))
    image.convert("RGB").quantize(colors=256).save(args.png, optimize=True)


if __name__ == "__main__":
    main()
