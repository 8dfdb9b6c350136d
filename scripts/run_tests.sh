#!/usr/bin/env bash
# Runs the whole test suite on both TensorFlow lines (1.15 and 2.x).
#
# Usage: scripts/run_tests.sh [tf1|tf2|both] [pytest arguments...]
# Exits non-zero if either line fails.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lines="${1:-both}"
[ $# -gt 0 ] && shift
[ "$lines" = "both" ] && lines="tf1 tf2"
status=0
summary=""
for line in $lines; do
  python_bin="$("$root/scripts/make_env.sh" "$line" | tail -n 1)" || exit 1
  echo "===== tests on $line ($("$python_bin" -c 'import tensorflow as tf, sys; print("TensorFlow", tf.__version__, "Python", sys.version.split()[0])' 2>/dev/null)) ====="
  (cd "$root" && TF_CPP_MIN_LOG_LEVEL=2 "$python_bin" -m pytest -q -p no:cacheprovider "$@" tests)
  code=$?
  summary="$summary $line=$code"
  [ $code -ne 0 ] && status=1
done
echo "===== exit codes:$summary ====="
exit $status
