"""A tiny TAP producer for the binding tests (run by /usr/bin/python3)."""

import sys
import traceback

_tests = []


def test(fn):
    _tests.append(fn)
    return fn


def run():
    print("1..%d" % len(_tests))
    failed = 0
    for i, fn in enumerate(_tests, 1):
        name = fn.__name__
        try:
            fn()
        except Exception:  # noqa: BLE001 - report every failure as TAP
            failed += 1
            print("not ok %d - %s" % (i, name))
            for line in traceback.format_exc().splitlines():
                print("# " + line)
        else:
            print("ok %d - %s" % (i, name))
        sys.stdout.flush()
    sys.exit(1 if failed else 0)
