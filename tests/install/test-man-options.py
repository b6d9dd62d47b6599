#!/usr/bin/env python3
"""test-man-options.py MANDIR BINDIR: each man page lists exactly the options
its program's --help lists (names, and whether they take a value).

agentexec(1): the OPTIONS section against `agentexec --help`'s usage line
"agentexec --help | --version", and a "<COMMAND> OPTIONS" section for each
command of the usage lines against `agentexec COMMAND --help`.
agentexec-extract(1): OPTIONS against `agentexec-extract --help`.
"""
import os
import re
import subprocess
import sys

FONT = re.compile(r"\\f[BIRP]|\\&")


def sections(man_path):
    """{section title: [option term lines]} of a man page scdoc wrote: a term
    is the line just before ".RS 4" (scdoc's indented definition)."""
    result, title, previous = {}, None, None
    for line in open(man_path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith(".SH "):
            title = line[4:].strip().strip('"')
            result[title] = []
        elif line.startswith(".RS") and title and previous is not None:
            result[title].append(FONT.sub("", previous).replace("\\-", "-"))
        previous = line
    return result


def parse_term(term):
    """"-b, --backend=NAME" -> {("-b", True), ("--backend", True)}."""
    forms = [f.strip() for f in term.split(",")]
    has_arg = any("=" in f or " " in f for f in forms)
    names = set()
    for form in forms:
        m = re.match(r"(--?[A-Za-z0-9][A-Za-z0-9-]*)", form)
        if not m:
            raise ValueError("not an option term: %r" % term)
        names.add((m.group(1), has_arg))
    return names


def man_options(terms):
    options = set()
    for term in terms:
        if term.startswith("-"):
            options |= parse_term(term)
    return options


def help_options(text):
    """Options of a --help listing: lines indented by 2+ spaces starting with
    '-', the term ending at two spaces."""
    options = set()
    for line in text.splitlines():
        m = re.match(r"^ {2,}(-\S.*?)(?: {2,}|$)", line)
        if m:
            options |= parse_term(m.group(1))
    return options


def run_help(argv):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit("%s exited with %d: %s" % (argv, out.returncode, out.stderr))
    return out.stdout


failures = []
checks = 0


def compare(what, man, helped):
    global checks
    checks += 1
    if man == helped:
        print("ok %d - %s: %d options agree" % (checks, what, len(man)))
        return
    print("not ok %d - %s" % (checks, what))
    for name, arg in sorted(man - helped):
        print("#   only in the man page: %s%s" % (name, " VALUE" if arg else ""))
    for name, arg in sorted(helped - man):
        print("#   only in --help: %s%s" % (name, " VALUE" if arg else ""))
    failures.append(what)


mandir, bindir = sys.argv[1], sys.argv[2]

# agentexec-extract(1)
page = sections(os.path.join(mandir, "agentexec-extract.1"))
compare("agentexec-extract(1) OPTIONS vs --help", man_options(page.get("OPTIONS", [])),
        help_options(run_help([os.path.join(bindir, "agentexec-extract"), "--help"])))

# agentexec(1)
agentexec = os.path.join(bindir, "agentexec")
page = sections(os.path.join(mandir, "agentexec.1"))
top = run_help([agentexec, "--help"])
usage_top = set()
commands = []
for line in top.splitlines():
    m = re.match(r"^\s+agentexec (\S+)(.*)$", line)
    if not m:
        continue
    if m.group(1).startswith("-"):
        for name in re.findall(r"--?[a-z][a-z-]*", m.group(1) + m.group(2)):
            usage_top.add((name, False))
    elif m.group(1) not in commands:
        commands.append(m.group(1))
compare("agentexec(1) OPTIONS vs the usage of agentexec --help",
        man_options(page.get("OPTIONS", [])), usage_top)
if not commands:
    failures.append("no command in agentexec --help")
for command in commands:
    title = "%s OPTIONS" % command.upper()
    if title not in page:
        checks += 1
        print("not ok %d - agentexec(1) has no %s section for `agentexec %s`"
              % (checks, title, command))
        failures.append(title)
        continue
    compare("agentexec(1) %s vs agentexec %s --help" % (title, command),
            man_options(page[title]), help_options(run_help([agentexec, command, "--help"])))
for title in page:
    if title.endswith(" OPTIONS") and title[:-8].lower() not in commands:
        checks += 1
        print("not ok %d - agentexec(1) documents %s, which agentexec --help does not list"
              % (checks, title))
        failures.append(title)

print("1..%d" % checks)
sys.exit(1 if failures else 0)
