#!/usr/bin/env python3
"""Tables, JSONL and plots from the runs of bench/convergence.py.

  convergence_report.py RESULTS [--mixes clean,noisy] [--baseline uniform]
                        [--md FILE] [--jsonl FILE] [--plots DIR] [--bin N]

For each mix (RESULTS/<mix>/) and arm (RESULTS/<mix>/<arm>/seed<S>/metrics.jsonl):
  val loss   the trainer's headline validation loss: the mean over the domains
             that have validation data (the real ones; dup and noise are
             train-only), at the last step. mean +- sd over seeds, and the
             paired difference to the baseline (same seed = same initial
             weights and data order).
  steps      first step at which the arm's validation loss reaches the
             baseline's final validation loss of the same seed, interpolated
             linearly between evaluations; "never" if it does not.
  speed-up   1 - steps / baseline's steps (the baseline's own first crossing
             of its final value, normally the last step), per seed; mean, sd,
             min..max over the seeds. Defined only when every seed reaches it.
  per domain final validation loss of every real domain (mean over the arm's seeds)
             and its paired difference to the baseline on the same seeds.
  uniform-equivalent steps (with --lengths): the baseline trained for other
             numbers of steps S, each with its full learning-rate schedule,
             gives final losses L(S); an arm's final loss matched on that
             curve (linear in log S between the lengths run) is the number of
             baseline steps it is worth. 1 - S_run / S_equivalent is a
             speed-up that does not penalize an arm for the schedule's final
             annealing drop, which every run only gets at its own end.
  weights    mean N*w of every domain (1 = a uniform share) over the steps
             after the reweighting warm-up, from the trainer's per-step
             "train" lines (sample-weighted: sum n_d N*w_d / sum n_d).
  reference cost  arms that use reference losses (reducible) carry the
             reference model's training and scoring FLOPs (cost.json next
             to the run, written by convergence.py): "speed-up incl.
             reference" counts them as extra steps of the learner,
             1 - (steps + ref FLOPs / learner FLOPs per step) / baseline's
             steps, with the whole reference cost charged to every run (one
             reference serves all seeds and arms of a mix, so this is the
             worst case).
  signals    per domain: mean train loss, mean reference loss (reducible)
             and mean learnability lambda (learnability) after the warm-up.
  regimes (with --regimes LABEL=DIR,...): one table per mix with a row per
             regime (a results directory of the same benchmark with one
             setting changed) and arm: paired final difference to the
             baseline, steps to its final loss, speed-ups.
Plots (matplotlib; skipped with a note if it is not installed):
  conv_<mix>_loss.png      validation loss vs step, and its difference to
                           the baseline (seed mean, band = min..max)
  conv_<mix>_domains.png   final per-domain validation loss minus baseline's
  conv_<mix>_weights.png   mean weight per domain over time, one panel per arm
  conv_<mix>_wvl.png       weight against train loss per domain and time bin
Standard library only, apart from the plots.
"""
import argparse
import json
import math
import os
import sys


# ---- reading -----------------------------------------------------------------

def read_run(path):
    """metrics.jsonl -> dict(domains, val=[(step, loss, {d: loss})], train=[...])."""
    run = {"domains": [], "val": [], "train": [], "path": path}
    with open(path) as fh:
        for line in fh:
            rec = json.loads(line)
            t = rec.get("type")
            if t == "start":
                run["domains"] = sorted(rec["domains"], key=lambda d: rec["domains"][d])
            elif t == "val":
                run["val"].append((rec["step"], rec["loss"], rec.get("domains", {})))
            elif t == "train":
                run["train"].append((rec["step"], rec["rw"].get("strategy", "uniform"),
                                     rec.get("domains", {}), rec["rw"].get("ess", 1.0),
                                     rec["rw"].get("n_zero_weight", 0) / max(1, rec["rw"].get("n", 1))))
    run["val"].sort(key=lambda v: v[0])
    run["cost"] = read_cost(os.path.join(os.path.dirname(path), "cost.json"))
    return run


