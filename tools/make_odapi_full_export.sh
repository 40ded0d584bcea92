#!/usr/bin/env bash
# Build the full-size SSD-MobileNetV2 OD API export (standard zoo config,
# 300x300, 90 classes, random weights; ~55 MB) used by the slow tests and
# reports/parity/odapi_ssd_mobilenet_v2_300_cpu.*, in the separate OD API venv
# of make_odapi_export.sh (made there if missing). Kept out of git.
# Usage: tools/make_odapi_full_export.sh [OUT_DIR]
#   (default tests/fixtures/large/odapi_ssd_mobilenet_v2_300)
# Env: ODAPI_VENV (default /tmp/odapi), PYTHON310 (default pyenv's 3.10.13).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../tests/fixtures/large/odapi_ssd_mobilenet_v2_300}"
venv="${ODAPI_VENV:-/tmp/odapi}"
python310="${PYTHON310:-$(pyenv root)/versions/3.10.13/bin/python3.10}"
if [ ! -x "$venv/bin/python" ]; then
  uv venv --python "$python310" "$venv"
  uv pip install --python "$venv/bin/python" -r "$here/odapi_requirements.txt"
fi
export TF_USE_LEGACY_KERAS=1 PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python
export TF_CPP_MIN_LOG_LEVEL=2
"$venv/bin/python" "$here/make_odapi_full_export.py" "$out" --seed 0
