#!/usr/bin/env bash
# `make image`: build the gx-mesh image from the root Containerfile with no Docker daemon and no
# container registry. Debian's mmdebstrap makes a minimal bookworm root filesystem with python3.11
# from the Debian archive this machine's apt already uses; Debian's buildah imports it as the base
# image and runs the Containerfile's steps on it (chroot isolation, vfs storage: no daemon, no
# overlay mounts, no user namespaces), with BASE pointing at that image instead of the stock one.
# Python packages come from PyPI, pinned by requirements.lock, exactly as for any other builder.
# Output: build/gx-mesh.oci.tar (an OCI archive) and its manifest digest, printed and kept beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=gx-mesh                       # what every manifest's `image:` names (tests/unit/image checks)
TAG=${GX_IMAGE_TAG:-dev}
SUITE=bookworm
WORK=build/image                   # git-ignored: the base tarball and buildah's own storage
ARCHIVE=build/$NAME.oci.tar
BASE_TAR=$WORK/base-$SUITE.tar
BASE_IMAGE=localhost/gx-base:$SUITE
# Private storage under build/: nothing touches the machine's own container store.
BUILDAH=(buildah --root "$PWD/$WORK/storage" --runroot "$PWD/$WORK/run" --storage-driver vfs)

mkdir -p "$WORK"

# 1. The base root filesystem, from Debian's archive (kept: delete it to pick up Debian updates).
#    The mirrors are the host's own apt sources, so the image uses whatever archive apt reaches here.
if [ ! -s "$BASE_TAR" ]; then
  sources=()
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -s "$f" ] && sources+=("$f")
  done
  [ ${#sources[@]} -gt 0 ] || { echo "image: no apt sources under /etc/apt to build the base from" >&2; exit 1; }
  echo "image: building the $SUITE base root filesystem with mmdebstrap"
  mmdebstrap --format=tar --variant=minbase --include=python3.11,python3-venv,ca-certificates \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    "$SUITE" "$WORK/partial.tar" "${sources[@]}"
  mv "$WORK/partial.tar" "$BASE_TAR"
fi

# 2. The base image: that root filesystem as one layer.
if ! "${BUILDAH[@]}" inspect --type image "$BASE_IMAGE" >/dev/null 2>&1 || [ "$BASE_TAR" -nt "$WORK/base.imported" ]; then
  ctr=$("${BUILDAH[@]}" from --pull=false scratch)
  "${BUILDAH[@]}" add "$ctr" "$BASE_TAR" /
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd python3 "$ctr"
  "${BUILDAH[@]}" commit --rm "$ctr" "$BASE_IMAGE" >/dev/null
  touch "$WORK/base.imported"
fi

# 3. The Containerfile's own steps on that base. pip inside them trusts what the host's pip trusts:
#    the host's pip.conf and CA bundle are bind-mounted read-only into each RUN step (a machine
#    behind a TLS-inspecting proxy), never copied into a layer.
mounts=()
for f in /etc/pip.conf /etc/ssl/certs/ca-certificates.crt; do
  [ -s "$f" ] && mounts+=(--volume "$f:$f:ro")
done
"${BUILDAH[@]}" bud --isolation chroot --pull=false --layers "${mounts[@]}" \
  --build-arg BASE="$BASE_IMAGE" -f Containerfile -t "localhost/$NAME:$TAG" .

# 4. An OCI archive and its digest.
rm -f "$ARCHIVE"
"${BUILDAH[@]}" push --digestfile "$ARCHIVE.digest" "localhost/$NAME:$TAG" "oci-archive:$ARCHIVE:$NAME:$TAG" >/dev/null
echo "image: $NAME:$TAG -> $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1)) digest $(cat "$ARCHIVE.digest")"
