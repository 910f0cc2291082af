#!/usr/bin/env bash
# Builds local stand-ins for the public images Keeper's Dockerfile and docker-compose.yml name, on
# a machine that reaches no image registry, and tags them with those names so both files stay
# exactly what a real deployment runs. Only for the container test (scripts/docker-test.ts).
#
#   build.sh debian WORK_DIR    debian:bookworm-slim   mmdebstrap (or debootstrap) --variant=minbase bookworm
#   build.sh node WORK_DIR      node:20-bookworm-slim  the same tree plus this machine's Node 20
#                                                      and npm, user node (uid 1000), and the
#                                                      machine's CA (see below)
#   build.sh services WORK_DIR  postgres:15-bookworm   Debian's PostgreSQL 15 behind the official
#                                                      image's entrypoint contract
#                               nats:2.10-alpine       Debian's nats-server (2.9) behind the
#                                                      official image's entrypoint contract
#
# KurrentDB has no Debian package: no stand-in is made for it (the test puts the log in PostgreSQL).
# DOCKER_HOST names the daemon; WORK_DIR is scratch space.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
what="${1:?usage: build.sh debian|node|services WORK_DIR}"
work="${2:?usage: build.sh debian|node|services WORK_DIR}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$work"

step() { printf '     %-24s %3d s  %s\n' "$1" "$2" "$3"; }

debian() {
  local started=$SECONDS rootfs="$work/rootfs"
  rm -rf "$rootfs"
  # mmdebstrap (apt's parallel downloads, one dpkg run) when present: on a busy machine it takes a
  # third of debootstrap's time for the same minbase tree; debootstrap otherwise.
  local tool=debootstrap
  if command -v mmdebstrap >/dev/null; then
    tool=mmdebstrap
    mmdebstrap --mode=root --variant=minbase --include=ca-certificates --dpkgopt=force-unsafe-io bookworm "$rootfs" "$mirror" >"$work/bootstrap.log" 2>&1
  else
    debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >"$work/bootstrap.log" 2>&1
  fi || {
    tail -20 "$work/bootstrap.log" >&2
    return 1
  }
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
  # As Debian's official images: apt keeps no package cache and fetches no translations.
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  step debian:bookworm-slim $((SECONDS - started)) "$tool --variant=minbase bookworm, imported"
}

# The Node base, made in the debian tree rather than by a build (no apt run, no 100 MB context).
node_base() {
  local started=$SECONDS rootfs="$work/rootfs" npm_dir
  [ -d "$rootfs/usr/local/bin" ] || { echo "build.sh node needs the tree of build.sh debian in $work" >&2; return 1; }
  npm_dir="$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")"
  cp "$(command -v node)" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -r "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # These machines re-sign the npm registry's certificate with a local CA: npm inside a build
  # must trust it. Only the stand-in carries it; the real node image and Dockerfile need nothing.
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' - node:20-bookworm-slim >/dev/null
  rm -rf "$rootfs"
  step node:20-bookworm-slim $((SECONDS - started)) "this machine's Node $(node --version) and npm $(npm --version)"
}

services() {
  local started=$SECONDS pg nats
  docker build -q -t postgres:15-bookworm -f "$here/postgres.Dockerfile" "$here" >"$work/postgres-build.log" 2>&1 &
  pg=$!
  docker build -q -t nats:2.10-alpine -f "$here/nats.Dockerfile" "$here" >"$work/nats-build.log" 2>&1 &
  nats=$!
  wait $pg || { cat "$work/postgres-build.log" >&2; return 1; }
  wait $nats || { cat "$work/nats-build.log" >&2; return 1; }
  step "postgres, nats" $((SECONDS - started)) "Debian's postgresql-15 and nats-server $(docker run --rm --entrypoint nats-server nats:2.10-alpine --version | sed 's/^nats-server: v//')"
}

case "$what" in
  debian) debian ;;
  node) node_base ;;
  services) services ;;
  *) echo "usage: build.sh debian|node|services WORK_DIR" >&2; exit 2 ;;
esac
