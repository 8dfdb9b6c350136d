#!/usr/bin/env bash
# Creates (or reuses) the virtual environment of one TensorFlow line.
#
# Usage: scripts/make_env.sh tf1|tf2
# Prints the environment's python path on its last line. The environment is
# rebuilt when its requirements files change.
set -euo pipefail
line="${1:?usage: scripts/make_env.sh tf1|tf2}"
root="$(cd "$(dirname "$0")/.." && pwd)"
case "$line" in
  tf1) version="3.7.16"; reqs="requirements.txt" ;;
  tf2) version="3.11"; reqs="requirements-tf2.txt" ;;
  *) echo "unknown TensorFlow line '$line' (expected tf1 or tf2)" >&2; exit 2 ;;
esac
venv="$root/.venv/$line"

find_python() {
  local want="$1" candidate
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/"$want"*/bin/python; do
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  candidate="python${want%.*}"
  [ "$want" = "3.11" ] && candidate="python3.11"
  if command -v "$candidate" >/dev/null 2>&1; then
    command -v "$candidate"; return 0
  fi
  return 1
}

stamp="$(cat "$root/$reqs" "$root/requirements-test.txt" | cksum | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$venv/bin/python"
  exit 0
fi

if ! python_bin="$(find_python "$version")"; then
  echo "error: Python $version is needed for the $line environment but was not found." >&2
  echo "Install it with 'pyenv install $version' (or put python${version%.*} on PATH)." >&2
  exit 1
fi
echo "Creating the $line environment in $venv with $python_bin ..." >&2
rm -rf "$venv"
"$python_bin" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade "pip<24.1" >&2
"$venv/bin/python" -m pip install --quiet -r "$root/$reqs" -r "$root/requirements-test.txt" >&2
echo "$stamp" > "$venv/.stamp"
echo "$venv/bin/python"
