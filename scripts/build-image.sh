#!/usr/bin/env bash
# build-image.sh: the container image from Containerfile, tagged
# IMAGE:VERSION and IMAGE:latest (make image runs it).
#
#   ENGINE   podman or docker (default: podman if present, else docker)
#   IMAGE    image name (default deskbot)
#   VERSION  tag and the bot's version (default: git describe)
#   GO_IMAGE the build stage's base (default docker.io/library/golang:1.26-bookworm)
#   BUILD_FLAGS  more flags for ENGINE build (e.g. --layers=false)
#
# Where GO_IMAGE can be neither found nor pulled (a machine without
# registry access), it builds a local one with scripts/build-base-image.sh
# and builds offline: GOPROXY=off with this machine's module cache
# (filled first by go mod download) mounted into the build. That needs
# podman, root and debootstrap with a reachable Debian mirror.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
ENGINE=${ENGINE:-$(command -v podman >/dev/null 2>&1 && echo podman || echo docker)}
IMAGE=${IMAGE:-deskbot}
VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
REVISION=${REVISION:-$(git rev-parse HEAD 2>/dev/null || true)}
GO_IMAGE=${GO_IMAGE:-docker.io/library/golang:1.26-bookworm}

args=(build -f Containerfile --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION")
if [ "$ENGINE" = podman ]; then
  # chroot isolation: the RUN steps need no OCI runtime, so the build also
  # works where one cannot set up a container (nested, locked-down hosts).
  args+=(--isolation=chroot)
fi

if ! "$ENGINE" image inspect "$GO_IMAGE" >/dev/null 2>&1 && ! "$ENGINE" pull -q "$GO_IMAGE" >/dev/null 2>&1; then
  if [ "$ENGINE" != podman ]; then
    echo "build-image.sh: $GO_IMAGE cannot be pulled, and building offline needs podman (docker build cannot mount the module cache); set GO_IMAGE to a Go image you have" >&2
    exit 1
  fi
  echo "== $GO_IMAGE cannot be pulled: building on a local Go image, offline" >&2
  GO_IMAGE=$(GO="$GO" ENGINE="$ENGINE" scripts/build-base-image.sh)
  "$GO" mod download
  modcache=$("$GO" env GOMODCACHE)
  args+=(--volume "$modcache:/host-modcache:ro" --build-arg GOPROXY=off --build-arg GOMODCACHE=/host-modcache)
fi
# shellcheck disable=SC2206 # BUILD_FLAGS is a list of flags
args+=(${BUILD_FLAGS:-})
args+=(--build-arg "GO_IMAGE=$GO_IMAGE" -t "$IMAGE:$VERSION" -t "$IMAGE:latest" .)

echo "== $ENGINE ${args[*]}" >&2
"$ENGINE" "${args[@]}"
