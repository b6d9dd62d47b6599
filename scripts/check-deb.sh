#!/usr/bin/env bash
# Installs the Debian packages of libagentexec into a throwaway bookworm root
# (mmdebstrap, as root) and uses them there, from the installed files only:
# the demo's extraction with agentexec-extract, the demo reply run by
# `agentexec reply` on the local backend, the README's C example built with
# `pkg-config --cflags --libs libagentexec-1`, `import AgentExec` (overrides active) from
# python3 and gjs, the man pages, the API reference and the systemd unit.
#
#   scripts/check-deb.sh [DEBDIR]      (default: _build-deb, from scripts/build-deb.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
debs=$(cd "${1:-$top/_build-deb}" && pwd)
note() { echo "check-deb: $*"; }
[ "$(id -u)" = 0 ] || { note "needs root (mmdebstrap makes a chroot)"; exit 1; }
command -v mmdebstrap >/dev/null || apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null

include="python3,python3-gi,gjs,gcc,libc6-dev,pkg-config,man-db,systemd"
for deb in "$debs"/*.deb; do
  case $deb in *-dbgsym_*) ;; *) include="$include,$deb" ;; esac
done
chmod a+rx "$debs"; chmod a+r "$debs"/*.deb

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$top/scripts/demo-reply.md" "$tmp/demo-reply.md"
sh "$top/tests/install/readme-example.sh" "$top/README.md" "$tmp"

cat >"$tmp/inside.sh" <<'INSIDE'
set -eu
cd /tmp/check
fail() { echo "check-deb: FAILED: $*"; exit 1; }
echo "check-deb: installed: $(dpkg-query -W -f='${Package} ${Version}, ' 'libagentexec*' \
  'gir1.2-agentexec*' python3-agentexec agentexec-tools)"

agentexec-extract --json demo-reply.md >extract.json
python3 - <<'PY' || fail "agentexec-extract --json"
import json
blocks = json.load(open("extract.json"))
assert [b["language"] for b in blocks] == ["python", "python", "bash", "python"], blocks
assert all(b["closed"] for b in blocks)
print("check-deb: agentexec-extract found the demo's 4 blocks")
PY

status=0
# A chroot's / is not a mount point, so the Local sandbox (a private mount
# namespace over /) cannot be set up in it: the throwaway root is the sandbox.
agentexec reply --backend local --no-sandbox --allow-unsafe --timeout 30 demo-reply.md >reply.txt || status=$?
[ "$status" = 1 ] || fail "agentexec reply exited $status (1 expected: the demo's last block fails)"
grep -q 'mean sales: 150.8' reply.txt || fail "agentexec reply: no result of the first block"
grep -q 'ZeroDivisionError' reply.txt || fail "agentexec reply: no error of the last block"
echo "check-deb: agentexec reply ran the demo (4 blocks, the last fails as it should)"

cc -o example example.c $(pkg-config --cflags --libs libagentexec-1) || fail "the README's C example"
./example | grep -q 'runs as python' || fail "the README's C example printed: $(./example)"
echo "check-deb: the README's C example built with pkg-config and ran"

python3 - <<'PY' || fail "python3 import (with the overrides)"
import sys
import gi
gi.require_version("AgentExec", "1.0")
from gi.repository import AgentExec, GLib
blocks = AgentExec.CodeBlockParser.new().extract_code_blocks("```py\nprint(1)\n```\n")
assert blocks[0].get_code() == "print(1)\n", blocks[0].get_code()
overrides = sys.modules["gi.overrides.AgentExec"].__file__
assert overrides == "/usr/lib/python3/dist-packages/gi/overrides/AgentExec.py", overrides
# In the chroot the sandbox cannot be set up (its / is not a mount point):
# construction says so; unsandboxed needs the opt-in; with it the code runs.
try:
    AgentExec.LocalExecutor()
    raise SystemExit("a sandboxed LocalExecutor was constructed in a chroot")
except GLib.Error as e:
    assert e.matches(AgentExec.error_quark(), AgentExec.Error.BACKEND_UNAVAILABLE), e.message
try:
    AgentExec.LocalExecutor(sandbox=AgentExec.LocalSandbox.NONE)
    raise SystemExit("LocalExecutor(sandbox=NONE) without the opt-in was constructed")
except GLib.Error as e:
    assert e.matches(AgentExec.error_quark(), AgentExec.Error.UNSAFE_NOT_ALLOWED), e.message
with AgentExec.LocalExecutor(sandbox=AgentExec.LocalSandbox.NONE, allow_unsafe=True) as ex:
    r = ex.run("print(6 * 7)", language="python")
    assert r.stdout == "42\n", r.stdout
print("check-deb: python3 imports AgentExec, overrides active (%s)" % overrides)
PY
gjs -c '
const AgentExec = imports.gi.AgentExec;
const blocks = AgentExec.CodeBlockParser.new().extract_code_blocks("```js\n1\n```\n");
if (blocks[0].get_language() !== "js") throw new Error(blocks[0].get_language());
print("check-deb: gjs imports AgentExec");
' || fail "gjs import"

man -w agentexec >/dev/null && man -w agentexec-extract >/dev/null || fail "man pages"
test -f /usr/share/doc/libagentexec-1/index.html || fail "API reference"
test -f /usr/share/devhelp/books/libagentexec-1/libagentexec-1.devhelp2 || fail "devhelp book"
echo "check-deb: man pages and API reference installed"
systemd-analyze verify --man=no /usr/lib/systemd/system/agentexec-serve.service ||
  fail "systemd-analyze verify agentexec-serve.service"
systemctl is-enabled agentexec-serve.service >/dev/null 2>&1 &&
  fail "agentexec-serve.service was enabled on installation"
systemd-analyze verify --man=no /usr/lib/systemd/system/agentexec-serve.socket \
  /usr/lib/systemd/system/agentexec-serve-health.socket ||
  fail "systemd-analyze verify of the socket units"
systemctl is-enabled agentexec-serve.socket >/dev/null 2>&1 &&
  fail "agentexec-serve.socket was enabled on installation"
echo "check-deb: agentexec-serve.service and its sockets verified, not enabled"
echo "check-deb: OK"
INSIDE

note "mmdebstrap bookworm with our packages: ${include#*systemd,}"
mmdebstrap --quiet --variant=apt --include="$include" \
  --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
  --customize-hook="mkdir -p \"\$1/tmp/check\" && cp -r $tmp/. \"\$1/tmp/check/\"" \
  --customize-hook='chroot "$1" sh /tmp/check/inside.sh' \
  bookworm "$tmp/root.tar"
