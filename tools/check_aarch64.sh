#!/usr/bin/env bash
# rlgf's maths on another CPU architecture: tests/test_dmath.c cross-compiled for aarch64 (where
# every compiler may fuse a*b+c into an FMA, so -ffp-contract=off matters) and run under
# qemu-user: every function against MPFR and, the point, the same result bits as
# tests/golden/dmath.digest pins on x86-64. `make check-aarch64` runs this; it installs what is
# missing (Debian: gcc-aarch64-linux-gnu, qemu-user, and the arm64 cmocka/MPFR/GMP libraries via
# multiarch). The whole-run golden digest is not checked here: Debian's libhdf5-dev cannot be
# installed for two architectures at once.
set -u
cd "$(dirname "$0")/.."
need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
for p in libcmocka-dev:arm64 libmpfr-dev:arm64 libgmp-dev:arm64; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "check-aarch64: installing ${need[*]}"
  $SUDO dpkg --add-architecture arm64 && $SUDO apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    { echo "check-aarch64: could not install ${need[*]}" >&2; exit 1; }
fi
mkdir -p build/aarch64
aarch64-linux-gnu-gcc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -ffp-contract=off -fno-fast-math \
  tests/test_dmath.c sim/base/dmath.c sim/base/rng.c -lcmocka -lmpfr -lgmp -lm -o build/aarch64/test_dmath || exit 1
echo "check-aarch64: running the maths test under qemu-aarch64 (about a minute)"
RLGF_SKIP_SLOW=1 qemu-aarch64 -L /usr/aarch64-linux-gnu build/aarch64/test_dmath
