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
per-domain validation loss), cmd.txt (the exact command) and cost.json (the
learner's FLOPs per step from `heft plan`, and the reference model's costs
for the arms that use one); its checkpoint and model are deleted. Finished
runs are skipped, so an interrupted benchmark continues where it stopped.

Arms with {REF} in their flags (reducible) need reference losses. The driver
makes them once per mix and sequence length, before the first such run, in
REF_DIR (default RESULTS/<mix>/_ref): it trains a small reference model
(--ref-flags, --ref-steps) with heft on CORPUS/ref_<mix> (held-out text of the
same kind, make_corpus.py --ref-bytes), then `heft score`s every training
window of CORPUS/<mix> with it. ref.json there records the commands and the
reference model's training and scoring FLOPs, which the report adds to every
speed-up claim of those arms.

  convergence.py list                       the arms and their heft flags
  convergence.py run --corpus C --mix clean --results R [--arms a,b] [--seeds 1,2,3] ...
"""
import argparse
import glob
import json
import os
import shlex
import struct
import subprocess
import sys
import time

# name -> heft train flags. {W} is the reweighting warm-up (--rw-warmup), {W3}
# three times that, {CORPUS} the corpus directory (a later --data wins), {REF}
# the mix's reference losses (made on first use, see above).
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
    # the learnability-aware rules (docs/REWEIGHTING.md): reducible loss
    # (RHO-LOSS: minus a reference model's loss) and per-domain loss decrease
    "reducible":    "--reweight reducible --r 0.4 --rw-warmup {W} --ref-losses {REF}",
    "reducible_r1": "--reweight reducible --r 1 --rw-warmup {W} --ref-losses {REF}",
    "learnability": "--reweight learnability --r 0.4 --rw-warmup {W}",
    "learnability_r1": "--reweight learnability --r 1 --rw-warmup {W}",
    # heft's own variant, from the pilot's weight tables: the raw loss slope
    # (no division by the weight share, which made the weights oscillate)
    # over longer EMAs (lags 19 and 99 steps): a steady plateau detector
    "learn_raw":    "--reweight learnability --rw-learn-raw --rw-learn-fast 0.95 "
                    "--rw-learn-slow 0.99 --r 0.4 --rw-warmup {W}",
    "linupper_r1_wu3": "--reweight linupper --r 1 --rw-warmup {W3}",
    "quadratic_r1": "--reweight quadratic --r 1 --rw-warmup {W}",
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


def arm_flags(arms, name, warmup, corpus, ref="{REF}"):
    if name not in arms:
        sys.exit("convergence: unknown arm '%s' (known: %s; define one with --arm NAME='flags')"
                 % (name, ", ".join(sorted(arms))))
    return shlex.split(arms[name].format(W=warmup, W3=3 * warmup, CORPUS=corpus, REF=ref))


def uses_ref(arms, name):
    return "{REF}" in arms[name]


def run_logged(cmd, log_path):
    """Runs cmd with its output in log_path; exits with the log's end on failure."""
    with open(log_path, "w") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    if rc != 0:
        with open(log_path) as fh:
            tail = fh.read()[-2000:]
        sys.exit("convergence: %s failed (exit %d); %s ends:\n%s" % (cmd[1], rc, log_path, tail))


def read_ref_header(path):
    """The costs recorded in a heft score side file (core/ref_losses.h)."""
    with open(path, "rb") as fh:
        h = fh.read(136)
    if len(h) < 136 or h[:8] != b"HEFTREFL":
        sys.exit("convergence: %s is not a reference-loss file" % path)
    seq, = struct.unpack_from("<I", h, 12)
    windows, count = struct.unpack_from("<QQ", h, 16)
    score_flops, train_flops = struct.unpack_from("<dd", h, 40)
    params, = struct.unpack_from("<Q", h, 56)
    model = h[64:128].split(b"\0")[0].decode()
    train_tokens, = struct.unpack_from("<Q", h, 128)
    return {"seq": seq, "windows": windows, "count": count, "score_flops": score_flops,
            "train_flops": train_flops, "params": params, "model": model,
            "train_tokens": train_tokens}


