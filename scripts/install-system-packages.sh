#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages LearnedLoss builds and runs against, only when one is missing.
set -euo pipefail

packages=(pkg-config libopenmpi-dev openmpi-bin libopenblas-dev libdnnl-dev libhdf5-dev zlib1g-dev libpng-dev libturbojpeg0-dev dataset-fashion-mnist iproute2)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing system packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
"${sudo[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
