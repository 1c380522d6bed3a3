#!/usr/bin/env python3
"""bench/convergence: does loss-based reweighting speed up pretraining on real,
heterogeneous text? Trains the same small GPT-2 with `heft train` under several
reweighting rules ("arms") and seeds on a corpus made by
scripts/corpus/make_corpus.py, one run at a time; bench/convergence_report.py
turns the runs into tables and plots.

For a given seed every arm starts from the same initial weights and reads the
same rows in the same order (heft seeds both from --seed); only the weights
differ. Each run writes RESULTS/<mix>/<arm>/seed<S>/metrics.jsonl (heft's
per-step "train" lines with per-domain loss and weight, "val" lines with
per-domain validation loss) and cmd.txt (the exact command); its checkpoint
and model are deleted. Finished runs are skipped, so an interrupted benchmark
continues where it stopped.

  convergence.py list                       the arms and their heft flags
  convergence.py run --corpus C --mix clean --results R [--arms a,b] [--seeds 1,2,3] ...
"""
import argparse
import glob
import json
import os
import shlex
import subprocess
import sys
import time

# name -> heft train flags. {W} is the reweighting warm-up (--rw-warmup), {W3}
# three times that, {CORPUS} the corpus directory (a later --data wins).
ARMS = {
    "uniform":      "--reweight uniform",
    "linupper":     "--reweight linupper --r 0.4 --rw-warmup {W}",
    "quadratic":    "--reweight quadratic --r 0.4 --rw-warmup {W}",
    "extremes":     "--reweight extremes --r 0.4 --rw-warmup {W}",
    "linear":       "--reweight linear --r 0.4 --rw-warmup {W}",
    "infobatch":    "--reweight infobatch --infobatch-prune 0.5 --rw-warmup {W}",
    "topq":         "--reweight topq --topq 0.5 --rw-warmup {W}",
    "dro":          "--reweight dro --dro-tau 1 --rw-warmup {W}",
    # heft's robust variant: LinUpper without the domains whose samples are
    # mostly loss outliers (the outlier cut by domain)
    "robust":       "--reweight linupper --r 0.4 --rw-warmup {W} --rw-outlier-k 3 --rw-outlier-domains",
    "robust_r1":    "--reweight linupper --r 1 --rw-warmup {W} --rw-outlier-k 3 --rw-outlier-domains",
    # the cut by domain alone: uniform weights on the domains it keeps
    "uniform_cut":  "--reweight uniform --rw-outlier-k 3 --rw-outlier-domains",
    # the cut per sample (every loss above median + 3 robust sd), measured to
    # show why the cut acts on domains
    "robust_sample":      "--reweight linupper --r 0.4 --rw-warmup {W} --rw-outlier-k 3",
    "uniform_cut_sample": "--reweight uniform --rw-outlier-k 3",
    # LinUpper variants METHOD.md asks about
    "linupper_r1":  "--reweight linupper --r 1 --rw-warmup {W}",
    "linupper_wu3": "--reweight linupper --r 0.4 --rw-warmup {W3}",
    "linupper_dom": "--reweight linupper --r 0.4 --rw-warmup {W} --rw-domain-ema 0.9",
    # reference: uniform on the real domains alone (a perfect dup/noise filter)
    "oracle":       "--reweight uniform --data {CORPUS}/real",
}
DEFAULT_ARMS = "uniform,linupper,quadratic,extremes,infobatch,topq,dro,robust"


def parse_arm_defs(defs):
    arms = dict(ARMS)
    for d in defs or []:
        name, sep, flags = d.partition("=")
        if not sep or not name:
            sys.exit("convergence: --arm '%s': expected NAME='heft flags'" % d)
        arms[name] = flags
    return arms


def arm_flags(arms, name, warmup, corpus):
    if name not in arms:
        sys.exit("convergence: unknown arm '%s' (known: %s; define one with --arm NAME='flags')"
                 % (name, ", ".join(sorted(arms))))
    return shlex.split(arms[name].format(W=warmup, W3=3 * warmup, CORPUS=corpus))


def find_heft(arg):
    if arg:
        return arg
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.normpath(os.path.join(here, "..", "build", "heft"))
    return built if os.path.exists(built) else "heft"


def finished(metrics, steps):
    """True when metrics.jsonl holds the validation at the last step."""
    try:
        with open(metrics) as fh:
            for line in fh:
                rec = json.loads(line)
                if rec.get("type") == "val" and rec.get("step") == steps:
                    return True
    except (OSError, ValueError):
        pass
    return False


def final_val(metrics):
    last = None
    with open(metrics) as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("type") == "val":
                last = rec
    return last


