#!/usr/bin/env bash
# Creates (or reuses) the virtual environment of one TensorFlow line.
#
# Usage: scripts/make_env.sh tf1|tf2|tf3|newest
#        scripts/make_env.sh --find-python tf1|tf2|tf3|newest
# Prints the environment's python path on its last line. The environment has
# the line's requirements, those of the tests (requirements-test.txt) and the
# extras of demo.py's pictures and of the notebook (requirements-notebook.txt);
# it is rebuilt when one of these files changes. `newest` is the newest line
# whose Python this machine has: tf3, else tf2, else tf1.
# --find-python makes nothing: it prints the environment's python if it is
# up to date, else the Python it would be made with.
# Exits with 3 when the line's Python is not found (saying how to add it on
# the last line of stderr), with 2 on a wrong argument.
set -euo pipefail
usage="usage: scripts/make_env.sh [--find-python] tf1|tf2|tf3|newest"
root="$(cd "$(dirname "$0")/.." && pwd)"
find_only=0
if [ "${1:-}" = "--find-python" ]; then find_only=1; shift; fi
line="${1:?$usage}"

# Sets the Python versions (in order of preference) and requirements file
# of a line.
line_settings() {
  case "$1" in
    tf1) versions="3.7.16"; reqs="requirements.txt" ;;
    tf2) versions="3.11"; reqs="requirements-tf2.txt" ;;
    tf3) versions="3.12 3.13"; reqs="requirements-tf3.txt" ;;
    *) echo "unknown TensorFlow line '$1' (expected tf1, tf2, tf3 or newest)" >&2
       exit 2 ;;
  esac
}

pyenv_root="${PYENV_ROOT:-}"
if [ -z "$pyenv_root" ] && command -v pyenv >/dev/null 2>&1; then
  pyenv_root="$(pyenv root)"
fi
[ -n "$pyenv_root" ] || pyenv_root="${HOME:-}/.pyenv"
venv_note=""

# Succeeds if $1 is a Python $2 (3.7.16: any 3.7) that can make a venv.
usable() {
  local py="$1" minor="${2%.${2#*.*.}}"
  "$py" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$minor')" \
    >/dev/null 2>&1 || return 1
  if ! "$py" -c "import ensurepip, venv" >/dev/null 2>&1; then
    venv_note="Found $py, but without its venv module (on Debian or Ubuntu: apt install python$minor-venv)."
    return 1
  fi
}

# Sets python_bin to the first usable Python of the current line: for each
# of its versions, pyenv's (newest patch release first), then pythonX.Y on
# the PATH.
find_python() {
  local want minor name candidate
  for want in $versions; do
    minor="${want%.${want#*.*.}}"
    if [ -n "$pyenv_root" ] && [ -d "$pyenv_root/versions" ]; then
      for name in $(ls "$pyenv_root/versions" | grep -E "^${want//./\\.}(\\.[0-9]+)*$" | sort -rV); do
        candidate="$pyenv_root/versions/$name/bin/python"
        usable "$candidate" "$want" && { python_bin="$candidate"; return 0; }
      done
    fi
    if candidate="$(command -v "python$minor")" && usable "$candidate" "$want"; then
      python_bin="$candidate"; return 0
    fi
  done
  return 1
}

stamp_of() {
  cat "$root/$reqs" "$root/requirements-test.txt" \
    "$root/requirements-notebook.txt" | cksum | cut -d' ' -f1
}

# Succeeds if the line's environment is built and up to date.
env_ready() {
  local venv="$root/.venv/$1"
  [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$(stamp_of)" ]
}

if [ "$line" = "newest" ]; then
  for candidate_line in tf3 tf2 tf1; do
    line_settings "$candidate_line"
    newer_note="$venv_note"
    if env_ready "$candidate_line" || find_python; then
      line="$candidate_line"
      [ -n "$newer_note" ] && echo "$newer_note" >&2
      break
    fi
  done
  if [ "$line" = "newest" ]; then
    echo "error: none of the Pythons of the TensorFlow lines was found" \
         "(3.12 or 3.13 for tf3, 3.11 for tf2, 3.7.16 for tf1)." >&2
    [ -n "$venv_note" ] && echo "$venv_note" >&2
    echo "Add one with 'pyenv install 3.12' (or put python3.12 on the PATH)." >&2
    exit 3
  fi
  echo "Using the $line line, the newest one whose Python is here." >&2
fi
line_settings "$line"
venv="$root/.venv/$line"
tf_version="$(grep -m 1 -o '^tensorflow[a-z-]*==[0-9.]*' "$root/$reqs" | sed 's/.*==//')"

if env_ready "$line"; then
  echo "$venv/bin/python"
  exit 0
fi

if ! find_python; then
  first="${versions%% *}"
  wanted="$first"
  [ "$versions" != "$first" ] && wanted="$first (or ${versions#* })"
  echo "error: TensorFlow $tf_version (the $line line) needs Python $wanted, which was not found." >&2
  [ -n "$venv_note" ] && echo "$venv_note" >&2
  echo "Add it with 'pyenv install $first' (or put python${first%.${first#*.*.}} on the PATH)." >&2
  exit 3
fi
if [ "$find_only" = 1 ]; then
  echo "$python_bin"
  exit 0
fi
echo "Creating the $line environment in $venv with $python_bin ..." >&2
rm -rf "$venv"
"$python_bin" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade "pip<24.1" >&2
"$venv/bin/python" -m pip install --quiet -r "$root/$reqs" \
  -r "$root/requirements-test.txt" -r "$root/requirements-notebook.txt" >&2
stamp_of > "$venv/.stamp"
echo "$venv/bin/python"
