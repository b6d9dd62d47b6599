#!/bin/sh
# Builds the libFuzzer target with clang (ASan + UBSan + coverage) in
# _build-parser-fuzz and prints the path of the binary. See README.md.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${AGENTEXEC_FUZZ_BUILD:-$top/_build-parser-fuzz}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$top" -Dintrospection=disabled -Dtests=false \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
fi
ninja -C "$build" -j2 libagentexec/libagentexec-static.a >/dev/null
inc=""
for d in . libagentexec parser context backends/local backends/container backends/builtin tests; do
  inc="$inc -I$top/$d"
done
# shellcheck disable=SC2086
clang -g -O1 -fsanitize=fuzzer,address,undefined -DPCRE2_CODE_UNIT_WIDTH=8 \
  $inc -I"$build/libagentexec" -I"$build" \
  $(pkg-config --cflags glib-2.0 gio-2.0 json-glib-1.0) \
  "$top/tests/fuzz/fuzz-parser.c" "$build/libagentexec/libagentexec-static.a" \
  $(pkg-config --libs glib-2.0 gobject-2.0 gio-2.0 gio-unix-2.0 json-glib-1.0 libpcre2-8 libcurl libarchive libcmark) -lm \
  -o "$build/fuzz-parser"
echo "$build/fuzz-parser"