def run(a):
    arms = parse_arm_defs(a.arm)
    names = [n for n in a.arms.split(",") if n]
    seeds = [int(s) for s in a.seeds.split(",") if s]
    warmup = a.rw_warmup if a.rw_warmup is not None else a.steps // 10
    data = os.path.join(a.corpus, a.mix)
    if not os.path.exists(os.path.join(data, "dataset.txt")):
        sys.exit("convergence: %s has no dataset.txt; make the corpus first "
                 "(scripts/corpus/make_corpus.py --out %s)" % (data, a.corpus))
    heft = find_heft(a.heft)
    common = ["--data", data, "--model", a.model, "--batch", str(a.batch), "--seq", str(a.seq),
              "--steps", str(a.steps), "--lr", repr(a.lr), "--warmup", str(a.lr_warmup),
              "--val-every", str(a.val_every), "--val-batches", str(a.val_batches),
              "--threads", str(a.threads), "--ckpt-every", "0", "--quiet", "--force"]
    common += a.extra
    plan = [(n, s) for s in seeds for n in names]  # seed-major: a full comparison early
    for n, _ in plan:
        arm_flags(arms, n, warmup, a.corpus)  # unknown names fail before any run
    total_t = time.time()
    for i, (name, seed) in enumerate(plan):
        out = os.path.join(a.results, a.mix, name, "seed%d" % seed)
        metrics = os.path.join(out, "metrics.jsonl")
        if finished(metrics, a.steps):
            print("[%d/%d] %s %s seed %d: done before, skipped" % (i + 1, len(plan), a.mix, name, seed))
            continue
        os.makedirs(out, exist_ok=True)
        cmd = [heft, "train"] + common + arm_flags(arms, name, warmup, a.corpus) + \
              ["--seed", str(seed), "--out", out]
        with open(os.path.join(out, "cmd.txt"), "w") as fh:
            env = " ".join("%s=%s" % (k, os.environ[k]) for k in ("OPENBLAS_CORETYPE",)
                           if k in os.environ)
            fh.write((env + " " if env else "") + " ".join(shlex.quote(c) for c in cmd) + "\n")
        t0 = time.time()
        with open(os.path.join(out, "log.txt"), "w") as log:
            rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
        for f in glob.glob(os.path.join(out, "ckpt_*")) + [os.path.join(out, "model.bin")]:
            if os.path.exists(f):
                os.remove(f)
        if rc != 0:
            with open(os.path.join(out, "log.txt")) as fh:
                tail = fh.read()[-2000:]
            sys.exit("convergence: %s seed %d failed (exit %d); %s/log.txt ends:\n%s"
                     % (name, seed, rc, out, tail))
        v = final_val(metrics)
        print("[%d/%d] %s %s seed %d: val loss %.4f  (%.0f s)" %
              (i + 1, len(plan), a.mix, name, seed, v["loss"], time.time() - t0), flush=True)
    print("convergence: %d runs of %s in %.0f s" % (len(plan), a.mix, time.time() - total_t))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd")
    sub.add_parser("list", help="print the arms")
    r = sub.add_parser("run", help="train every arm x seed not yet done")
    r.add_argument("--corpus", required=True, help="directory made by make_corpus.py")
    r.add_argument("--mix", required=True, help="clean or noisy (a dataset directory in --corpus)")
    r.add_argument("--results", required=True, help="where runs go: RESULTS/<mix>/<arm>/seed<S>")
    r.add_argument("--arms", default=DEFAULT_ARMS, help="default: %(default)s")
    r.add_argument("--arm", action="append", metavar="NAME=FLAGS",
                   help="define (or redefine) an arm by its heft train flags")
    r.add_argument("--seeds", default="1,2,3")
    r.add_argument("--steps", type=int, default=600)
    r.add_argument("--rw-warmup", type=int, help="uniform steps before reweighting (default steps/10)")
    r.add_argument("--model", default="tiny")
    r.add_argument("--batch", type=int, default=16)
    r.add_argument("--seq", type=int, default=128)
    r.add_argument("--lr", type=float, default=4e-3,
                   help="default %(default)s: the best of 2e-3, 4e-3, 8e-3 for uniform on the clean mix (docs/RESULTS.md)")
    r.add_argument("--lr-warmup", type=int, default=20)
    r.add_argument("--val-every", type=int, default=40)
    r.add_argument("--val-batches", type=int, default=4, help="batches per domain (0 = whole split)")
    r.add_argument("--threads", type=int, default=1,
                   help="heft threads (default 1: on a shared machine two OpenMP threads "
                   "stall each other whenever another program takes a core)")
    r.add_argument("--heft", help="heft program (default: build/heft of this tree, else PATH)")
    r.add_argument("extra", nargs="*", help="more heft train flags, after --")
    a = ap.parse_args()
    if a.cmd == "list":
        for name, flags in ARMS.items():
            print("%-14s %s" % (name, flags))
        print("default arms: " + DEFAULT_ARMS)
        print("{W} = --rw-warmup (default steps/10), {W3} = 3 x that, {CORPUS} = --corpus")
    elif a.cmd == "run":
        run(a)
    else:
        ap.print_help()


if __name__ == "__main__":
    main()
