#!/usr/bin/env bash
# Builds the local Kubernetes stand-in from the Go module proxy, once per machine:
# kube-apiserver / kube-controller-manager / kube-scheduler (version-stamped), etcd,
# kwok + kwokctl, and Karpenter's KWOK provider. Binaries go to a cache outside the
# repository (never committed); a finished build is recorded by a stamp file, so a
# second call returns at once.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/standin/k8s/versions.env
source "${HERE}/versions.env"

CACHE_ROOT="${EKS_LLM_K8S_CACHE:-${HOME}/.cache/eks-llm-k8s}"
BIN_DIR="${CACHE_ROOT}/${K8S_STANDIN_ID}/bin"
SRC_DIR="${CACHE_ROOT}/${K8S_STANDIN_ID}/src"
STAMP="${BIN_DIR}/.complete"

if [[ "${1:-}" == "--print-bin-dir" ]]; then
    echo "${BIN_DIR}"
    exit 0
fi
mkdir -p "${CACHE_ROOT}"
# One build at a time: a second caller (CI starts the build early, `make system` asks again) waits for it.
exec 9>"${CACHE_ROOT}/.build.lock"
flock 9
if [[ -f "${STAMP}" && -f "${CACHE_ROOT}/${K8S_STANDIN_ID}/upstream-crds/.complete" ]]; then
    echo "local Kubernetes stand-in already built in ${BIN_DIR}"
    exit 0
fi

mkdir -p "${BIN_DIR}" "${SRC_DIR}"
export GOFLAGS="-mod=mod"
export CGO_ENABLED=0
# Karpenter needs Go >= 1.26.10 (the proxy serves toolchains); building everything with the same toolchain
# lets the components share one build cache (client-go, apimachinery... are compiled once).
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.26.10+auto}"
log() { echo "[$(date +%H:%M:%S)] $*"; }

build_kubernetes() {
    local dir="${SRC_DIR}/kubernetes" version="${KUBERNETES_VERSION}"
    local minor="${version#v1.}"; minor="${minor%%.*}"
    local staging="v0.${version#v1.}"
    [[ -x "${BIN_DIR}/kube-apiserver" && -x "${BIN_DIR}/kube-controller-manager" && -x "${BIN_DIR}/kube-scheduler" ]] && return 0
    log "kubernetes ${version}: resolving modules"
    rm -rf "${dir}" && mkdir -p "${dir}" && cd "${dir}"
    go mod init localk8s >/dev/null 2>&1
    go mod download -json "k8s.io/kubernetes@${version}" >/dev/null
    # k8s.io/kubernetes requires its staging modules at v0.0.0; point each at its published tag.
    local modfile
    modfile="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/${version}.mod"
    grep -E '^\s*k8s\.io/[a-z0-9-]+ v0\.0\.0\s*$' "${modfile}" | awk '{print $1}' | sort -u | while read -r mod; do
        go mod edit -replace "${mod}=${mod}@${staging}"
    done
    go get "k8s.io/kubernetes@${version}" >/dev/null 2>&1
    cat > tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
EOF
    go mod tidy >/dev/null 2>&1 || true
    local stamp="-s -w -X k8s.io/component-base/version.gitVersion=${version}"
    stamp+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"
    stamp+=" -X k8s.io/component-base/version.gitTreeState=clean"
    stamp+=" -X k8s.io/client-go/pkg/version.gitVersion=${version}"
    log "kubernetes ${version}: building control plane"
    go build -o "${BIN_DIR}/" -ldflags "${stamp}" \
        k8s.io/kubernetes/cmd/kube-apiserver \
        k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler
}

build_etcd() {
    local dir="${SRC_DIR}/etcd"
    [[ -x "${BIN_DIR}/etcd" ]] && return 0
    log "etcd ${ETCD_VERSION}: building"
    rm -rf "${dir}" && mkdir -p "${dir}" && cd "${dir}"
    go mod init localetcd >/dev/null 2>&1
    cat > main.go <<'EOF'
// etcd's root module carries replace directives, so it cannot be installed directly;
// this wrapper builds the same server entry point from the published server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
    go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null 2>&1
    go mod tidy >/dev/null 2>&1
    go build -o "${BIN_DIR}/etcd" -ldflags "-s -w" .
}

