#!/bin/sh
# test-install.sh SRCDIR BUILDDIR: `meson install` into a temporary prefix,
# then use the installation from that prefix only:
# - every file a user needs is there (library, headers, pkg-config file, GIR,
#   typelib, programs, man pages, API reference, Python overrides when the
#   tree has them) and nothing installed points back into a build tree;
# - the README's C example builds with `pkg-config --cflags --libs
#   libagentexec-1` and runs;
# - /usr/bin/python3 and /usr/bin/gjs import AgentExec from the prefix
#   (GI_TYPELIB_PATH, LD_LIBRARY_PATH, PYTHONPATH point into it only);
# - the installed agentexec-extract extracts the demo reply's blocks.
# It configures a build of its own with --prefix (the options of BUILDDIR's
# documentation and man settings), so BUILDDIR's prefix is left alone.
set -eu
srcdir=$1
parent=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); echo "not ok $n - $*"; echo "1..$n"; exit 1; }

option() {  # the value of a meson option of the parent build
  meson introspect --buildoptions "$parent" |
    /usr/bin/python3 -c "import json,sys; print([o['value'] for o in json.load(sys.stdin) if o['name']=='$1'][0])"
}
docs=$(option documentation | tr 'TF' 'tf')
man=$(option man)

echo "# meson setup --prefix=$prefix -Ddocumentation=$docs -Dman=$man"
meson setup "$tmp/build" "$srcdir" --prefix="$prefix" -Dtests=false \
  -Dintrospection=enabled -Ddocumentation="$docs" -Dman="$man" >"$tmp/setup.log" 2>&1 ||
  { cat "$tmp/setup.log"; fail "meson setup"; }
ninja -C "$tmp/build" -j2 >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; fail "ninja"; }
meson install -C "$tmp/build" --no-rebuild >"$tmp/install.log" 2>&1 ||
  { tail -30 "$tmp/install.log"; fail "meson install"; }
ok "meson install into $prefix"

libdir=$(meson introspect --buildoptions "$tmp/build" |
  /usr/bin/python3 -c "import json,sys; print([o['value'] for o in json.load(sys.stdin) if o['name']=='libdir'][0])")
lib=$prefix/$libdir
for f in "$lib/libagentexec-1.so.0" "$lib/libagentexec-1.so" "$lib/pkgconfig/libagentexec-1.pc" \
         "$prefix/include/libagentexec-1/libagentexec.h" \
         "$prefix/include/libagentexec-1/agentexec-code-block.h" \
         "$prefix/include/libagentexec-1/agentexec-enum-types.h" \
         "$prefix/include/libagentexec-1/agentexec-version.h" \
         "$prefix/share/gir-1.0/AgentExec-1.0.gir" \
         "$lib/girepository-1.0/AgentExec-1.0.typelib" \
         "$prefix/bin/agentexec" "$prefix/bin/agentexec-extract"; do
  [ -e "$f" ] || fail "installed: $f is missing"
done
ok "library, headers, pkg-config file, GIR, typelib and programs installed"

if [ "$man" != disabled ] && command -v scdoc >/dev/null; then
  for page in agentexec.1 agentexec-extract.1; do
    [ -s "$prefix/share/man/man1/$page" ] || fail "man page $page missing"
  done
  MANPATH=$prefix/share/man man -w agentexec >/dev/null 2>&1 || fail "man -w agentexec"
  ok "man pages installed and found by man"
fi
if [ "$docs" = true ]; then
  for f in index.html libagentexec-1.devhelp2 class.LocalExecutor.html concepts.html \
           adk-compatibility.html; do
    [ -s "$prefix/share/doc/libagentexec-1/$f" ] || fail "API reference: $f missing"
  done
  ok "API reference installed"
fi
overrides=""
if [ -f "$srcdir/bindings/python/gi/overrides/AgentExec.py" ]; then
  overrides=$(find "$prefix" -path '*gi/overrides/AgentExec.py' | head -1)
  [ -n "$overrides" ] || fail "Python overrides not installed under $prefix"
  ok "Python overrides installed ($overrides)"
fi

# Nothing installed may depend on a build tree (RUNPATH, pkg-config paths).
if grep -rl --binary-files=without-match "$tmp/build\|$parent" "$prefix" >"$tmp/refs" 2>/dev/null &&
   [ -s "$tmp/refs" ]; then
  fail "installed text files point into a build tree: $(cat "$tmp/refs")"
fi
for f in "$lib/libagentexec-1.so.0" "$prefix/bin/agentexec" "$prefix/bin/agentexec-extract"; do
  if readelf -d "$f" | grep -E 'RUNPATH|RPATH' | grep -q "$tmp/build\|$parent"; then
    fail "$f has a RUNPATH into a build tree"
  fi
done
ok "no installed file points into a build tree"

# From here on: the prefix only.
unset GI_TYPELIB_PATH LD_LIBRARY_PATH PYTHONPATH PKG_CONFIG_PATH
export PKG_CONFIG_PATH="$lib/pkgconfig"
export LD_LIBRARY_PATH="$lib"
export GI_TYPELIB_PATH="$lib/girepository-1.0"

sh "$srcdir/tests/install/readme-example.sh" "$srcdir/README.md" "$tmp"
flags=$(pkg-config --cflags --libs libagentexec-1)
case $flags in *"$prefix/include/libagentexec-1"*) ;; *) fail "pkg-config: $flags" ;; esac
${CC:-cc} -Wall -Werror -o "$tmp/example" "$tmp/example.c" $flags || fail "README example: cc"
"$tmp/example" >"$tmp/example.out" || fail "README example: run"
grep -q 'runs as python' "$tmp/example.out" || fail "README example printed $(cat "$tmp/example.out")"
ldd "$tmp/example" | grep -q "$lib/libagentexec-1.so.0" || fail "README example: not linked to $lib"
ok "README's C example built with pkg-config --cflags --libs libagentexec-1 and ran"

