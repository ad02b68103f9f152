# shellcheck shell=bash disable=SC2034 # its variables are for the scripts that source it
# Shared by packaging/desktop.sh and packaging/click.sh (sourced, not run).
#
# It fixes the app's identity, finds the fyne CLI, and snapshots the source
# tree. Building from a snapshot matters: `fyne build` and `fyne package`
# write (and then delete) files in the folder they build, and other people
# may be compiling the real tree at the same moment.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKGDIR="$ROOT/packaging"
DIST="${DIST:-$ROOT/dist}"

die() { echo "${0##*/}: $*" >&2; exit 1; }

# toml_detail KEY prints KEY's string or number value from FyneApp.toml's
# [Details] table, or nothing. A full TOML parser is not needed for the few
# flat keys read here.
toml_detail() {
  local f="$ROOT/FyneApp.toml"
  [ -f "$f" ] || return 0
  awk -v key="$1" '
    /^[[:space:]]*\[/ { details = ($0 ~ /^[[:space:]]*\[Details\]/); next }
    details {
      line = $0; sub(/#.*/, "", line)
      if (match(line, "^[[:space:]]*" key "[[:space:]]*=")) {
        v = substr(line, RLENGTH + 1)
        gsub(/^[[:space:]]*"?|"?[[:space:]]*$/, "", v)
        print v; exit
      }
    }' "$f"
}

# The app's identity. FyneApp.toml is the source of truth; the defaults
# only matter while it does not exist yet. VERSION may be overridden from
# the environment (CI tags).
APP_NAME="$(toml_detail Name)";   APP_NAME="${APP_NAME:-Netscanner}"
APP_ID="$(toml_detail ID)";       APP_ID="${APP_ID:-io.github.netscanner.app}"
APP_ICON="$(toml_detail Icon)";   APP_ICON="${APP_ICON:-assets/icon.png}"
VERSION="${VERSION:-$(toml_detail Version)}"; VERSION="${VERSION:-0.1.0}"
# The executable's name inside every bundle.
EXE=netscanner
# Build tags every build uses (FyneApp.toml's [Migrations] fyneDo = true
# says the same to the fyne CLI; passing it here too keeps builds right
# while that file is missing).
TAGS=migrated_fynedo

[[ "$VERSION" =~ ^[0-9]+(\.[0-9]+){0,2}$ ]] ||
  die "version '$VERSION' is not x, x.y or x.y.z (the fyne CLI and click both need that)"

# find_fyne sets FYNE to the fyne CLI (PATH first, then GOPATH/bin).
find_fyne() {
  FYNE="$(command -v fyne 2>/dev/null || true)"
  [ -n "$FYNE" ] || FYNE="$(go env GOPATH)/bin/fyne"
  [ -x "$FYNE" ] || die "the fyne CLI is missing: go install fyne.io/tools/cmd/fyne@v1.7.4"
}

# snapshot DIR copies the Go sources and assets (not .git, bin or dist)
# into DIR/src and prints that path.
snapshot() {
  local dst="$1/src"
  mkdir -p "$dst"
  tar -C "$ROOT" --exclude=./.git --exclude=./bin --exclude=./dist \
    --exclude=./docs --exclude='*.test' -cf - . | tar -C "$dst" -xf -
  printf '%s\n' "$dst"
}

# max_glibc FILE prints the newest GLIBC_x.y symbol version FILE needs.
max_glibc() {
  local od=objdump
  command -v "${CROSS_PREFIX:-}objdump" >/dev/null 2>&1 && od="${CROSS_PREFIX:-}objdump"
  "$od" -T "$1" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1
}
