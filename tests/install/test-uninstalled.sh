#!/bin/sh
# test-uninstalled.sh SRCDIR BUILDDIR: compiles and runs the README's C example
# against the build tree, through meson-uninstalled/libagentexec-1-uninstalled.pc
# only (pkg-config picks the -uninstalled variant first on PKG_CONFIG_PATH).
set -eu
srcdir=$1
builddir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sh "$srcdir/tests/install/readme-example.sh" "$srcdir/README.md" "$tmp"
export PKG_CONFIG_PATH="$builddir/meson-uninstalled"
unset PKG_CONFIG_LIBDIR
flags=$(pkg-config --cflags --libs libagentexec-1)
echo "# pkg-config --cflags --libs libagentexec-1: $flags"
case $flags in
  *"$builddir"*) ;;
  *) echo "not ok - pkg-config did not give the build tree: $flags"; exit 1 ;;
esac
# -Werror=missing-include-dirs: every directory the .pc names must exist.
${CC:-cc} -Wall -Werror -Werror=missing-include-dirs -o "$tmp/example" "$tmp/example.c" $flags
LD_LIBRARY_PATH="$builddir/libagentexec" "$tmp/example" >"$tmp/out"
cat "$tmp/out"
grep -q 'runs as python' "$tmp/out"
grep -q '42' "$tmp/out"
echo "ok - README example built and ran against the uninstalled build"
