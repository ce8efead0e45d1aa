#!/usr/bin/env python3
"""check_reference.py - keeps the reference pages true to the code.

  check_reference.py cli SOURCE_DIR DN_TRAIN DN_PREDICT DN_CANVAS
      Every option of dn-train and dn-predict - as their --help lists it,
      and as their argument parser (cli/*.c) accepts it, which must agree -
      has a row in its tool's table in docs/cli.md, and every option
      docs/cli.md names exists: an option is taken to belong to the tool
      named last before it on its line (cmake and ctest are let be), else
      to the tool of its section.

  check_reference.py canvas SOURCE_DIR DN_CANVAS
      The usage block of examples/canvas/README.md ("    dn-canvas [--host
      ADDR] ...") lists exactly the options of `dn-canvas --help`. Every
      path dn-canvas answers (the routes in examples/canvas/*.c and
      the page files of embed.cmake), every query parameter it reads, every
      Server-Sent Event it sends and every HTTP status it can answer appears
      in examples/canvas/README.md, and every /api/ path that page names is
      one the server answers.

  check_reference.py map SOURCE_DIR
      Every page in docs/ is linked from docs/README.md, the map.

Exits 1 with what is missing or wrong, 0 when all is well.
"""
import os
import re
import subprocess
import sys

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
TOOL = re.compile(r"\b(?:dn-(?:train|predict|canvas)|cmake|ctest)\b")  # other programs' options are theirs

problems = []


def fail(message):
    problems.append(message)
    print("FAIL: " + message)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def help_options(program):
    """The options an option list line of `program --help` starts with:
    "  --dropout, --no-dropout  train ..." gives --dropout and --no-dropout."""
    text = subprocess.run([program, "--help"], check=True, capture_output=True, text=True).stdout
    found = set()
    for line in text.splitlines():
        if re.match(r"  --", line):
            found.update(OPTION.findall(re.split(r"\s\s+", line.strip(), maxsplit=1)[0]))
    return found


def parser_options(source):
    """The options cli/<tool>.c compares an argument with."""
    return set(re.findall(r'(?:strcmp|tool_match)\(arg, "(--[a-z0-9-]+)"', read(source)))


def sections(doc):
    """{tool: its section's lines} for the "## dn-train" and "## dn-predict"
    sections, and the lines outside them under None."""
    parts, tool = {None: []}, None
    for line in doc.splitlines():
        heading = re.match(r"## (\S+)", line)
        if heading:
            tool = heading.group(1) if heading.group(1) in ("dn-train", "dn-predict") else None
            parts.setdefault(tool, [])
        parts[tool].append(line)
    return parts


def check_cli(source_dir, programs):
    doc_path = os.path.join(source_dir, "docs", "cli.md")
    parts = sections(read(doc_path))
    options = {}
    for tool, program in programs.items():
        options[tool] = help_options(program)
        if tool == "dn-canvas":
            continue
        parsed = parser_options(os.path.join(source_dir, "cli", tool + ".c"))
        for o in sorted(parsed - options[tool]):
            fail("%s accepts %s but its --help does not list it" % (tool, o))
        for o in sorted(options[tool] - parsed):
            fail("%s --help lists %s but the tool does not accept it" % (tool, o))
        if tool not in parts:
            fail("docs/cli.md has no '## %s' section" % tool)
            continue
        rows = set()
        for line in parts[tool]:
            cells = line.split("|")
            if line.startswith("|") and len(cells) > 2:
                rows.update(OPTION.findall(cells[1]))
        for o in sorted(options[tool] - rows):
            fail("docs/cli.md: %s %s has no row in the options table of '## %s'" % (tool, o, tool))
        for o in sorted(rows - options[tool]):
            fail("docs/cli.md: the table of '## %s' has %s, which %s does not have" % (tool, o, tool))
        print("%s: %d options, in --help, the parser and docs/cli.md" % (tool, len(options[tool])))
    for tool, lines in parts.items():
        for line in lines:
            for match in OPTION.finditer(line):
                named = TOOL.findall(line[:match.start()])
                owner = named[-1] if named else tool
                if owner in ("cmake", "ctest"):
                    continue
                allowed = options[owner] if owner else options["dn-train"] | options["dn-predict"]
                if match.group(0) not in allowed:
                    fail("docs/cli.md names %s as an option of %s, which has no such option: %s"
                         % (match.group(0), owner or "dn-train or dn-predict", line.strip()))


