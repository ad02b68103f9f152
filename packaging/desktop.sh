#!/usr/bin/env bash
# Builds the Linux desktop bundle:
#   dist/netscanner-VERSION-linux-amd64.tar.xz
# holding, under netscanner/: the app (usr/local/bin/netscanner, with every
# subcommand), the static headless binary for servers without a display
# (usr/local/bin/netscanner-cli), the .desktop file
# (usr/local/share/applications), the icon (usr/local/share/pixmaps), the
# AppStream metainfo (usr/local/share/metainfo) and fyne's Makefile
# (`sudo make install` or `make user-install`).
#
# The fyne CLI builds and lays out the bundle; this script adds the
# metainfo, validates it and renames the tarball. Environment:
#   VERSION              overrides FyneApp.toml's version
#   SCREENSHOT_BASE_URL  web address that docs/screenshots/ lives under;
#                        without it the screenshot URLs stay repo-relative
#   DIST                 output folder (default: dist/)
# shellcheck source=packaging/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

arch="$(go env GOARCH)"
[ "$(go env GOOS)" = linux ] || die "this builds a Linux bundle; GOOS is $(go env GOOS)"
find_fyne

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
src="$(snapshot "$work")"

# `fyne package` without --executable runs `fyne build` in --src (adding
# the release tag, the metadata file and the hardening flags), then deletes
# that binary again once it is in the tarball. Running it in the snapshot
# keeps both effects away from the real tree. The tarball lands in the
# current folder, named after the app.
echo "desktop: building $APP_NAME $VERSION for linux/$arch"
(
  cd "$work" || exit
  "$FYNE" package --os linux --release \
    --src "$src" --tags "$TAGS" \
    --name "$APP_NAME" --app-id "$APP_ID" --app-version "$VERSION" \
    --icon "$src/$APP_ICON"
)
fyne_tar="$work/$APP_NAME.tar.xz"
[ -f "$fyne_tar" ] || die "fyne package made no $fyne_tar"

# Unpack, add the metainfo, repack.
stage="$work/stage"
mkdir -p "$stage"
tar -C "$stage" -xJf "$fyne_tar"
top="$stage/$EXE"
[ -x "$top/usr/local/bin/$EXE" ] || die "the fyne tarball has no usr/local/bin/$EXE"

# The headless binary: no cgo, no Fyne, static; the same subcommands.
echo "desktop: building $EXE-cli $VERSION for linux/$arch"
(
  cd "$src" || exit
  CGO_ENABLED=0 go build -trimpath -tags nogui -ldflags "-s -w" -o "$top/usr/local/bin/$EXE-cli" .
)
[ -x "$top/usr/local/bin/$EXE-cli" ] || die "no $EXE-cli was built"

metainfo_src="$PKGDIR/linux/$APP_ID.metainfo.xml"
metainfo="$top/usr/local/share/metainfo/$APP_ID.metainfo.xml"
mkdir -p "$(dirname "$metainfo")"
base="${SCREENSHOT_BASE_URL:-}"
if [ -n "$base" ]; then
  sed "s#<image>docs/screenshots/#<image>${base%/}/docs/screenshots/#" "$metainfo_src" >"$metainfo"
else
  cp "$metainfo_src" "$metainfo"
fi
sed -i "s#<release version=\"[^\"]*\"#<release version=\"$VERSION\"#" "$metainfo"
chmod 0644 "$metainfo"

# Every screenshot named must exist in the repo.
grep -o 'docs/screenshots/[^<]*\.png' "$metainfo_src" | while read -r shot; do
  [ -f "$ROOT/$shot" ] || echo "desktop: warning: $shot is listed in the metainfo but missing" >&2
done

# Validate. Repo-relative screenshot URLs are the one expected error while
# no SCREENSHOT_BASE_URL is given; anything else fails the build.
if command -v appstreamcli >/dev/null; then
  out="$(appstreamcli validate --no-net "$metainfo" 2>&1)" || {
    if [ -z "$base" ] && ! grep '^[EW]:' <<<"$out" | grep -qv 'web-url-expected docs/screenshots/'; then
      echo "desktop: metainfo valid except its repo-relative screenshot URLs (set SCREENSHOT_BASE_URL)"
    else
      printf '%s\n' "$out" >&2
      die "appstreamcli rejects $metainfo_src"
    fi
  }
else
  echo "desktop: warning: appstreamcli missing (apt-get install appstream); metainfo not validated" >&2
fi
# The desktop file's Comment, Categories and Keywords come from
# FyneApp.toml's [LinuxAndBSD] table; fill them in while it has none, so
# menus file the app under Network like the metainfo does.
desktop="$top/usr/local/share/applications/$APP_ID.desktop"
if ! grep -q '^Categories=' "$desktop"; then
  echo "desktop: warning: FyneApp.toml has no [LinuxAndBSD] Categories; using Network;" >&2
  sed -i -e '/^Icon=/a Comment=Find every device on your network\nCategories=Network;' \
    -e 's/^Keywords=fyne;$/Keywords=network;scanner;ping;LAN;/' "$desktop"
fi
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$desktop" || die "desktop-file-validate rejects $desktop"
fi

# fyne's Makefile installs binary, desktop file and icon; teach it the
# metainfo and the headless binary too, for install and uninstall alike.
mk="$top/Makefile"
awk -v id="$APP_ID" -v cli="$EXE-cli" '
  { print }
  /^install:/   { print "\tinstall -Dm00644 usr/local/share/metainfo/" id ".metainfo.xml $(DESTDIR)$(PREFIX)/share/metainfo/" id ".metainfo.xml"
                  print "\tinstall -Dm00755 usr/local/bin/" cli " $(DESTDIR)$(PREFIX)/bin/" cli }
  /^uninstall:/ { print "\t-rm $(DESTDIR)$(PREFIX)/share/metainfo/" id ".metainfo.xml"
                  print "\t-rm $(DESTDIR)$(PREFIX)/bin/" cli }
  /^user-install:/   { print "\tinstall -Dm00755 usr/local/bin/" cli " $(DESTDIR)$(HOME)/.local/bin/" cli }
  /^user-uninstall:/ { print "\t-rm $(DESTDIR)$(HOME)/.local/bin/" cli }
' "$mk" >"$mk.new" && mv "$mk.new" "$mk"

mkdir -p "$DIST"
out="$DIST/$EXE-$VERSION-linux-$arch.tar.xz"
# Deterministic order and ownership, so two builds of one commit differ
# only in the binary's build ID.
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -cJf "$out.tmp" "$EXE"
mv "$out.tmp" "$out"
echo "desktop: wrote ${out#"$ROOT"/}; the binary needs $(max_glibc "$top/usr/local/bin/$EXE") or newer"
