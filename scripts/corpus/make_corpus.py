#!/usr/bin/env python3
"""Builds the convergence benchmark's corpus: real text domains of different
difficulty and redundancy, made only from Debian packages and files already
on the machine, plus two controlled synthetic domains, then turns it into heft
datasets with `heft prepare` (byte tokens).

Real domains (each --domain-bytes bytes of whole documents, chosen by a
seeded shuffle, so the validation tail is a random sample of documents):
  bible     KJV chapters        (package bible-kjv: the `bible` program)
  fortunes  fortune cookies     (package fortunes: /usr/share/games/fortunes)
  dict      GCIDE entries       (package dict-gcide: /usr/share/dictd/gcide.dict.dz)
  c         C headers           (/usr/include/**/*.h)
  python    Python sources      (/usr/lib/python3.*/**/*.py)
Synthetic domains (train only: no validation split, so they never enter the
headline validation loss):
  dup       near-duplicates: --dup-passages passages of --dup-len bytes from
            the first half of the real domains (never their validation tail),
            copied over and over with a share --dup-mutate of letters changed.
            Redundant: learned fast, then nothing more to learn.
  noise     random printable ASCII and newlines: unlearnable beyond its
            unigram entropy, ln 96 = 4.56 nats per byte.
Mixes (heft dataset directories):
  clean     the real domains + dup, dup being --dup-share of the train bytes
  noisy     clean + noise, noise being --noise-share of the train bytes
            (the real and dup text is the same bytes as in clean)
  real      the real domains alone: what a perfect filter of dup and noise
            would train on (the benchmark's "oracle" reference)
  ref_clean, ref_noisy (with --ref-bytes N > 0): held-out data of the same
            kind for a reference model (the reducible rule, RHO-LOSS): N
            bytes per real domain of other documents than the train and
            validation text (the continuation of the same seeded order), and
            fresh near-duplicates (the same passages, other mutations) and
            noise at the mix's shares; train-only

Writes OUT/text/<domain>.txt, OUT/<mix>/ (dataset.txt + shards) and
OUT/corpus.json (parameters, sources, sizes and SHA-256 of every domain text,
the prepare commands). Deterministic for a given --seed and machine; the C and
Python sources depend on what is installed, so corpus.json records hashes.
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys

EXIT_MISSING = 3  # a source is not installed (the quick test skips on it)
REAL_DOMAINS = ("bible", "fortunes", "dict", "c", "python")
FILE_CAP = 16384  # bytes taken from one source file at most (cut at a line end)


class MissingSource(Exception):
    """A domain's source (package or directory) is not on this machine."""


def cut_at_line(text, cap):
    """The first `cap` bytes of text, shortened to end at a newline."""
    if len(text) <= cap:
        return text
    cut = text.rfind(b"\n", 0, cap)
    return text[: cut + 1] if cut > 0 else text[:cap]


