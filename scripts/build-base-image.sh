#!/usr/bin/env bash
# build-base-image.sh: a local stand-in for docker.io/library/golang, for
# machines that cannot pull from a container registry (CI sandboxes).
#
# It builds a Debian bookworm root filesystem with debootstrap (only the
# Debian mirror is needed), adds ca-certificates and this machine's Go
# toolchain ($(go env GOROOT)), and imports it as
# localhost/deskbot-build:goMAJOR.MINOR. An image already present is kept:
# delete it to rebuild. Prints the image name on stdout.
#
#   scripts/build-base-image.sh            # podman, or docker if no podman
#   ENGINE=docker scripts/build-base-image.sh
#
# Needs root (debootstrap) and debootstrap itself (apt-get install debootstrap).
set -euo pipefail

GO=${GO:-go}
ENGINE=${ENGINE:-$(command -v podman >/dev/null 2>&1 && echo podman || echo docker)}
GOVERSION=$("$GO" env GOVERSION)                       # go1.26.8
GOMINOR=$(echo "$GOVERSION" | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')
TAG=${BASE_TAG:-localhost/deskbot-build:go$GOMINOR}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if "$ENGINE" image inspect "$TAG" >/dev/null 2>&1; then
  echo "$TAG"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== debootstrap bookworm into $tmp/rootfs" >&2
debootstrap --variant=minbase --include=ca-certificates bookworm "$tmp/rootfs" "$MIRROR" >&2
rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*
echo "== adding $GOVERSION from $("$GO" env GOROOT)" >&2
cp -a "$("$GO" env GOROOT)" "$tmp/rootfs/usr/local/go"
mkdir -p "$tmp/rootfs/go"
echo "== importing as $TAG" >&2
tar -C "$tmp/rootfs" -c . | "$ENGINE" import \
  --change "ENV GOLANG_VERSION=${GOVERSION#go}" \
  --change 'ENV GOPATH=/go' \
  --change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'WORKDIR /go' \
  --change 'CMD ["bash"]' \
  - "$TAG" >&2
echo "$TAG"