build_kwok() {
    local stages="${BIN_DIR}/../kwok-stages" moddir
    if [[ ! -x "${BIN_DIR}/kwok" || ! -x "${BIN_DIR}/kwokctl" ]]; then
        log "kwok ${KWOK_VERSION}: building"
        GOBIN="${BIN_DIR}" GOFLAGS="" go install -ldflags "-s -w" \
            "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" "sigs.k8s.io/kwok/cmd/kwokctl@${KWOK_VERSION}"
    fi
    # With Stage CRs enabled, kwok runs only the stages that exist as objects: keep the upstream
    # node and pod lifecycle stages next to the binaries, the cluster start applies them.
    moddir="$(cd /tmp && GOFLAGS="" go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
    mkdir -p "${stages}"
    cp "${moddir}"/kustomize/stage/node/fast/node-initialize.yaml "${moddir}"/kustomize/stage/node/heartbeat/node-heartbeat.yaml \
       "${moddir}"/kustomize/stage/pod/fast/pod-*.yaml "${stages}/"
    chmod u+w "${stages}"/*.yaml
}

build_karpenter_kwok() {
    local dir="${SRC_DIR}/karpenter"
    [[ -x "${BIN_DIR}/karpenter-kwok" ]] && return 0
    log "karpenter ${KARPENTER_VERSION} (KWOK provider): building"
    rm -rf "${dir}" && mkdir -p "${dir}" && cd "${dir}"
    go mod init localkarpenter >/dev/null 2>&1
    go get "sigs.k8s.io/karpenter@${KARPENTER_VERSION}" >/dev/null 2>&1
    cat > tools.go <<'EOF'
//go:build tools

package tools

import _ "sigs.k8s.io/karpenter/kwok"
EOF
    go mod tidy >/dev/null 2>&1 || true
    # The package is called main in a directory named kwok: rename so it cannot shadow kwok itself.
    go build -o "${BIN_DIR}/karpenter-kwok" -ldflags "-s -w" sigs.k8s.io/karpenter/kwok
    # Keep the provider's CRDs next to the binary: the local cluster installs them from here.
    local moddir
    moddir="$(go list -m -f '{{.Dir}}' sigs.k8s.io/karpenter)"
    mkdir -p "${BIN_DIR}/../karpenter-crds"
    cp "${moddir}"/kwok/charts/crds/*.yaml "${moddir}"/kwok/apis/crds/*.yaml "${BIN_DIR}/../karpenter-crds/"
    chmod u+w "${BIN_DIR}/../karpenter-crds/"*.yaml
}

fetch_upstream() {
    # CRDs and the Karpenter chart from the upstream Go modules (the proxy serves whole repositories):
    # the local API server validates our objects against the real schemas.
    local crds="${CACHE_ROOT}/${K8S_STANDIN_ID}/upstream-crds" charts="${CACHE_ROOT}/${K8S_STANDIN_ID}/upstream-charts"
    [[ -f "${crds}/.complete" ]] && return 0
    log "upstream CRDs and charts: karpenter-provider-aws ${KARPENTER_VERSION}, prometheus-operator ${PROMETHEUS_OPERATOR_VERSION}"
    mkdir -p "${crds}" "${charts}"
    local aws prom
    aws="$(cd /tmp && GOFLAGS="" go mod download -json "github.com/aws/karpenter-provider-aws@${KARPENTER_VERSION}" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
    prom="$(cd /tmp && GOFLAGS="" go mod download -json "github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
    cp "${aws}/pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml" "${crds}/"
    cp "${prom}"/example/prometheus-operator-crd/monitoring.coreos.com_*.yaml "${crds}/"
    rm -rf "${charts}/karpenter" && cp -r "${aws}/charts/karpenter" "${charts}/karpenter"
    chmod -R u+w "${crds}" "${charts}"
    touch "${crds}/.complete"
}

start=$(date +%s)
build_kubernetes
build_etcd
build_kwok
build_karpenter_kwok
fetch_upstream
"${BIN_DIR}/kube-apiserver" --version
touch "${STAMP}"
log "local Kubernetes stand-in built in $(( $(date +%s) - start )) s: ${BIN_DIR}"