def docs_bible():
    exe = shutil.which("bible")
    if exe is None:
        raise MissingSource("the `bible` program (Debian: bible-kjv, bible-kjv-text)")
    env = dict(os.environ, COLUMNS="80")
    out = subprocess.run([exe, "gen1:1-rev22:21"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                         check=True).stdout
    # a chapter starts at a header line such as "Genesis 2" or "1 Kings 3"
    parts = re.split(rb"\n(?=(?:[1-3] )?[A-Za-z][A-Za-z ]* [0-9]+\n)", out.strip(b"\n"))
    return [p.strip(b"\n") + b"\n" for p in parts if p.strip()]


def docs_fortunes():
    root = "/usr/share/games/fortunes"
    files = sorted(f for f in glob.glob(os.path.join(root, "*"))
                   if os.path.isfile(f) and not f.endswith((".dat", ".u8"))
                   and not os.path.islink(f))
    if not files:
        raise MissingSource("fortune files in %s (Debian: fortunes)" % root)
    docs = []
    for f in files:
        with open(f, "rb") as fh:
            for cookie in re.split(rb"\n%\n", fh.read()):
                cookie = cookie.strip(b"\n%")
                if cookie.strip():
                    docs.append(cookie + b"\n%\n")
    return docs


def docs_dict():
    path = "/usr/share/dictd/gcide.dict.dz"
    if not os.path.exists(path):
        raise MissingSource("%s (Debian: dict-gcide)" % path)
    with gzip.open(path, "rb") as fh:  # dictzip is gzip with an index
        text = fh.read()
    docs = []
    # an entry starts at a non-indented line after a blank line; indented
    # paragraphs (notes, senses) belong to the entry before them
    for para in re.split(rb"\n\n+", text):
        if not para.strip():
            continue
        if docs and para[:1] in (b" ", b"\t"):
            docs[-1] += b"\n" + para
        else:
            docs.append(para)
    # the database header and the letter-section banners are not entries
    docs = [d for d in docs if b"[1913 Webster]" in d or b"[WordNet" in d or b"[PJC]" in d]
    return [d + b"\n\n" for d in docs]


class SourceFiles:
    """Source files as documents, read only when taken (a full /usr/include is
    hundreds of MB): len() and [i] as take() needs them."""

    def __init__(self, pattern, what, comment):
        self.files = sorted(f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f))
        if not self.files:
            raise MissingSource("%s (%s)" % (what, pattern))
        self.comment = comment

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with open(self.files[i], "rb") as fh:
            body = cut_at_line(fh.read(FILE_CAP + 1), FILE_CAP)
        if not body.strip():
            return b""
        name = os.path.basename(self.files[i]).encode()
        return self.comment % name + body.rstrip(b"\n") + b"\n\n"


def docs_c():
    return SourceFiles("/usr/include/**/*.h", "C headers", b"/* file: %s */\n")


def docs_python():
    dirs = sorted(glob.glob("/usr/lib/python3.*"),
                  key=lambda d: [int(x) for x in re.findall(r"\d+", d)])
    if not dirs:
        raise MissingSource("a Python standard library in /usr/lib/python3.*")
    return SourceFiles(os.path.join(dirs[-1], "**", "*.py"), "Python sources", b"# file: %s\n")


SOURCES = {"bible": docs_bible, "fortunes": docs_fortunes, "dict": docs_dict,
           "c": docs_c, "python": docs_python}


def take(docs, budget, rng, ref_budget=0):
    """Whole documents in a seeded random order until `budget` bytes; with
    ref_budget, also the next documents of that order until ref_budget more
    (held-out text that shares no document with the first)."""
    order = list(range(len(docs)))
    rng.shuffle(order)
    parts = []
    k = 0
    for want in (budget, ref_budget):
        out, n = [], 0
        while k < len(order) and n < want:
            doc = docs[order[k]]
            out.append(doc)
            n += len(doc)
            k += 1
        parts.append(b"".join(out)[:want])
    return parts[0], parts[1]


def make_dup(real_texts, nbytes, passages, length, mutate, rng, copies_seed=None):
    """Near-duplicates of passages from the first half of the real texts;
    with copies_seed, the copies (not the passages) come from its own
    generator."""
    names = sorted(real_texts)
    bases = []
    for k in range(passages):
        text = real_texts[names[k % len(names)]]
        half = len(text) // 2
        if half <= length:
            raise ValueError("domain %s is too small for %d-byte passages" % (names[k % len(names)], length))
        start = rng.randrange(0, half - length)
        nl = text.rfind(b"\n", 0, start)  # start at a line start
        start = nl + 1 if nl >= 0 else 0
        bases.append(text[start:start + length])
    letters = b"abcdefghijklmnopqrstuvwxyz"
    if copies_seed is not None:
        rng = random.Random(copies_seed)
    out, n = [], 0
    while n < nbytes:
        copy = bytearray(bases[rng.randrange(len(bases))])
        for i, ch in enumerate(copy):
            if (65 <= ch <= 90 or 97 <= ch <= 122) and rng.random() < mutate:
                copy[i] = letters[rng.randrange(26)]
        copy += b"\n"
        out.append(bytes(copy))
        n += len(copy)
    return b"".join(out)[:nbytes]