pythonpath=""
if [ -n "$overrides" ]; then
  pythonpath=$(dirname "$(dirname "$(dirname "$overrides")")")
fi
PYTHONPATH=$pythonpath /usr/bin/python3 - "$lib" "$overrides" <<'PY' || fail "python3 import"
import sys
import gi
gi.require_version("GIRepository", "2.0")
gi.require_version("AgentExec", "1.0")
from gi.repository import AgentExec, GIRepository
lib, overrides = sys.argv[1], sys.argv[2]
path = GIRepository.Repository.get_default().get_typelib_path("AgentExec")
assert path.startswith(lib), path
blocks = AgentExec.CodeBlockParser.new().extract_code_blocks("```py\nprint(1)\n```\n")
assert blocks[0].get_code() == "print(1)\n", blocks[0].get_code()
if overrides:
    module = sys.modules.get("gi.overrides.AgentExec")
    assert module is not None and module.__file__ == overrides, (module, overrides)
print("# python3: typelib", path, "overrides", overrides or "(none in this tree)")
PY
ok "/usr/bin/python3 imports AgentExec from the prefix"

cat >"$tmp/check.js" <<'EOF_JS'
import GIRepository from 'gi://GIRepository?version=2.0';
import AgentExec from 'gi://AgentExec?version=1.0';
import System from 'system';
const path = GIRepository.Repository.get_default().get_typelib_path('AgentExec');
if (!path.startsWith(ARGV[0]))
    throw new Error(`typelib from ${path}`);
const [block] = AgentExec.CodeBlockParser.new().extract_code_blocks('```js\n1\n```\n');
if (block.language !== 'js')
    throw new Error(block.language);
print(`# gjs: typelib ${path}`);
System.exit(0);
EOF_JS
/usr/bin/gjs -m "$tmp/check.js" "$lib" || fail "gjs import"
ok "/usr/bin/gjs imports AgentExec from the prefix"

"$prefix/bin/agentexec-extract" --json "$srcdir/scripts/demo-reply.md" >"$tmp/blocks.json" ||
  fail "agentexec-extract"
/usr/bin/python3 - "$tmp/blocks.json" <<'PY' || fail "agentexec-extract output"
import json, sys
blocks = json.load(open(sys.argv[1]))
assert [b["language"] for b in blocks] == ["python", "python", "bash", "python"], blocks
PY
"$prefix/bin/agentexec" --version | grep -q "^agentexec " || fail "agentexec --version"
ok "installed agentexec-extract extracts the demo reply's 4 blocks"
unit=$prefix/lib/systemd/system/agentexec-serve.service
if [ -f "$srcdir/server/meson.build" ]; then
  [ -f "$unit" ] || fail "agentexec-serve.service not installed"
  grep -q "^ExecStart=$prefix/bin/agentexec serve " "$unit" || fail "unit ExecStart: $(grep ^ExecStart "$unit")"
  systemd-analyze verify --man=no "$unit" >"$tmp/verify.log" 2>&1 ||
    { cat "$tmp/verify.log"; fail "systemd-analyze verify $unit"; }
  ok "agentexec-serve.service installed; systemd-analyze verify accepts it"
  for socket in agentexec-serve.socket agentexec-serve-health.socket; do
    [ -f "$prefix/lib/systemd/system/$socket" ] || fail "$socket not installed"
  done
  (cd "$prefix/lib/systemd/system" &&
    systemd-analyze verify --man=no agentexec-serve.socket agentexec-serve-health.socket \
      agentexec-serve.service) >"$tmp/verify-socket.log" 2>&1 ||
    { cat "$tmp/verify-socket.log"; fail "systemd-analyze verify of the socket units"; }
  ok "agentexec-serve.socket and agentexec-serve-health.socket installed; systemd-analyze verify accepts them"

  # The unit's own command line, run by the installed binary (on free ports).
  args=$(sed -n "s|^ExecStart=$prefix/bin/agentexec serve ||p" "$unit" | sed 's/ *\$AGENTEXEC_SERVE_OPTIONS//')
  if curl -fsS --max-time 3 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; then
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # shellcheck disable=SC2086
    AGENTEXEC_PCRE2_JIT=0 "$prefix/bin/agentexec" serve $args --listen "127.0.0.1:$port" --health-port 0 \
      2>"$tmp/serve.log" &
    pid=$!
    up=0
    for _ in $(seq 1 100); do
      if curl -fsS --max-time 2 "http://127.0.0.1:$port/health" >/dev/null 2>&1; then up=1; break; fi
      kill -0 $pid 2>/dev/null || break
      sleep 0.1
    done
    kill -TERM $pid 2>/dev/null || true
    status=0; wait $pid || status=$?
    [ "$up" = 1 ] || { cat "$tmp/serve.log"; fail "agentexec serve $args did not answer /health"; }
    [ "$status" = 0 ] || { cat "$tmp/serve.log"; fail "agentexec serve exited $status on SIGTERM"; }
    ok "the unit's command line (serve $args) answers /health and stops cleanly on SIGTERM"
  elif [ "${CI:-}" = "true" ]; then
    fail "no Docker engine for the unit's container backend (CI)"
  else
    n=$((n + 1)); echo "ok $n - # SKIP no Docker engine answers: the unit's command line was not run"
  fi
fi
echo "1..$n"
