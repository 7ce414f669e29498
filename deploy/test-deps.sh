#!/usr/bin/env bash
# What the test suite needs beyond npm packages, checked and (as root) installed from
# Debian's packages. `npm test` runs this first (pretest), and so does CI.
set -euo pipefail

need=()
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# The isolated runtime (runc), a static busybox for test images, and real image tools
# (umoci, skopeo) that make the OCI and docker-save tarballs the importer is tested on.
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || need+=(runc)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v umoci >/dev/null 2>&1 || need+=(umoci)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
# dig, a real DNS client for the tests of the gateway's DNS server.
command -v dig >/dev/null 2>&1 || need+=(dnsutils)
# promtool, a real parser and linter of the metrics every service exports.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# Multi-host cells: network namespaces and links (ip, tc), nftables for a lossy link, nsenter
# to start processes in a host, curl to reach a task from inside one.
[ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || [ -x /bin/ip ] || need+=(iproute2)
[ -x /usr/sbin/nft ] || need+=(nftables)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
command -v curl >/dev/null 2>&1 || need+=(curl)
# Docker's seccomp profile, as Debian ships it: containers run under it.
[ -f /usr/share/containers/seccomp.json ] || need+=(golang-github-containers-common)
# openssl makes a TLS cell's own CA and certificates.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# Debian's chromium, driven by playwright-core in the web UI's tests.
command -v chromium >/dev/null 2>&1 || need+=(chromium)

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need Debian packages that are missing. Install them, then run the tests again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]} (Debian packages the tests need)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
