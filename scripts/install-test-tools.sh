#!/usr/bin/env bash
# Install the real CLIs the end-to-end tests drive into <repo>/.tools/bin:
#   helm3      helm.sh/helm/v3/cmd/helm@v3.22.0
#   helm4      helm.sh/helm/v4/cmd/helm@v4.3.1
#   kustomize  sigs.k8s.io/kustomize/kustomize/v5@v5.8.2
#   actionlint github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 (lints the action and the README's workflow)
#   k8syaml    tests/tools/k8syaml: YAML read as Kubernetes reads it (sigs.k8s.io/yaml), the tests' oracle
# They are built from source with `go install` through the Go module proxy.
# The binaries live in the git-ignored .tools/bin; Go's module and build caches (~2.5 GB)
# live outside the clone, with the node's builds, in ${ZDRENDER_CACHE:-~/.cache/zdrender}/go,
# so a second run (or CI, or another clone on the same machine) skips the downloads and builds.
# kubectl and kpt are expected on PATH already; they are only checked.
#
# Usage: scripts/install-test-tools.sh [--force]   (--force rebuilds everything)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${REPO_ROOT}/.tools"
BIN_DIR="${TOOLS_DIR}/bin"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

HELM3_VERSION="v3.22.0"
HELM4_VERSION="v4.3.1"
# v5.8.3 (kustomize/api v0.21.3) declares `go 1.27.0`; v5.8.2 is the newest
# release that builds with this machine's Go 1.26.
KUSTOMIZE_VERSION="v5.8.2"
ACTIONLINT_VERSION="v1.7.12"
# Helm 3 release builds stamp the default .Capabilities.KubeVersion from the
# k8s.io/client-go version in its go.mod (v0.37.0 -> Kubernetes 1.37); a plain
# `go install` would leave the source default of v1.20.0. Helm 4 computes this
# at run time from the embedded build info, so it needs no such flag.
HELM3_K8S_MAJOR="1"
HELM3_K8S_MINOR="37"

GO_CACHE_DIR="${ZDRENDER_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/zdrender}/go"
mkdir -p "${BIN_DIR}" "${GO_CACHE_DIR}" "${TOOLS_DIR}/tmp"
export GOPATH="${GO_CACHE_DIR}"
export GOMODCACHE="${GO_CACHE_DIR}/pkg/mod"
export GOCACHE="${GO_CACHE_DIR}/cache"
# Build with the machine's own Go; never fetch another toolchain behind our back.
export GOTOOLCHAIN=local
# Static binaries, as the upstream release builds are.
export CGO_ENABLED=0
# `go install pkg@version` ignores any go.mod in the working directory; run it
# from a neutral directory anyway.
cd "${TOOLS_DIR}"

if ! command -v go >/dev/null 2>&1; then
  echo "install-test-tools: 'go' is not on PATH" >&2
  exit 1
fi

# build_tool NAME PACKAGE@VERSION EXPECTED_VERSION LDFLAGS
# Builds into a private temporary GOBIN, then moves the binary to $BIN_DIR/NAME.
# A stamp file records what was built; the build is skipped when the stamp
# matches and the binary still reports the expected version.
build_tool() {
  local name="$1" pkg="$2" want="$3" ldflags="$4"
  local dest="${BIN_DIR}/${name}"
  local stamp="${BIN_DIR}/.${name}.stamp"
  local spec="${pkg} ldflags=[${ldflags}] $(go env GOVERSION)"

  if [[ ${FORCE} -eq 0 && -x "${dest}" && -f "${stamp}" ]] \
      && [[ "$(cat "${stamp}")" == "${spec}" ]] \
      && [[ "$(tool_version "${name}")" == "${want}" ]]; then
    echo "install-test-tools: ${name} ${want} already installed, skipping build"
    return 0
  fi

  echo "install-test-tools: building ${name} from ${pkg} ..."
  local gobin start
  gobin="$(mktemp -d "${TOOLS_DIR}/tmp/${name}.XXXXXX")"
  start=${SECONDS}
  GOBIN="${gobin}" go install -trimpath -ldflags "${ldflags}" "${pkg}"
  local built
  built="$(find "${gobin}" -maxdepth 1 -type f -perm -u+x | head -n 1)"
  if [[ -z "${built}" ]]; then
    echo "install-test-tools: go install ${pkg} produced no binary" >&2
    exit 1
  fi
  mv -f "${built}" "${dest}"
  rm -rf "${gobin}"
  echo "install-test-tools: built ${name} in $((SECONDS - start))s"

  local got
  got="$(tool_version "${name}")"
  if [[ "${got}" != "${want}" ]]; then
    echo "install-test-tools: ${name} reports version '${got}', expected '${want}'" >&2
    exit 1
  fi
  printf '%s\n' "${spec}" > "${stamp}"
}

