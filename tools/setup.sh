#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: the data, graphviz and OpenBLAS from Debian, symdl (with MKL) from this tree.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v dot >/dev/null || need+=(graphviz)
# PyTensor's C backend links it for its matrix products (symdl points PyTensor at it)
[ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] || ldconfig -p 2>/dev/null | grep -q "libopenblas.so " || need+=(libopenblas-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
python -m pip install -q -e ".[test,music,sweep,mkl]"
