#!/usr/bin/env bash
# Runs the whole test suite on every TensorFlow line whose Python this
# machine has: tf1 (1.15), tf2 (2.15) and tf3 (2.21).
#
# Usage: scripts/run_tests.sh [all|tf1|tf2|tf3] [pytest arguments...]
# `all` is the default (`both` is another name for it). Under `all`, a line
# whose Python is missing is skipped, except with CI=true, where it fails the
# run; a line named alone fails when its Python is missing. Pytest arguments
# that name test files or folders replace `tests`. Ends with a summary of the
# lines that ran and were skipped; exits non-zero if a line failed or if no
# line ran.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
choice=all
case "${1:-}" in
  all|both|tf1|tf2|tf3) choice="$1"; shift ;;
esac
optional=0
lines="$choice"
if [ "$choice" = all ] || [ "$choice" = both ]; then
  lines="tf1 tf2 tf3"
  [ "${CI:-}" = true ] || optional=1
fi

paths=()
for arg in "$@"; do
  case "$arg" in /*) path="${arg%%::*}" ;; *) path="$root/${arg%%::*}" ;; esac
  [ "${arg#-}" = "$arg" ] && [ -e "$path" ] && paths+=("$arg")
done
[ ${#paths[@]} -eq 0 ] && set -- "$@" tests

status=0
summary=()
ran=""
skipped=""
for line in $lines; do
  if ! missing="$("$root/scripts/make_env.sh" --find-python "$line" 2>&1 >/dev/null)"; then
    if [ $optional = 1 ]; then
      summary+=("$line: skipped, its Python is missing")
    else
      summary+=("$line: FAILED, its Python is missing$([ "${CI:-}" = true ] && echo ' (CI=true)')")
      status=1
    fi
    while IFS= read -r message; do
      summary+=("  ${message#error: }")
    done <<< "$missing"
    skipped="$skipped $line"
    continue
  fi
  python_bin="$("$root/scripts/make_env.sh" "$line" | tail -n 1)"
  code=$?
  if [ $code -ne 0 ]; then
    summary+=("$line: FAILED, its environment could not be made (exit code $code)")
    status=1
    continue
  fi
  versions="$("$python_bin" -c 'import sys, tensorflow as tf; print("TensorFlow %s, Python %s" % (tf.__version__, sys.version.split()[0]))' 2>/dev/null | tail -n 1)"
  echo "===== tests on $line (${versions:-TensorFlow does not import}) ====="
  start=$SECONDS
  (cd "$root" && TF_CPP_MIN_LOG_LEVEL=2 "$python_bin" -m pytest -q -p no:cacheprovider "$@")
  code=$?
  case $code in 0) result=passed ;; 5) result="FAILED, no tests ran" ;; *) result=FAILED ;; esac
  summary+=("$line: $result (exit code $code, $((SECONDS - start)) s), ${versions:-TensorFlow does not import}")
  ran="$ran $line"
  [ $code -ne 0 ] && status=1
done
if [ -z "$ran" ]; then
  summary+=("no TensorFlow line could run")
  status=1
fi
echo "===== summary ====="
printf '%s\n' "${summary[@]}"
echo "===== ran:${ran:- none}; $([ $optional = 1 ] && echo skipped || echo missing):${skipped:- none}; exit code $status ====="
exit $status