def read_cost(path):
    """cost.json of a run: learner FLOPs per step, and the reference model's
    training + scoring FLOPs (0 when the arm uses none); None if absent."""
    try:
        with open(path) as fh:
            c = json.load(fh)
    except (OSError, ValueError):
        return None
    ref_flops = 0.0
    if c.get("ref"):
        try:
            with open(c["ref"]) as fh:
                r = json.load(fh)
            ref_flops = r["train_flops"] + r["score_flops"]
        except (OSError, ValueError, KeyError):
            return None
    return {"flops_per_step": c.get("flops_per_step"), "ref_flops": ref_flops}


def load(results, mixes):
    """{mix: {arm: {seed: run}}} of the finished runs; the rest is reported."""
    data = {}
    for mix in mixes:
        mdir = os.path.join(results, mix)
        if not os.path.isdir(mdir):
            continue
        arms = {}
        for arm in sorted(os.listdir(mdir)):
            adir = os.path.join(mdir, arm)
            if not os.path.isdir(adir):
                continue
            for sd in sorted(os.listdir(adir)):
                f = os.path.join(adir, sd, "metrics.jsonl")
                if not (sd.startswith("seed") and os.path.exists(f)):
                    continue
                run = read_run(f)
                if run["val"]:
                    arms.setdefault(arm, {})[int(sd[4:])] = run
        # a run still in progress (or killed) has not validated at the last
        # step the others reached: left out, and said so
        last = max((r["val"][-1][0] for seeds in arms.values() for r in seeds.values()), default=0)
        for arm in list(arms):
            for s in [s for s, r in arms[arm].items() if r["val"][-1][0] < last]:
                print("convergence_report: %s/%s/seed%d stops at step %d of %d: left out"
                      % (mix, arm, s, arms[arm][s]["val"][-1][0], last), file=sys.stderr)
                del arms[arm][s]
            if not arms[arm]:
                del arms[arm]
        if arms:
            data[mix] = arms
    return data


# ---- numbers -------------------------------------------------------------------

def mean(xs):
    return sum(xs) / len(xs)


def sd(xs):
    if len(xs) < 2:
        return float("nan")
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def crossing(val, target):
    """First step at which the curve val [(step, loss, _)] is <= target,
    linear between evaluations; None if never."""
    prev = None
    for step, loss, _ in val:
        if loss <= target:
            if prev is None or prev[1] == loss:
                return float(step)
            s0, l0 = prev
            return s0 + (l0 - target) / (l0 - loss) * (step - s0)
        prev = (step, loss)
    return None


def rw_start(run):
    """First step with a non-uniform rule (None for a uniform run)."""
    for step, strategy, *_ in run["train"]:
        if strategy != "uniform":
            return step
    return None


def rw_means(run, first):
    """Mean ESS and share of zero-weight samples over steps >= first."""
    rows = [(t[3], t[4]) for t in run["train"] if t[0] >= first]
    if not rows:
        return 1.0, 0.0
    return mean([r[0] for r in rows]), mean([r[1] for r in rows])


def domain_weights(run, first, last=None):
    """Sample-weighted mean N*w and mean train loss per domain over steps
    [first, last)."""
    acc = {}
    for step, _, doms, *_ in run["train"]:
        if step < first or (last is not None and step >= last):
            continue
        for d, v in doms.items():
            a = acc.setdefault(d, [0, 0.0, 0.0])
            a[0] += v["n"]
            a[1] += v["n"] * v["weight"]
            a[2] += v["n"] * v["loss"]
    return {d: (a[1] / a[0], a[2] / a[0]) for d, a in acc.items() if a[0] > 0}


def domain_signals(run, first):
    """Per domain over steps >= first: mean train loss, mean reference loss
    (None without one) and mean learnability lambda (None without one)."""
    acc = {}
    for step, _, doms, *_ in run["train"]:
        if step < first:
            continue
        for d, v in doms.items():
            a = acc.setdefault(d, [0, 0.0, 0, 0.0, 0, 0.0])
            a[0] += 1
            a[1] += v["loss"]
            if "ref" in v:
                a[2] += 1
                a[3] += v["ref"]
            if "learn" in v:
                a[4] += 1
                a[5] += v["learn"]
    return {d: (a[1] / a[0], a[3] / a[2] if a[2] else None, a[5] / a[4] if a[4] else None)
            for d, a in acc.items() if a[0] > 0}