def ensure_ref(a, heft, mix):
    """The mix's reference losses (made once): the side file's path."""
    ref_dir = a.ref_dir or os.path.join(a.results, mix, "_ref")
    side = os.path.join(ref_dir, "ref_losses_T%d.bin" % a.seq)
    info_path = os.path.join(ref_dir, "ref_T%d.json" % a.seq)
    if os.path.exists(side) and os.path.exists(info_path):
        return side, info_path
    held = os.path.join(a.corpus, "ref_" + mix)
    if not os.path.exists(os.path.join(held, "dataset.txt")):
        sys.exit("convergence: %s has no dataset.txt: make the corpus with "
                 "make_corpus.py --ref-bytes N for the reference model" % held)
    os.makedirs(ref_dir, exist_ok=True)
    model_dir = os.path.join(ref_dir, "model")
    model = os.path.join(model_dir, "model.bin")
    t0 = time.time()
    train = [heft, "train", "--data", held, "--batch", str(a.batch), "--seq", str(a.seq),
             "--steps", str(a.ref_steps), "--lr", repr(a.lr), "--warmup", str(a.lr_warmup),
             "--val-every", "0", "--ckpt-every", "0", "--threads", str(a.threads), "--quiet",
             "--force", "--seed", "1", "--out", model_dir] + shlex.split(a.ref_flags)
    if not os.path.exists(model):
        print("convergence: training the reference model of %s (%d steps on %s)"
              % (mix, a.ref_steps, held), flush=True)
        run_logged(train, os.path.join(ref_dir, "train_log.txt"))
    t1 = time.time()
    tokens = a.ref_steps * a.batch * a.seq
    score = [heft, "score", "--model-file", model, "--data", os.path.join(a.corpus, mix),
             "--seq", str(a.seq), "--batch", "32", "--threads", str(a.threads),
             "--train-tokens", str(tokens), "--out", side]
    print("convergence: scoring every training window of %s with it" % mix, flush=True)
    run_logged(score, os.path.join(ref_dir, "score_log.txt"))
    info = read_ref_header(side)
    info.update(train_cmd=train, score_cmd=score, train_seconds=t1 - t0,
                score_seconds=time.time() - t1, side_file=os.path.abspath(side))
    with open(info_path, "w") as fh:
        json.dump(info, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print("convergence: reference losses %s: FLOPs %.3g training + %.3g scoring"
          % (side, info["train_flops"], info["score_flops"]), flush=True)
    return side, info_path


def plan_flops(heft, flags):
    """FLOPs per optimizer step of a run with these heft train flags (heft plan)."""
    keep = []
    skip = {"--out", "--data", "--ref-losses", "--val-every", "--val-batches", "--ckpt-every",
            "--threads", "--seed", "--steps", "--lr", "--warmup", "--rw-warmup", "--r",
            "--reweight", "--rw-outlier-k", "--rw-domain-ema", "--infobatch-prune", "--topq",
            "--dro-tau", "--rw-warmup-mode", "--rw-r-start"}
    i = 0
    while i < len(flags):
        f = flags[i]
        if f in ("--quiet", "--force", "--rw-outlier-domains"):
            i += 1
        elif f in skip:
            i += 2
        else:
            keep.append(f)
            i += 1
    out = subprocess.run([heft, "plan", "--vocab", "257", "--gemm-gflops", "1"] + keep,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True)
    for line in out.stdout.splitlines():
        if line.strip().startswith("FLOPs per rank"):
            return float(line.split()[-1])
    return None


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
    ref, ref_info = None, None
    if any(uses_ref(arms, n) for n in names):
        ref, ref_info = ensure_ref(a, heft, a.mix)
    total_t = time.time()
    for i, (name, seed) in enumerate(plan):
        out = os.path.join(a.results, a.mix, name, "seed%d" % seed)
        metrics = os.path.join(out, "metrics.jsonl")
        if finished(metrics, a.steps):
            print("[%d/%d] %s %s seed %d: done before, skipped" % (i + 1, len(plan), a.mix, name, seed))
            continue
        os.makedirs(out, exist_ok=True)
        flags = arm_flags(arms, name, warmup, a.corpus, ref)
        cmd = [heft, "train"] + common + flags + ["--seed", str(seed), "--out", out]
        cost = {"flops_per_step": plan_flops(heft, common + flags),
                "ref": os.path.abspath(ref_info) if uses_ref(arms, name) else None}
        with open(os.path.join(out, "cost.json"), "w") as fh:
            json.dump(cost, fh, sort_keys=True)
            fh.write("\n")
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
    r.add_argument("--ref-dir", help="where the mix's reference model and losses live "
                   "(default RESULTS/<mix>/_ref; share one between result sets of the same corpus)")
    r.add_argument("--ref-flags", default="--model tiny --layers 2 --channels 64 --heads 2",
                   help="heft train flags of the reference model (default: %(default)s)")
    r.add_argument("--ref-steps", type=int, default=400,
                   help="reference model training steps, batch and lr as the runs' (default %(default)s)")
    r.add_argument("extra", nargs="*", help="more heft train flags, after --")
    a = ap.parse_args()
    if a.cmd == "list":
        for name, flags in ARMS.items():
            print("%-14s %s" % (name, flags))
        print("default arms: " + DEFAULT_ARMS)
        print("{W} = --rw-warmup (default steps/10), {W3} = 3 x that, {CORPUS} = --corpus, "
              "{REF} = the mix's reference losses (made on first use)")
    elif a.cmd == "run":
        run(a)
    else:
        ap.print_help()


if __name__ == "__main__":
    main()
