#!/bin/sh
# Kustomize's exec function: the ResourceList arrives on stdin and must leave on stdout.
# Uses the installed `zdrender` when it is on PATH, else the Python module (pip install zdrender).
if command -v zdrender >/dev/null 2>&1; then
  exec zdrender "$@"
fi
exec "${PYTHON:-python3}" -m zdrender "$@"
