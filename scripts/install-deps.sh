#!/bin/sh
# Installs what heft's build, tests and benchmarks need on Debian 12 / Ubuntu
# (clang: the fuzz targets, tests/fuzz/; util-linux: prlimit for the disk-full test).
# Usage: scripts/install-deps.sh [--with-bench] [--with-hf]   (root or sudo)
#   --with-bench  also PyTorch (reference vectors), matplotlib (plots) and the
#                 Debian text packages the convergence corpus is made from.
#   --with-hf     also Debian's PyTorch and a venv (.venv, with the system's
#                 packages) holding PyPI's transformers 4.46.3, tokenizers and
#                 safetensors: what the Hugging Face interop tests compare with
#                 (they skip, saying so, without it). Point HEFT_PYTHON at
#                 .venv/bin/python3.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS="build-essential python3 autoconf automake libtool pkg-config libopenblas-dev \
  ocl-icd-opencl-dev libclblast-dev pocl-opencl-icd clinfo mpich libmpich-dev check \
  libjansson-dev libpcre2-dev g++ libsentencepiece-dev sentencepiece clang util-linux"
WITH_HF=0
for arg in "$@"; do
  case $arg in
  --with-bench) PKGS="$PKGS python3-numpy python3-matplotlib python3-torch fortunes \
    dict-gcide bible-kjv-text" ;;
  --with-hf) PKGS="$PKGS python3-torch python3-venv python3-pip"; WITH_HF=1 ;;
  *) echo "install-deps.sh: unknown option $arg (--with-bench, --with-hf)" >&2; exit 2 ;;
  esac
done
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $PKGS
if [ "$WITH_HF" = 1 ]; then
  # transformers 4.46.3 is the last line that runs on Debian 12's PyTorch 1.13
  venv="$(cd "$(dirname "$0")/.." && pwd)/.venv"
  [ -x "$venv/bin/python3" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q "transformers==4.46.3" tokenizers safetensors ||
    echo "install-deps.sh: pip could not install transformers; the Hugging Face tests will skip" >&2
fi
