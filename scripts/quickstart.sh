#!/bin/sh
# The README's first command: install the packages heft builds with (Debian 12
# or Ubuntu; uses sudo when not root), build heft, and train the tiny GPT-2 on
# the built-in data (a few minutes on two cores). Extra arguments go to
# `heft train`, e.g.  sh scripts/quickstart.sh --reweight linupper --rw-warmup 100
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
make -j"$(nproc)"
echo
echo "== heft train $*"
./heft train "$@"