# tool_version NAME: the bare version string the installed binary reports.
tool_version() {
  case "$1" in
    helm3|helm4) "${BIN_DIR}/$1" version --template '{{.Version}}' 2>/dev/null || true ;;
    kustomize)   "${BIN_DIR}/$1" version 2>/dev/null || true ;;
    actionlint)  "${BIN_DIR}/$1" -version 2>/dev/null | head -n 1 || true ;;
  esac
}

build_tool helm3 "helm.sh/helm/v3/cmd/helm@${HELM3_VERSION}" "${HELM3_VERSION}" \
  "-s -w \
-X helm.sh/helm/v3/internal/version.version=${HELM3_VERSION} \
-X helm.sh/helm/v3/internal/version.metadata= \
-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${HELM3_K8S_MAJOR} \
-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${HELM3_K8S_MINOR} \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${HELM3_K8S_MAJOR} \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${HELM3_K8S_MINOR}"

build_tool helm4 "helm.sh/helm/v4/cmd/helm@${HELM4_VERSION}" "${HELM4_VERSION}" \
  "-s -w \
-X helm.sh/helm/v4/internal/version.version=${HELM4_VERSION} \
-X helm.sh/helm/v4/internal/version.metadata= \
-X helm.sh/helm/v4/internal/version.gitTreeState=clean"

build_tool kustomize "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" "${KUSTOMIZE_VERSION}" \
  "-s -w"

# ~25 s on a first build (2 cores).
build_tool actionlint "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}" "${ACTIONLINT_VERSION}" \
  "-s -w -X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION}"

# The tests' oracle for YAML 1.1 types: a small program of this repo, built from its go.mod/go.sum.
k8syaml_src="${REPO_ROOT}/tests/tools/k8syaml"
k8syaml_spec="$(cat "${k8syaml_src}"/go.mod "${k8syaml_src}"/go.sum "${k8syaml_src}"/main.go | sha256sum | cut -c1-16) $(go env GOVERSION)"
if [[ ${FORCE} -eq 1 || ! -x "${BIN_DIR}/k8syaml" || "$(cat "${BIN_DIR}/.k8syaml.stamp" 2>/dev/null)" != "${k8syaml_spec}" ]]; then
  echo "install-test-tools: building k8syaml ..."
  (cd "${k8syaml_src}" && go build -trimpath -ldflags "-s -w" -o "${BIN_DIR}/k8syaml" .)
  printf '%s\n' "${k8syaml_spec}" > "${BIN_DIR}/.k8syaml.stamp"
else
  echo "install-test-tools: k8syaml already built, skipping"
fi

rm -rf "${TOOLS_DIR}/tmp"

echo "helm3: $("${BIN_DIR}/helm3" version --short)"
echo "helm4: $("${BIN_DIR}/helm4" version --short)"
echo "kustomize: $("${BIN_DIR}/kustomize" version)"
echo "actionlint: $(tool_version actionlint)"

# Pre-installed tools: they must exist; their version output is only shown.
missing=0
for tool in kubectl kpt; do
  if ! command -v "${tool}" >/dev/null 2>&1; then
    echo "install-test-tools: '${tool}' is not on PATH (it is expected to be pre-installed)" >&2
    missing=1
  fi
done
[[ ${missing} -eq 0 ]] || exit 1
echo "kubectl: $(kubectl version --client 2>&1 | head -n 1 || true)"
echo "kpt: $(kpt version 2>&1 | head -n 1 || true)"
echo "install-test-tools: tools are in ${BIN_DIR}"