def equivalent_steps(points, loss):
    """points: [(S, final loss of the baseline trained S steps)]. The S at
    which the baseline reaches `loss`, linear in log S between the points;
    (S, "") inside their range, else the nearest end and ">" or "<"."""
    pts = sorted(points)
    if loss < pts[-1][1]:
        return pts[-1][0], ">"
    if loss > pts[0][1]:
        return pts[0][0], "<"
    for (s0, l0), (s1, l1) in zip(pts, pts[1:]):
        if l1 <= loss <= l0:
            t = 0.0 if l0 == l1 else (l0 - loss) / (l0 - l1)
            return math.exp(math.log(s0) + t * (math.log(s1) - math.log(s0))), ""
    return None, "?"  # the baseline's loss does not fall with S


def add_equivalents(res, base_runs, length_runs):
    """Adds uniform-equivalent steps to every arm of res. length_runs:
    {seed: [(S, final loss)]} of the baseline at other lengths."""
    for arm, r in res.items():
        vals = []
        for s, p in r["seeds"].items():
            if s not in length_runs or s not in base_runs:
                continue
            b = base_runs[s]
            pts = length_runs[s] + [(b["val"][-1][0], b["val"][-1][1])]
            eq, bound = equivalent_steps(pts, p["final"])
            p["equiv_steps"], p["equiv_bound"] = eq, bound
            if eq is not None:
                p["equiv_speedup"] = 1 - p["final_step"] / eq
                vals.append((p["equiv_speedup"], bound))
        if vals:
            r["equiv_speedup_mean"] = mean([v for v, _ in vals])
            r["equiv_speedup_sd"] = sd([v for v, _ in vals])
            r["equiv_bounded"] = sum(1 for _, b in vals if b)


def analyse(arms, baseline):
    """Per-seed and aggregate figures of one mix."""
    if baseline not in arms:
        raise SystemExit("convergence_report: no '%s' runs to compare with" % baseline)
    base = arms[baseline]
    out = {}
    for arm, seeds in arms.items():
        per = {}
        for s, run in sorted(seeds.items()):
            if s not in base:
                continue
            b = base[s]
            target = b["val"][-1][1]
            b_steps = crossing(b["val"], target)
            steps = crossing(run["val"], target)
            start = rw_start(run)
            cost = run.get("cost")
            # the reference model's FLOPs as extra learner steps (worst case:
            # the whole reference charged to this one run)
            extra = None  # None: the arm uses no reference model
            if cost and cost.get("flops_per_step") and cost["ref_flops"]:
                extra = cost["ref_flops"] / cost["flops_per_step"]
            per[s] = {
                "final": run["val"][-1][1],
                "final_step": run["val"][-1][0],
                "delta": run["val"][-1][1] - target,
                "target": target,
                "steps": steps,
                "baseline_steps": b_steps,
                "speedup": (1 - steps / b_steps) if steps is not None else None,
                "ref_steps": extra,
                "speedup_cost": (1 - (steps + (extra or 0.0)) / b_steps)
                if steps is not None else None,
                "domains_final": dict(run["val"][-1][2]),
                # paired: against the baseline run of the same seed (seeds differ
                # far more than arms do, so unpaired means of arms with other
                # seed sets would mislead)
                "domains_delta": {d: v - b["val"][-1][2][d] for d, v in run["val"][-1][2].items()
                                  if d in b["val"][-1][2]},
                "rw_start": start,
                "weights": domain_weights(run, start if start is not None else 0),
                "signals": domain_signals(run, start if start is not None else 0),
            }
            per[s]["ess"], per[s]["zero_share"] = rw_means(run, start if start is not None else 0)
        if not per:
            continue
        sp = [p["speedup"] for p in per.values()]
        reached = [x for x in sp if x is not None]
        doms = sorted({d for p in per.values() for d in p["domains_final"]})
        wdoms = sorted({d for p in per.values() for d in p["weights"]})
        spc = [p["speedup_cost"] for p in per.values()]
        ref_steps = [p["ref_steps"] for p in per.values() if p["ref_steps"] is not None]

        def sig(d, k):
            xs = [p["signals"][d][k] for p in per.values()
                  if d in p["signals"] and p["signals"][d][k] is not None]
            return mean(xs) if xs else None
        out[arm] = {
            "seeds": per,
            "n": len(per),
            "final_mean": mean([p["final"] for p in per.values()]),
            "final_sd": sd([p["final"] for p in per.values()]),
            "delta_mean": mean([p["delta"] for p in per.values()]),
            "delta_sd": sd([p["delta"] for p in per.values()]),
            "reached": len(reached),
            "speedup_mean": mean(reached) if len(reached) == len(sp) else None,
            "speedup_sd": sd(reached) if len(reached) == len(sp) else None,
            "speedup_min": min(reached) if reached else None,
            "speedup_max": max(reached) if reached else None,
            "domains_final": {d: mean([p["domains_final"][d] for p in per.values()
                                       if d in p["domains_final"]]) for d in doms},
            "domains_delta": {d: mean([p["domains_delta"][d] for p in per.values()
                                       if d in p["domains_delta"]]) for d in doms},
            "weights": {d: mean([p["weights"][d][0] for p in per.values() if d in p["weights"]])
                        for d in wdoms},
            "ess": mean([p["ess"] for p in per.values()]),
            "zero_share": mean([p["zero_share"] for p in per.values()]),
            "ref_steps": mean(ref_steps) if ref_steps else None,
            "speedup_cost_mean": mean(spc) if spc and None not in spc else None,
            "speedup_cost_sd": sd(spc) if spc and None not in spc else None,
            "signals": {d: tuple(sig(d, k) for k in range(3)) for d in wdoms},
        }
    return out


