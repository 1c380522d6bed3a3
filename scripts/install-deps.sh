#!/bin/sh
# Installs what heft's build, tests and benchmarks need on Debian 12 / Ubuntu.
# Usage: scripts/install-deps.sh [--with-bench]   (run as root or with sudo available)
#   --with-bench  also PyTorch (reference vectors), matplotlib (plots) and the
#                 Debian text packages the convergence corpus is made from.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS="build-essential python3 autoconf automake libtool pkg-config libopenblas-dev \
  ocl-icd-opencl-dev libclblast-dev pocl-opencl-icd clinfo mpich libmpich-dev check \
  libjansson-dev libpcre2-dev g++ libsentencepiece-dev sentencepiece"
if [ "${1:-}" = "--with-bench" ]; then
  PKGS="$PKGS python3-numpy python3-matplotlib python3-torch fortunes \
    dict-gcide bible-kjv-text"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $PKGS
