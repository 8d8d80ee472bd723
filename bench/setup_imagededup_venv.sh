#!/bin/sh
# The baseline's own environment for bench/bench_dedupe.py: imagededup (and the torch /
# torchvision it needs) in a separate venv, never in the project's or a host's venv.
#   sh bench/setup_imagededup_venv.sh [VENV]      (default /work/bench-venvs/imagededup)
# torchvision 0.28.0 from PyPI is built against PyPI's torch 2.13.0 (the CUDA build, which runs on
# the CPU too); its compiled ops do not load beside a +cpu torch, so local +cpu wheels are kept out
# (no find-links, no pip configuration for that one command). That is ~3 GB of downloads (the
# NVIDIA runtime wheels), once.
set -e
VENV=${1:-/work/bench-venvs/imagededup}
PY=${PYTHON:-python3.11}
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "$VENV/bin/python" -m pip install -q \
    --index-url https://pypi.org/simple --force-reinstall --no-deps "torch==2.13.0" "torchvision==0.28.0"
env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "$VENV/bin/python" -m pip install -q \
    --index-url https://pypi.org/simple "torch==2.13.0" "torchvision==0.28.0"
"$VENV/bin/python" -m pip install -q "imagededup==0.3.3.post2" onnx
"$VENV/bin/python" -c "import imagededup, torch, torchvision; print('imagededup', imagededup.__version__, 'torch', torch.__version__, 'torchvision', torchvision.__version__)"
