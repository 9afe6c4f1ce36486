#!/usr/bin/env bash
# Installs the Debian packages rlgf needs, only those missing. Called by `make deps` (and so by
# `make test` and `make demo`). Uses sudo when not root; explains what to do when it cannot.
set -u
# package: what it is for
PKGS=(
  build-essential   # gcc and make
  pkg-config        # finds the libraries below
  libhdf5-dev       # run logs and checkpoints (HDF5)
  hdf5-tools        # h5dump, to read run logs by hand and in tests
  libcmocka-dev     # unit tests
  libmpfr-dev       # MPFR, the correctly rounded oracle the maths test checks sim/base/dmath against
  libinih-dev       # INI config parsing
  nettle-dev        # SHA-256 for digests and config hashes
  gnuplot-nox       # figures
  openmpi-bin       # mpirun, for `rlgf sweep --mpi` across machines (rlgf itself does not link MPI)
  clang             # libFuzzer for `make fuzz`
  python3-h5py      # tools/conformance_check.py reads the conformance kit (HDF5)
  python3-numpy     # ... and compares arrays
)
# `make bench` / `make bench-peer` add their yardsticks (OpenBLAS, PyTorch) through RLGF_EXTRA_PKGS
PKGS+=(${RLGF_EXTRA_PKGS:-})
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "rlgf: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "rlgf: cannot install ${missing[*]}: not root and no sudo." >&2
  echo "      Ask an administrator to run: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; then
  echo "rlgf: apt-get failed to install: ${missing[*]}" >&2
  echo "      Check the network/proxy and run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
