#!/usr/bin/env bash
# Build the systemd container image the molecule scenarios run in, once per machine.
#   tests/lab/build-image.sh IMAGE        (make image: localhost/netboot-debian-systemd:bookworm)
#   tests/lab/build-image.sh IMAGE PKG,PKG (the lab's boot server: those packages preinstalled and no apt
#                                           source, since its network has no uplink; apt finds them installed)
# Also configures podman for this machine (see FIELD-NOTES "Molecule on systemd containers"):
# crun fails here (setrlimit, hybrid cgroup v1), so runc; the host's huge nofile/nproc limits are
# refused inside the container, so explicit 1024 defaults. Only settings that are missing get added.
set -euo pipefail

IMAGE=${1:?usage: $0 IMAGE [EXTRA,PACKAGES]}
EXTRA_PACKAGES=${2:-}
SUITE=${NETBOOT_IMAGE_SUITE:-bookworm}
PACKAGES=systemd,systemd-sysv,python3,python3-apt,ca-certificates,iproute2${EXTRA_PACKAGES:+,$EXTRA_PACKAGES}
CONTAINERS_CONF=${CONTAINERS_CONF_PATH:-/etc/containers/containers.conf}
LOCK=${NETBOOT_IMAGE_LOCK:-/var/lock/netboot-build-image.lock}

log() { echo "build-image: $*" >&2; }

# ensure_setting SECTION KEY VALUE: add "KEY = VALUE" under [SECTION] unless KEY is set there already
ensure_setting() {
    local section=$1 key=$2 value=$3
    mkdir -p "$(dirname "$CONTAINERS_CONF")"
    touch "$CONTAINERS_CONF"
    if awk -v s="[$section]" -v k="$key" '
        /^[[:space:]]*\[/ { gsub(/[[:space:]]/, ""); in_s = ($0 == s); next }
        in_s && $0 ~ "^[[:space:]]*" k "[[:space:]]*=" { found = 1 }
        END { exit !found }' "$CONTAINERS_CONF"; then
        return 0
    fi
    log "adding [$section] $key to $CONTAINERS_CONF"
    if grep -Eq "^[[:space:]]*\[$section\][[:space:]]*$" "$CONTAINERS_CONF"; then
        sed -i -E "0,/^[[:space:]]*\[$section\][[:space:]]*$/s//&\n$key = $(printf '%s' "$value" | sed 's/[&|\\/]/\\&/g')/" \
            "$CONTAINERS_CONF"
    else
        printf '\n[%s]\n%s = %s\n' "$section" "$key" "$value" >>"$CONTAINERS_CONF"
    fi
}

# The Debian mirror this machine's apt already uses for SUITE (deb822 .sources first, then one-line lists).
apt_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk -v suite="$SUITE" 'BEGIN { RS = ""; FS = "\n" }
            { types = uris = suites = ""; enabled = "yes"
              for (i = 1; i <= NF; i++) {
                  if ($i ~ /^#/) continue
                  split($i, kv, ":"); key = tolower(kv[1]); val = substr($i, length(kv[1]) + 2)
                  gsub(/^[[:space:]]+|[[:space:]]+$/, "", val)
                  if (key == "types") types = val; else if (key == "uris") uris = val
                  else if (key == "suites") suites = val; else if (key == "enabled") enabled = tolower(val)
              }
              if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " suite " ")) {
                  split(uris, u, /[[:space:]]+/); print u[1]; exit
              } }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return 0; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')
        [ -n "$uri" ] && { echo "$uri"; return 0; }
    done
    return 1
}

build() {
    local mirror
    mirror=$(apt_mirror) || { log "no apt source for '$SUITE' in /etc/apt/sources.list(.d); cannot debootstrap"; exit 1; }
    rootfs=$(mktemp -d /var/tmp/netboot-image.XXXXXX)  # global: the EXIT trap runs after build() returns
    trap 'rm -rf "$rootfs"' EXIT
    log "debootstrap $SUITE from $mirror (about a minute)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
        { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
    rm -f "$rootfs.log"
    # Empty package lists dated 1970: apt's cache_valid_time must see them as stale, or nothing installs.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    mkdir -p "$rootfs/var/lib/apt/lists/partial"
    touch -d @0 "$rootfs/var/lib/apt/lists"
    # Offline image: `apt-get update` with no source succeeds without a network and packages stay installed.
    [ -z "$EXTRA_PACKAGES" ] || rm -f "$rootfs"/etc/apt/sources.list "$rootfs"/etc/apt/sources.list.d/*
    tar --numeric-owner -C "$rootfs" -c . | podman import --quiet \
        --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' --change 'ENV container=podman' \
        - "$IMAGE" >/dev/null
    log "built $IMAGE"
}

ensure_setting containers default_ulimits '["nofile=1024:1024", "nproc=1024:1024"]'
ensure_setting engine runtime '"runc"'

podman image exists "$IMAGE" && exit 0
mkdir -p "$(dirname "$LOCK")"
exec 9>"$LOCK"
flock 9
# Another caller may have built it while this one waited for the lock.
podman image exists "$IMAGE" && exit 0
build
