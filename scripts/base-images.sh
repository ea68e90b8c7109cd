#!/usr/bin/env bash
# Makes the two base images the Dockerfile starts from, when no registry can be
# reached to pull them: `debian:bookworm-slim` (a minimal Debian 12, made with
# debootstrap from Debian's package mirror) and `rust:1-slim-bookworm` (that, with gcc
# and this machine's Rust toolchain copied in). An image that is already there, or
# that `docker pull` can fetch, is left alone.
#
#   sudo bash scripts/base-images.sh            # both, as needed
#   MIRROR=http://deb.debian.org/debian bash scripts/base-images.sh
#
# Needs root (debootstrap), a Docker engine, debootstrap, and a Rust toolchain on
# this machine built for glibc 2.36 or older (the one Debian 12 has).
set -euo pipefail

MIRROR=${MIRROR:-http://deb.debian.org/debian}
SLIM=debian:bookworm-slim
RUST=rust:1-slim-bookworm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have() { docker image inspect "$1" >/dev/null 2>&1; }
pulled() { timeout 60 docker pull -q "$1" >/dev/null 2>&1; }

if have "$SLIM" || pulled "$SLIM"; then
  echo "$SLIM: present"
else
  command -v debootstrap >/dev/null || {
    echo "debootstrap is needed to make $SLIM (apt-get install debootstrap)" >&2
    exit 1
  }
  echo "$SLIM: debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    exit 1
  }
  # As the official slim image: no downloaded packages, package lists, docs, man
  # pages or translations.
  (cd "$work/rootfs" && rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin \
    var/lib/apt/lists/* usr/share/doc/* usr/share/man/* usr/share/info/* \
    usr/share/locale/*/)
  tar -C "$work/rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$SLIM" >/dev/null
  echo "$SLIM: made ($(docker image inspect -f '{{.Size}}' "$SLIM" | numfmt --to=si)B)"
fi

if have "$RUST" || pulled "$RUST"; then
  echo "$RUST: present"
else
  sysroot=$(rustc --print sysroot)
  echo "$RUST: $SLIM with gcc and $(rustc --version) from $sysroot"
  mkdir -p "$work/rust/toolchain"
  cp -a "$sysroot/bin" "$sysroot/lib" "$work/rust/toolchain/"
  # This machine's own certificate authorities too, so a build behind the same
  # TLS-inspecting proxy reaches crates.io as this machine does.
  mkdir -p "$work/rust/ca"
  cp /usr/local/share/ca-certificates/*.crt "$work/rust/ca/" 2>/dev/null || true
  cat >"$work/rust/Dockerfile" <<EOF
FROM $SLIM
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
      gcc libc6-dev ca-certificates >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
COPY ca /usr/local/share/ca-certificates
RUN update-ca-certificates >/dev/null
COPY toolchain /usr/local/rust
ENV CARGO_HOME=/usr/local/cargo PATH=/usr/local/rust/bin:/usr/local/cargo/bin:\$PATH
RUN rustc --version && cargo --version
EOF
  docker build -q -t "$RUST" "$work/rust" >/dev/null
  echo "$RUST: made ($(docker run --rm "$RUST" rustc --version))"
fi
