#!/usr/bin/env bash
# Build a stand-in for python:3.11-slim-bookworm from the Debian archive alone, for hosts
# that reach a Debian mirror but no container registry, then build quipu's image on it:
#
#   sudo deploy/image/debian-base.sh            # -> localhost/quipu:dev
#
# Needs mmdebstrap and buildah (apt-get install mmdebstrap buildah). EXTRA_CA_DIR (default
# /usr/local/share/ca-certificates) holds CA certificates the build must trust, e.g. an
# egress proxy's; they are added to the base so that `uv sync` in the build reaches PyPI.
set -euo pipefail
# chroot isolation: RUN steps need no OCI runtime or cgroups (neither works in some sandboxes).
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
cd "$(dirname "$0")/../.."
BASE=${BASE:-localhost/debian-python:3.11-bookworm}
TAG=${TAG:-localhost/quipu:dev}
EXTRA_CA_DIR=${EXTRA_CA_DIR:-/usr/local/share/ca-certificates}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# minbase: essential packages only; python3 is Debian's 3.11 (bookworm), as in the default base.
mmdebstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$work/rootfs.tar" http://deb.debian.org/debian
ctr=$(buildah from scratch)
buildah add "$ctr" "$work/rootfs.tar" /
if compgen -G "$EXTRA_CA_DIR/*.crt" > /dev/null; then
    buildah copy "$ctr" "$EXTRA_CA_DIR" /usr/local/share/ca-certificates/
    buildah run "$ctr" -- update-ca-certificates
fi
buildah config --env LANG=C.UTF-8 --cmd python3 "$ctr"
buildah commit --rm "$ctr" "$BASE"

buildah bud --format docker --network host --layers --build-arg "PYTHON_IMAGE=$BASE" -t "$TAG" .