# ---- tables --------------------------------------------------------------------

def fmt(x, spec="%.4f"):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else spec % x


def pct(x):
    return "–" if x is None or math.isnan(x) else "%+.0f %%" % (100 * x)


def cost_cell(r):
    """Speed-up with the reference model's FLOPs counted; '–' for arms without one."""
    if not r.get("ref_steps"):
        return "–"
    if r.get("speedup_cost_mean") is None:
        return "never (+%.0f steps of reference)" % r["ref_steps"]
    return "%s ± %s (+%.0f steps of reference)" % (
        pct(r["speedup_cost_mean"]), fmt(100 * r["speedup_cost_sd"], "%.0f %%"), r["ref_steps"])


def table(mix, res, baseline, order):
    arms = [a for a in order if a in res]
    equiv = any("equiv_speedup_mean" in res[a] for a in arms)
    costed = any(res[a].get("ref_steps") for a in arms)
    lines = ["#### mix `%s`: validation loss (mean over real domains) and speed-up vs %s"
             % (mix, baseline), "",
             "| arm | seeds | final val loss | Δ vs %s (paired) | steps to %s's final | speed-up mean ± sd | min .. max |"
             % (baseline, baseline) + (" %s-equivalent speed-up |" % baseline if equiv else "")
             + (" speed-up incl. reference |" if costed else ""),
             "| --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if equiv else "")
             + (" --- |" if costed else "")]
    for a in arms:
        r = res[a]
        steps = [r["seeds"][s]["steps"] for s in sorted(r["seeds"])]
        steps_txt = ", ".join("never" if x is None else "%.0f" % x for x in steps)
        if r["speedup_mean"] is not None:
            sp = "%s ± %s" % (pct(r["speedup_mean"]), fmt(100 * r["speedup_sd"], "%.0f %%")
                                if not math.isnan(r["speedup_sd"]) else "–")
        else:
            sp = "never in %d of %d seeds" % (r["n"] - r["reached"], r["n"])
        rng = "%s .. %s" % (pct(r["speedup_min"]), pct(r["speedup_max"])) \
            if r["speedup_min"] is not None else "–"
        eq = ""
        if equiv:
            eq = " – |"
            if "equiv_speedup_mean" in r:
                eq = " %s ± %s%s |" % (pct(r["equiv_speedup_mean"]),
                                       fmt(100 * r["equiv_speedup_sd"], "%.0f %%"),
                                       " (%d beyond the lengths run)" % r["equiv_bounded"]
                                       if r["equiv_bounded"] else "")
        lines.append("| %s | %d | %s ± %s | %s ± %s | %s | %s | %s |%s%s" % (
            a, r["n"], fmt(r["final_mean"]), fmt(r["final_sd"]), fmt(r["delta_mean"], "%+.4f"),
            fmt(r["delta_sd"]), steps_txt, sp, rng, eq,
            (" %s |" % cost_cell(r)) if costed else ""))
    doms = sorted({d for a in arms for d in res[a]["domains_final"]},
                  key=lambda d: list(res[baseline]["domains_final"]).index(d)
                  if d in res[baseline]["domains_final"] else 99)
    lines += ["", "#### mix `%s`: final validation loss per domain (mean over the arm's seeds; "
              "paired Δ vs %s on the same seeds)" % (mix, baseline), "",
              "| arm | " + " | ".join(doms) + " |", "| --- |" + " --- |" * len(doms)]
    for a in arms:
        cells = []
        for d in doms:
            v = res[a]["domains_final"].get(d)
            dv = res[a]["domains_delta"].get(d)
            if a == baseline or v is None or dv is None:
                cells.append(fmt(v, "%.3f"))
            else:
                cells.append("%.3f (%+.3f)" % (v, dv))
        lines.append("| %s | %s |" % (a, " | ".join(cells)))
    wd = []
    for a in arms:
        for d in res[a]["weights"]:
            if d not in wd:
                wd.append(d)
    lines += ["", "#### mix `%s`: mean weight N·w per domain after the reweighting warm-up "
              "(1 = uniform share); ESS/N; share of samples with weight 0" % mix, "",
              "| arm | " + " | ".join(wd) + " | ESS/N | w = 0 |",
              "| --- |" + " --- |" * (len(wd) + 2)]
    for a in arms:
        lines.append("| %s | %s | %.2f | %.1f %% |" % (
            a, " | ".join(fmt(res[a]["weights"].get(d), "%.2f") for d in wd), res[a]["ess"],
            100 * res[a]["zero_share"]))
    # what the learnability-aware rules saw: reference losses, lambdas
    sig_arms = [a for a in arms if any(v[1] is not None or v[2] is not None
                                       for v in res[a]["signals"].values())]
    if sig_arms:
        lines += ["", "#### mix `%s`: what the learnability-aware rules saw, per domain after the "
                  "warm-up: mean train loss / mean reference loss (reducible) or learnability "
                  "λ in 1e-3 nats per step (per unit of weight unless --rw-learn-raw)" % mix, "",
                  "| arm | " + " | ".join(wd) + " |", "| --- |" + " --- |" * len(wd)]
        for a in sig_arms:
            cells = []
            for d in wd:
                v = res[a]["signals"].get(d)
                if v is None:
                    cells.append("–")
                elif v[1] is not None:
                    cells.append("%.2f / %.2f" % (v[0], v[1]))
                elif v[2] is not None:
                    cells.append("%.2f / λ %+.2f" % (v[0], 1e3 * v[2]))
                else:
                    cells.append("%.2f" % v[0])
            lines.append("| %s | %s |" % (a, " | ".join(cells)))
    return "\n".join(lines) + "\n"