def check_canvas(source_dir, program):
    canvas = os.path.join(source_dir, "examples", "canvas")
    doc = read(os.path.join(canvas, "README.md"))
    usage = re.search(r"\n    dn-canvas (.*(?:\n {6,}\[.*)*)", doc)
    listed = set(OPTION.findall(usage.group(1))) if usage else set()
    options = help_options(program)
    for o in sorted(options - listed - {"--help"}):
        fail("examples/canvas/README.md: the usage block lacks dn-canvas %s" % o)
    for o in sorted(listed - options - {"--help"}):
        fail("examples/canvas/README.md: the usage block has %s, which dn-canvas does not have" % o)
    code = {name: re.sub(r"/\*.*?\*/", "", read(os.path.join(canvas, name)), flags=re.S)  # comments out
            for name in sorted(os.listdir(canvas)) if name.endswith(".c")}
    everything = "".join(code.values())

    routes = set(re.findall(r'"(/api/[a-z/]*[a-z])"', everything))
    files = re.search(r"set\(files ([^)]*)\)", read(os.path.join(canvas, "embed.cmake"))).group(1).split()
    pages = {"/" + name for name in files}
    for path in sorted(routes | pages):
        if not re.search(r"`[A-Z ]*%s[`?\[]" % re.escape(path) if path.startswith("/api/")
                         else r"`%s`" % re.escape(path), doc):
            fail("examples/canvas/README.md does not name %s in backquotes" % path)
    if "`GET /`" not in doc:
        fail("examples/canvas/README.md does not name `GET /` (the page)")
    for path in sorted(set(re.findall(r"/api/[a-z/]*[a-z]", doc)) - routes):
        fail("examples/canvas/README.md names %s, which dn-canvas does not answer" % path)

    params = set(re.findall(r'http_query_(?:get|has)\(\w+, "(\w+)"', everything))
    params |= set(re.findall(r'strncmp\(query, "(\w+)=", \d+\)', everything))
    for p in sorted(params):
        if not re.search(r"[?&]%s=" % p, doc):
            fail("examples/canvas/README.md does not show the query parameter ?%s=" % p)

    events = set(re.findall(r'broadcast\(\w+, "(\w+)"', everything))
    events |= set(re.findall(r"event: (\w+)\\n", everything))
    for e in sorted(events):
        if not re.search(r"`event: %s`" % e, doc):
            fail("examples/canvas/README.md does not describe the event `event: %s`" % e)

    statuses = set(re.findall(r"(?:api_fail|refuse|reply_error)\(\w+, (?:\w+, )?(\d{3})", everything))
    statuses |= set(re.findall(r"return (\d{3});", code["http.c"]))
    statuses |= set(re.findall(r"HTTP/1.1 (\d{3}) ", everything))
    statuses |= set(re.findall(r"json_status\(l, (\d{3})", everything))
    reasons = set(re.findall(r"case (\d{3}): return", code["http.c"]))
    for s in sorted(statuses):
        if not re.search(r"\*\*%s\*\*" % s, doc):
            fail("examples/canvas/README.md does not give the status **%s** dn-canvas can answer" % s)
        if s not in reasons:
            fail("http.c's http_reason has no reason phrase for %s, which dn-canvas answers" % s)
    print("dn-canvas: %d options, %d API paths, %d page files, %d query parameters, %d events, %d statuses checked"
          % (len(options), len(routes), len(pages), len(params), len(events), len(statuses)))


def check_map(source_dir):
    docs = os.path.join(source_dir, "docs")
    linked = set(re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]*)?\)", read(os.path.join(docs, "README.md"))))
    pages = sorted(name for name in os.listdir(docs) if name.endswith(".md") and name != "README.md")
    for name in pages:
        if name not in linked:
            fail("docs/%s is not linked from docs/README.md" % name)
    print("docs/: %d pages, all in the map unless listed above" % len(pages))


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "cli":
        check_cli(sys.argv[2], dict(zip(("dn-train", "dn-predict", "dn-canvas"), sys.argv[3:6])))
    elif len(sys.argv) == 3 and sys.argv[1] == "map":
        check_map(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "canvas":
        check_canvas(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
    print("%d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