def make_noise(nbytes, rng):
    alphabet = [chr(c) for c in range(32, 127)] + ["\n"]
    return "".join(rng.choices(alphabet, k=nbytes)).encode()


def find_heft(arg):
    if arg:
        return arg
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "..", "build", "heft")
    return os.path.normpath(built) if os.path.exists(built) else "heft"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="corpus directory (created)")
    ap.add_argument("--heft", help="heft program (default: build/heft of this tree, else PATH)")
    ap.add_argument("--domains", default=",".join(REAL_DOMAINS),
                    help="real domains to use (default: %(default)s)")
    ap.add_argument("--domain-bytes", type=int, default=400000,
                    help="bytes of text per real domain, train + validation (default %(default)s)")
    ap.add_argument("--val-fraction", type=float, default=0.05,
                    help="last fraction of each real domain held out (default %(default)s)")
    ap.add_argument("--dup-share", type=float, default=0.2,
                    help="near-duplicates' share of the clean mix's train bytes (default %(default)s)")
    ap.add_argument("--dup-passages", type=int, default=8, help="distinct passages (default %(default)s)")
    ap.add_argument("--dup-len", type=int, default=512, help="bytes per passage (default %(default)s)")
    ap.add_argument("--dup-mutate", type=float, default=0.02,
                    help="share of letters changed in each copy (default %(default)s)")
    ap.add_argument("--noise-share", type=float, default=0.1,
                    help="noise's share of the noisy mix's train bytes (default %(default)s)")
    ap.add_argument("--mixes", default="clean,noisy,real", help="mixes to prepare (default %(default)s)")
    ap.add_argument("--ref-bytes", type=int, default=0,
                    help="held-out bytes per real domain for a reference model: makes ref_clean "
                    "and ref_noisy (default 0: none)")
    ap.add_argument("--seed", type=int, default=1, help="selection and synthesis seed")
    ap.add_argument("--allow-missing", action="store_true",
                    help="skip real domains whose source is not installed (needs at least 2)")
    a = ap.parse_args()

    domains = [d for d in a.domains.split(",") if d]
    for d in domains:
        if d not in SOURCES:
            sys.exit("make_corpus: unknown domain '%s' (known: %s)" % (d, ", ".join(REAL_DOMAINS)))
    mixes = [m for m in a.mixes.split(",") if m]
    for m in mixes:
        if m not in ("clean", "noisy", "real"):
            sys.exit("make_corpus: unknown mix '%s' (clean, noisy or real)" % m)
    if not (0 <= a.dup_share < 1 and 0 <= a.noise_share < 1 and 0 < a.val_fraction < 1):
        sys.exit("make_corpus: shares must be in [0, 1) and --val-fraction in (0, 1)")

    heft = find_heft(a.heft)
    text_dir = os.path.join(a.out, "text")
    os.makedirs(text_dir, exist_ok=True)
    info = {"params": vars(a), "domains": {}, "skipped": {}, "mixes": {}}

    real, held = {}, {}
    for d in domains:
        try:
            docs = SOURCES[d]()
        except MissingSource as e:
            if not a.allow_missing:
                print("make_corpus: domain %s: missing %s; install it (scripts/install-deps.sh "
                      "--with-bench), drop the domain with --domains, or --allow-missing"
                      % (d, e), file=sys.stderr)
                sys.exit(EXIT_MISSING)
            info["skipped"][d] = str(e)
            print("make_corpus: skipping domain %s: missing %s" % (d, e), file=sys.stderr)
            continue
        # one generator per domain, so adding a domain does not change the others
        text, ref_text = take(docs, a.domain_bytes, random.Random("%d/%s" % (a.seed, d)),
                              a.ref_bytes)
        real[d] = text
        if a.ref_bytes > 0:
            if len(ref_text) < a.ref_bytes:
                print("make_corpus: domain %s: only %d of %d held-out bytes left after the "
                      "corpus" % (d, len(ref_text), a.ref_bytes), file=sys.stderr)
            held[d] = ref_text
        info["domains"][d] = {"kind": "real", "docs_available": len(docs)}
    if len(real) < 2:
        print("make_corpus: fewer than 2 real domains available (%s)" % ", ".join(real),
              file=sys.stderr)
        sys.exit(EXIT_MISSING)

    train_real = sum(int(len(t) * (1 - a.val_fraction)) for t in real.values())
    dup_bytes = int(round(a.dup_share / (1 - a.dup_share) * train_real))
    noise_bytes = int(round(a.noise_share / (1 - a.noise_share) * (train_real + dup_bytes)))
    synth = {}
    if dup_bytes > 0:
        synth["dup"] = make_dup(real, dup_bytes, a.dup_passages, a.dup_len, a.dup_mutate,
                                random.Random("%d/dup" % a.seed))
        info["domains"]["dup"] = {"kind": "near-duplicates"}
    if noise_bytes > 0 and "noisy" in mixes:
        synth["noise"] = make_noise(noise_bytes, random.Random("%d/noise" % a.seed))
        info["domains"]["noise"] = {"kind": "noise"}

    paths = {}
    for d, text in list(real.items()) + list(synth.items()):
        paths[d] = os.path.join(text_dir, d + ".txt")
        with open(paths[d], "wb") as fh:
            fh.write(text)
        info["domains"][d].update(bytes=len(text), sha256=hashlib.sha256(text).hexdigest())

    # held-out data for a reference model: the same recipe on other text
    ref_paths = {}
    if held:
        held_real = sum(len(t) for t in held.values())
        h_dup = int(round(a.dup_share / (1 - a.dup_share) * held_real))
        h_noise = int(round(a.noise_share / (1 - a.noise_share) * (held_real + h_dup)))
        held_synth = {}
        if h_dup > 0:
            # the same passages (from the real training text), other mutations
            held_synth["dup"] = make_dup(real, h_dup, a.dup_passages, a.dup_len, a.dup_mutate,
                                         random.Random("%d/dup" % a.seed), copies_seed="%d/refdup" % a.seed)
        if h_noise > 0:
            held_synth["noise"] = make_noise(h_noise, random.Random("%d/refnoise" % a.seed))
        for d, text in list(held.items()) + list(held_synth.items()):
            ref_paths[d] = os.path.join(text_dir, "ref_" + d + ".txt")
            with open(ref_paths[d], "wb") as fh:
                fh.write(text)
            info["domains"].setdefault("ref_" + d, {}).update(
                kind="held-out", bytes=len(text), sha256=hashlib.sha256(text).hexdigest())
        for m in [x for x in ("clean", "noisy") if x in mixes]:
            mixes.append("ref_" + m)

    for m in mixes:
        synth_in = {"clean": ("dup",), "noisy": ("dup", "noise"), "real": ()}[m.replace("ref_", "")]
        names = list(real) + [d for d in synth_in if d in synth]
        train_only = [d for d in names if d not in real]
        src = paths
        if m.startswith("ref_"):
            # all train: the reference model is judged by the learner's validation
            names = list(held) + [d for d in synth_in if d in synth]
            train_only = names
            src = ref_paths
        cmd = [heft, "prepare", "--out", os.path.join(a.out, m), "--force",
               "--val-fraction", repr(a.val_fraction)]
        for d in names:
            cmd += ["--input", "%s=%s" % (d, src[d])]
        if train_only:
            cmd += ["--train-only", ",".join(train_only)]
        print("+ " + " ".join(cmd), file=sys.stderr)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True)
        if r.returncode != 0:
            sys.exit("make_corpus: heft prepare failed for mix %s (exit %d)" % (m, r.returncode))
        print(r.stdout, end="")
        info["mixes"][m] = {"domains": names, "train_only": train_only, "command": cmd}

    with open(os.path.join(a.out, "corpus.json"), "w") as fh:
        json.dump(info, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