def track_table(mix, arms, order, domain, width):
    """One domain's mean N*w and train loss over time, per arm (seed 1, or the
    lowest seed): the dynamics the end-of-run means average away."""
    rows = []
    for a in [x for x in order if x in arms]:
        run = arms[a][min(arms[a])]
        bins = weight_bins(run, width)
        rows.append((a, [(c, b.get(domain)) for c, b in bins]))
    if not rows:
        return ""
    heads = ["%d-%d" % (c - width / 2, c + width / 2) for c, _ in rows[0][1]]
    lines = ["#### mix `%s`: domain `%s` over time, %d-step bins (lowest seed): mean N·w / mean "
             "train loss" % (mix, domain, width), "",
             "| arm | " + " | ".join(heads) + " |", "| --- |" + " --- |" * len(heads)]
    for a, cells in rows:
        lines.append("| %s | %s |" % (a, " | ".join(
            "–" if v is None else "%.2f / %.2f" % (v[0], v[1]) for _, v in cells)))
    return "\n".join(lines) + "\n"


def regime_table(mix, regimes, baseline, arms_wanted):
    """regimes: [(label, {arm: result of analyse})] -> one markdown table."""
    lines = ["#### mix `%s`: regimes — paired difference to %s and speed-up, per setting"
             % (mix, baseline), "",
             "| regime | arm | seeds | Δ final val loss vs %s (paired) | steps to %s's final "
             "| speed-up (steps) | speed-up incl. reference |" % (baseline, baseline),
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for label, res in regimes:
        for a in [x for x in arms_wanted if x in res and x != baseline]:
            r = res[a]
            steps = [r["seeds"][s]["steps"] for s in sorted(r["seeds"])]
            steps_txt = ", ".join("never" if x is None else "%.0f" % x for x in steps)
            if r["speedup_mean"] is not None:
                sp = pct(r["speedup_mean"]) + (" ± " + fmt(100 * r["speedup_sd"], "%.0f %%")
                                                if r["n"] > 1 else "")
            else:
                sp = "never in %d of %d" % (r["n"] - r["reached"], r["n"])
            lines.append("| %s | %s | %d | %s ± %s | %s | %s | %s |" % (
                label, a, r["n"], fmt(r["delta_mean"], "%+.4f"), fmt(r["delta_sd"]),
                steps_txt, sp, cost_cell(r)))
    return "\n".join(lines) + "\n"


# ---- plots ---------------------------------------------------------------------

def seed_mean_curve(seeds):
    """Steps and the mean, min and max validation loss over seeds."""
    runs = list(seeds.values())
    steps = [v[0] for v in runs[0]["val"]]
    ys = [[v[1] for v in r["val"]] for r in runs if [v[0] for v in r["val"]] == steps]
    cols = list(zip(*ys))
    return steps, [mean(c) for c in cols], [min(c) for c in cols], [max(c) for c in cols]


def delta_curve(seeds, base):
    runs = [(r, base[s]) for s, r in seeds.items() if s in base]
    steps = [v[0] for v in runs[0][0]["val"]]
    ys = []
    for r, b in runs:
        bl = {v[0]: v[1] for v in b["val"]}
        if all(v[0] in bl for v in r["val"]):
            ys.append([v[1] - bl[v[0]] for v in r["val"]])
    cols = list(zip(*ys))
    return steps, [mean(c) for c in cols], [min(c) for c in cols], [max(c) for c in cols]


def weight_bins(run, width):
    """[(bin centre, {domain: (N*w, loss)})] over bins of `width` steps."""
    last = run["train"][-1][0] + 1 if run["train"] else 0
    return [(b + width / 2, domain_weights(run, b, b + width)) for b in range(0, last, width)]


def plots(mix, arms, res, baseline, order, outdir, width):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("convergence_report: matplotlib is not installed; plots skipped", file=sys.stderr)
        return []
    names = [a for a in order if a in res]
    colours = {a: plt.cm.tab10(i % 10) for i, a in enumerate(names)}
    written = []

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for a in names:
        st, m, lo, hi = seed_mean_curve(arms[a])
        ax1.plot(st, m, label=a, color=colours[a], lw=1.2)
        st, m, lo, hi = delta_curve(arms[a], arms[baseline])
        ax2.plot(st, m, color=colours[a], lw=1.2)
        if len(arms[a]) > 1 and a != baseline:
            ax2.fill_between(st, lo, hi, color=colours[a], alpha=0.15, lw=0)
    ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.set_ylabel("validation loss (nats/byte, mean of real domains)")
    ax1.set_title("%s mix: validation loss (seed mean)" % mix)
    ax1.legend(fontsize=7)
    ax2.axhline(0, color="k", lw=0.6)
    st0 = seed_mean_curve(arms[baseline])[0]
    ax2.set_xlim(st0[len(st0) // 5], st0[-1])
    ymax = max([abs(y) for a in names for y in delta_curve(arms[a], arms[baseline])[1]
                [len(st0) // 5:]] + [0.01])
    ax2.set_ylim(-1.1 * ymax, 1.1 * ymax)
    ax2.set_xlabel("step")
    ax2.set_ylabel("validation loss − %s's (same seed)" % baseline)
    ax2.set_title("difference to %s (band: min..max over seeds)" % baseline)
    fig.tight_layout()
    p = os.path.join(outdir, "conv_%s_loss.png" % mix)
    fig.savefig(p, dpi=80)
    plt.close(fig)
    written.append(p)

    doms = list(res[baseline]["domains_final"])
    others = [a for a in names if a != baseline]
    fig, ax = plt.subplots(figsize=(11, 3.8))
    w = 0.8 / max(1, len(others))
    for i, a in enumerate(others):
        ys = [res[a]["domains_delta"].get(d, float("nan")) for d in doms]
        ax.bar([j + i * w for j in range(len(doms))], ys, w, label=a, color=colours[a])
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks([j + w * (len(others) - 1) / 2 for j in range(len(doms))])
    ax.set_xticklabels(doms)
    ax.set_ylabel("final val loss − %s's" % baseline)
    ax.set_title("%s mix: final validation loss per domain, paired difference to %s (seed mean)"
                 % (mix, baseline))
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    p = os.path.join(outdir, "conv_%s_domains.png" % mix)
    fig.savefig(p, dpi=80)
    plt.close(fig)
    written.append(p)

    if not others:
        return written
    alld = []
    for a in others:
        for d in res[a]["weights"]:
            if d not in alld:
                alld.append(d)
    dcol = {d: plt.cm.tab10(i % 10) for i, d in enumerate(alld)}
    cols = min(4, len(others))
    rows = (len(others) + cols - 1) // cols
    fig, axs = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False,
                            sharey=True)
    for i, a in enumerate(others):
        ax = axs[i // cols][i % cols]
        per_seed = [weight_bins(r, width) for r in arms[a].values()]
        for d in alld:
            xs, ys = [], []
            for k, (x, _) in enumerate(per_seed[0]):
                vals = [ps[k][1][d][0] for ps in per_seed if k < len(ps) and d in ps[k][1]]
                if vals:
                    xs.append(x)
                    ys.append(mean(vals))
            ax.plot(xs, ys, color=dcol[d], lw=1.1, label=d)
        ax.axhline(1, color="k", lw=0.5)
        ax.set_yscale("log")
        ax.set_title(a, fontsize=9)
        ax.tick_params(labelsize=7)
    for j in range(len(others), rows * cols):
        axs[j // cols][j % cols].axis("off")
    axs[0][0].legend(fontsize=6)
    axs[0][0].set_ylabel("mean N·w per domain")
    fig.suptitle("%s mix: weight per domain over time (1 = uniform share; %d-step bins, seed mean)"
                 % (mix, width), fontsize=10)
    fig.tight_layout()
    p = os.path.join(outdir, "conv_%s_weights.png" % mix)
    fig.savefig(p, dpi=80)
    plt.close(fig)
    written.append(p)

    fig, axs = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False,
                            sharey=True)
    for i, a in enumerate(others):
        ax = axs[i // cols][i % cols]
        for d in alld:
            xs, ys = [], []
            for r in arms[a].values():
                start = rw_start(r) or 0
                for x, dw in weight_bins(r, width):
                    if x > start and d in dw:
                        ys.append(dw[d][0])
                        xs.append(dw[d][1])
            ax.scatter(xs, ys, s=5, color=dcol[d], label=d)
        ax.axhline(1, color="k", lw=0.5)
        ax.set_yscale("log")
        ax.set_title(a, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("train loss of the domain", fontsize=7)
    for j in range(len(others), rows * cols):
        axs[j // cols][j % cols].axis("off")
    axs[0][0].legend(fontsize=6, markerscale=2)
    axs[0][0].set_ylabel("mean N·w")
    fig.suptitle("%s mix: weight against loss per domain (one point per %d-step bin and seed, "
                 "after warm-up)" % (mix, width), fontsize=10)
    fig.tight_layout()
    p = os.path.join(outdir, "conv_%s_wvl.png" % mix)
    fig.savefig(p, dpi=80)
    plt.close(fig)
    written.append(p)
    return written


# ---- main ----------------------------------------------------------------------

def jsonable(x):
    """NaN (an sd of one seed) and infinities become null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results")
    ap.add_argument("--mixes", default="clean,noisy")
    ap.add_argument("--baseline", default="uniform")
    ap.add_argument("--order", help="arms in table order (default: baseline first, then by name)")
    ap.add_argument("--md", help="write the tables here (default: stdout)")
    ap.add_argument("--jsonl", help="write per-seed and per-arm figures here")
    ap.add_argument("--plots", help="write the PNG plots into this directory")
    ap.add_argument("--bin", type=int, default=25, help="steps per bin of the weight plots")
    ap.add_argument("--lengths", help="comma-separated results directories holding "
                    "<mix>/<baseline>/seed<S> runs of other lengths (uniform-equivalent steps)")
    ap.add_argument("--regimes", help="comma-separated LABEL=DIR results directories of the "
                    "same benchmark with one setting changed each: adds a regime table per mix")
    ap.add_argument("--regime-arms", help="arms in the regime tables (default: all found)")
    ap.add_argument("--track", help="comma-separated domains: a table of each one's weight "
                    "and train loss over time per arm")
    ap.add_argument("--track-bin", type=int, default=100, help="steps per bin of --track")
    a = ap.parse_args()
    data = load(a.results, [m for m in a.mixes.split(",") if m])
    if not data:
        raise SystemExit("convergence_report: no finished runs under %s" % a.results)
    md, records = [], []
    for mix, arms in data.items():
        res = analyse(arms, a.baseline)
        if a.lengths:
            lengths = {}
            for d in a.lengths.split(","):
                for s, run in load(d, [mix]).get(mix, {}).get(a.baseline, {}).items():
                    lengths.setdefault(s, []).append((run["val"][-1][0], run["val"][-1][1]))
            if lengths:
                add_equivalents(res, arms[a.baseline], lengths)
        order = a.order.split(",") if a.order else \
            [a.baseline] + sorted(x for x in res if x != a.baseline)
        order += sorted(x for x in res if x not in order)
        md.append(table(mix, res, a.baseline, order))
        for dom in [d for d in (a.track or "").split(",") if d]:
            t = track_table(mix, arms, order, dom, a.track_bin)
            if t:
                md.append(t)
        for arm, r in res.items():
            for s, p in r["seeds"].items():
                records.append(dict(p, type="run", mix=mix, arm=arm, seed=s))
            agg = {k: v for k, v in r.items() if k != "seeds"}
            records.append(dict(agg, type="arm", mix=mix, arm=arm))
        if a.plots:
            os.makedirs(a.plots, exist_ok=True)
            for p in plots(mix, arms, res, a.baseline, order, a.plots, a.bin):
                print("convergence_report: wrote %s" % p, file=sys.stderr)
    if a.regimes:
        for mix in [m for m in a.mixes.split(",") if m]:
            regimes, found = [], []
            for item in a.regimes.split(","):
                label, sep, d = item.partition("=")
                if not sep:
                    raise SystemExit("convergence_report: --regimes '%s': expected LABEL=DIR" % item)
                got = load(d, [mix]).get(mix)
                if got and a.baseline in got:
                    res = analyse(got, a.baseline)
                    regimes.append((label, res))
                    found += [x for x in sorted(res) if x not in found]
                    for arm, r in res.items():
                        agg = {k: v for k, v in r.items() if k not in ("seeds", "signals")}
                        records.append(dict(agg, type="regime", regime=label, mix=mix, arm=arm))
            if regimes:
                want = a.regime_arms.split(",") if a.regime_arms else found
                md.append(regime_table(mix, regimes, a.baseline, want))
    text = "\n".join(md)
    if a.md:
        with open(a.md, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    if a.jsonl:
        with open(a.jsonl, "w") as fh:
            for r in records:
                fh.write(json.dumps(jsonable(r), sort_keys=True, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
