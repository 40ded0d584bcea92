#!/usr/bin/env bash
# Rebuild the real TF OD API exports of tests/fixtures (random weights) in a
# separate, throwaway venv (about 2.7 GB; never inside the repository):
#   odapi_ssd_mobilenet_v2/  TF2 SavedModel, input_type image_tensor
#   odapi_frozen/            the same config through the TF1 frozen-graph exporter
#   odapi_input_types/<T>/   TF2, the other input types, with the weights of
#                            odapi_ssd_mobilenet_v2 (restored, byte for byte)
#   odapi_tf1_zoo/<T>/       TF1 exports in the TF1 model zoo's layout, the three
#                            TF1 input types, one weight set (sign weights)
#   (these two are then packed into odapi_exports.tar.xz and removed)
# and the OD API's own readings the tests compare with:
#   label_maps/odapi_reads.json, odapi_eval/reference.json
# Usage:
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
for type in float_image_tensor encoded_image_string_tensor tf_example; do
  "$venv/bin/python" "$here/make_odapi_export.py" "$fixtures/odapi_input_types/$type" \
    --input-type "$type" --weights-from "$fixtures/odapi_ssd_mobilenet_v2"
done
"$venv/bin/python" "$here/make_odapi_frozen.py" "$fixtures/odapi_tf1_zoo/image_tensor" \
  --seed 0 --zoo-layout --sign-weights
for type in encoded_image_string_tensor tf_example; do
  "$venv/bin/python" "$here/make_odapi_frozen.py" "$fixtures/odapi_tf1_zoo/$type" \
    --input-type "$type" --zoo-layout --no-checkpoint \
    --weights-from "$fixtures/odapi_tf1_zoo/image_tensor/model.ckpt"
done
# the export tests read these two from one xz archive (36 MB -> 1.7 MB)
python3 "$here/pack_odapi_fixtures.py" "$fixtures"
rm -rf "$fixtures/odapi_input_types" "$fixtures/odapi_tf1_zoo"
"$venv/bin/python" "$here/odapi_label_maps.py" "$fixtures/label_maps"
"$venv/bin/python" "$here/odapi_eval_reference.py" "$fixtures/odapi_eval/reference.json"
