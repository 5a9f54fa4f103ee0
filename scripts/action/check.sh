#!/usr/bin/env bash
# The shell logic of the composite action (action.yml at the repository root). Each step runs this
# script with its inputs in INPUT_* variables, so it runs the same way outside GitHub:
#
#   check.sh install   pip-installs zdrender: INPUT_VERSION empty -> the action's own checkout
#                      (GITHUB_ACTION_PATH, else this repository); 0.1.0 -> zdrender==0.1.0;
#                      anything else is a pip requirement as it stands (zdrender>=0.1, a URL).
#   check.sh check     runs `zdrender check` on INPUT_FILES (paths or globs, separated by spaces or
#                      newlines; ** matches folders) with INPUT_KUBE_VERSION, INPUT_CONFIG, INPUT_SET
#                      (one key=value a line) and INPUT_FAIL_ON.
#                      INPUT_FORMAT=sarif (default): findings in the log as text, SARIF written to
#                      INPUT_SARIF_FILE (default zdrender.sarif) for upload to code scanning.
#                      INPUT_FORMAT=github: workflow annotations (::warning file=...,line=...::).
#                      With GITHUB_OUTPUT set (in a workflow) it writes exit-code=N and sarif-file=PATH
#                      there and exits 0, so the SARIF still uploads; `finish` fails the job after.
#                      Without GITHUB_OUTPUT it exits with zdrender's code (0, 1 findings, 2 bad input).
#   check.sh finish    exits with ZDRENDER_EXIT_CODE (the check step's exit-code output).
#
# A misuse of the action itself (an unknown format, files that match nothing) fails at once with 2.
set -euo pipefail

ACTION_ROOT="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

fail() {
  echo "::error title=zdrender::$*"
  exit 2
}

output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf '%s=%s\n' "$1" "$2" >> "${GITHUB_OUTPUT}"
  fi
}

install() {
  local python="${ZDRENDER_PYTHON:-python}" version="${INPUT_VERSION:-}" spec
  version="${version#"${version%%[![:space:]]*}"}"
  version="${version%"${version##*[![:space:]]}"}"
  if [[ -z "${version}" ]]; then
    spec="${ACTION_ROOT}"
  elif [[ "${version}" =~ ^v?[0-9][0-9A-Za-z.+-]*$ ]]; then
    spec="zdrender==${version#v}"
  else
    spec="${version}"
  fi
  echo "zdrender: pip install ${spec}"
  "${python}" -m pip install --disable-pip-version-check --no-input --quiet "${spec}"
  zdrender --version 2>/dev/null || true
}

# expand_files: the words of INPUT_FILES, each glob expanded (sorted), into the array FILES.
expand_files() {
  local line word
  local -a words matches
  FILES=()
  while IFS= read -r line || [[ -n "${line}" ]]; do
    read -ra words <<< "${line}"  # splits on blanks; read never globs
    [[ ${#words[@]} -gt 0 ]] || continue
    for word in "${words[@]}"; do
      if [[ "${word}" == *[\*\?\[]* ]]; then
        shopt -s nullglob
        shopt -s globstar 2>/dev/null || true  # bash 4+; macOS's /bin/bash 3.2 reads ** as *
        # shellcheck disable=SC2206  # the word is a glob: expanding it is the point
        matches=(${word})
        shopt -u nullglob
        shopt -u globstar 2>/dev/null || true
        if [[ ${#matches[@]} -eq 0 ]]; then
          echo "::warning title=zdrender::files: ${word} matches nothing"
        else
          FILES+=("${matches[@]}")
        fi
      else
        FILES+=("${word}")  # a plain path: zdrender says so if it cannot read it
      fi
    done
  done <<< "${INPUT_FILES:-}"
}

check() {
  local format="${INPUT_FORMAT:-sarif}" fail_on="${INPUT_FAIL_ON:-warning}"
  local sarif_file="${INPUT_SARIF_FILE:-zdrender.sarif}" line code
  local -a args

  case "${format}" in
    sarif|github) ;;
    *) fail "format must be sarif or github, not '${format}'" ;;
  esac
  expand_files
  [[ ${#FILES[@]} -gt 0 ]] || fail "files: no manifests to check (given: '${INPUT_FILES:-}')"

  args=(check --fail-on "${fail_on}")
  [[ -z "${INPUT_KUBE_VERSION:-}" ]] || args+=(--kube-version "${INPUT_KUBE_VERSION}")
  [[ -z "${INPUT_CONFIG:-}" ]] || args+=(--config "${INPUT_CONFIG}")
  while IFS= read -r line || [[ -n "${line}" ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    [[ -z "${line}" || "${line}" == \#* ]] && continue
    [[ "${line}" == *=* ]] || fail "set: '${line}' is not key=value"
    args+=(--set "${line}")
  done <<< "${INPUT_SET:-}"

  if [[ "${format}" == sarif ]]; then
    # Text in the log for people, the same findings as SARIF in the file (--report picks SARIF from
    # the .sarif name, so the file may be named anything).
    local tmp report
    mkdir -p "$(dirname "${sarif_file}")"
    tmp="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/zdrender.XXXXXX")"
    report="${tmp}/zdrender.sarif"
    args+=(--format text --report "${report}")
    echo "zdrender ${args[*]} ${FILES[*]}"
    code=0
    zdrender "${args[@]}" -- "${FILES[@]}" || code=$?
    if [[ -f "${report}" ]]; then
      mv -f "${report}" "${sarif_file}"
      rmdir "${tmp}"
      echo "zdrender: SARIF written to ${sarif_file}"
      output sarif-file "${sarif_file}"
    else
      echo "::warning title=zdrender::no SARIF was written (zdrender exited ${code})"
    fi
  else
    args+=(--format github)
    echo "zdrender ${args[*]} ${FILES[*]}"
    code=0
    zdrender "${args[@]}" -- "${FILES[@]}" || code=$?
  fi
  output exit-code "${code}"
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    echo "zdrender: exit code ${code} (the action fails after the upload when it is not 0)"
    exit 0
  fi
  exit "${code}"
}

finish() {
  local code="${ZDRENDER_EXIT_CODE:-}"
  case "${code}" in
    0) echo "zdrender: no finding reaches fail-on" ;;
    1) echo "::error title=zdrender::findings reach fail-on (${INPUT_FAIL_ON:-warning}); see the check step's log or the code scanning alerts" ;;
    ''|*[!0-9]*) echo "::error title=zdrender::the check step recorded no exit code"; exit 2 ;;
    *) echo "::error title=zdrender::zdrender could not check the files (exit ${code}); see the check step's log" ;;
  esac
  exit "${code}"
}

case "${1:-}" in
  install) install ;;
  check) check ;;
  finish) finish ;;
  *) echo "usage: $0 install|check|finish (inputs in INPUT_* variables)" >&2; exit 2 ;;
esac
