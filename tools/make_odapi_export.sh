#!/usr/bin/env bash
# Rebuild tests/fixtures/odapi_ssd_mobilenet_v2 (a real TF OD API SavedModel
# export, random weights) and tests/fixtures/odapi_frozen (the same model
# through OD API's TF1 frozen-graph exporter) in a separate, throwaway venv
# (about 2.7 GB; never inside the repository). Usage:
#   tools/make_odapi_export.sh [FIXTURES_DIR]   (default: tests/fixtures)
# Env: ODAPI_VENV (default /tmp/odapi), PYTHON310 (default pyenv's 3.10.13).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="${1:-$here/../tests/fixtures}"
venv="${ODAPI_VENV:-/tmp/odapi}"
python310="${PYTHON310:-$(pyenv root)/versions/3.10.13/bin/python3.10}"
if [ ! -x "$venv/bin/python" ]; then
  uv venv --python "$python310" "$venv"
  uv pip install --python "$venv/bin/python" -r "$here/odapi_requirements.txt"
fi
# TF_USE_LEGACY_KERAS: OD API 2.8 needs Keras 2 (tf-keras), not Keras 3.
# python protobuf: the package's pre-compiled *_pb2.py are too old for upb.
export TF_USE_LEGACY_KERAS=1 PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python
export TF_CPP_MIN_LOG_LEVEL=2
"$venv/bin/python" "$here/make_odapi_export.py" "$fixtures/odapi_ssd_mobilenet_v2" --seed 0
"$venv/bin/python" "$here/make_odapi_frozen.py" "$fixtures/odapi_frozen" --seed 0
