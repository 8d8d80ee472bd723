#!/bin/sh
# The baseline's own environment for bench/bench_dedupe.py: imagededup (and the torch /
# torchvision it needs) in a separate venv, never in the project's or a host's venv.
#   sh bench/setup_imagededup_venv.sh [VENV]      (default /work/bench-venvs/imagededup)
# torch is the CPU build 2.13.0+cpu (pip finds it through the machine's pip configuration; elsewhere
# add --extra-index-url https://download.pytorch.org/whl/cpu); torchvision 0.28.0 is the release
# built against torch 2.13.
set -e
VENV=${1:-/work/bench-venvs/imagededup}
PY=${PYTHON:-python3.11}
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "torch==2.13.0+cpu" "torchvision==0.28.0"
"$VENV/bin/python" -m pip install -q "imagededup==0.3.3.post2" onnx
"$VENV/bin/python" -c "import imagededup, torch, torchvision; print('imagededup', imagededup.__version__, 'torch', torch.__version__, 'torchvision', torchvision.__version__)"
