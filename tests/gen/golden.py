#!/usr/bin/env python3
"""The generator's golden test (tests/gen/README.md).

Runs gen/venus_gen.py on the tiny registry in tests/gen/fixture/ (its vk.xml, protocol/
tables and src/ handlers) and compares every output, and the --check table, with the
checked-in files in tests/gen/expected/.  Prints 'PASS generator/golden/FILE' or
'FAIL generator/golden/FILE: reason' (with a diff) for each, and exits 1 on any failure.

  python3 tests/gen/golden.py            compare
  python3 tests/gen/golden.py --update   regenerate tests/gen/expected/ (after a deliberate
                                         change to the generator; review the diff)
"""

import argparse
import difflib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(HERE, "fixture")
OUTPUTS = ["vn_protocol.h", "vn_protocol.c", "vk_dispatch.h", "vk_dispatch.c",
           "vn_command_table.c"]
CHECK = "check.txt"  # what --check prints: the 'venusd commands' table
MAX_DIFF_LINES = 60


def generator_command(generator, *extra):
    return [sys.executable, generator,
            "--vk-xml", os.path.join(FIXTURE, "vk.xml"),
            "--protocol-dir", os.path.join(FIXTURE, "protocol"),
            "--src-dir", os.path.join(FIXTURE, "src"),
            "--compiled", os.path.join(FIXTURE, "src", "handlers.c")] + list(extra)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("FAIL generator/golden: '%s' exited %d:\n%s" % (
            " ".join(cmd), p.returncode, p.stderr))
    return p.stdout


def generate(generator, out_dir):
    """{file name: text} of everything the generator makes from the fixture."""
    run(generator_command(generator, "--out-dir", out_dir))
    texts = {}
    for name in OUTPUTS:
        with open(os.path.join(out_dir, name)) as f:
            texts[name] = f.read()
    texts[CHECK] = run(generator_command(generator, "--check"))
    return texts


def compare(texts, expected_dir):
    """Prints a PASS or FAIL line per file; returns (passed, failed)."""
    passed = failed = 0
    for name, text in texts.items():
        path = os.path.join(expected_dir, name)
        rel = os.path.relpath(path, ROOT)
        if not os.path.exists(path):
            print("FAIL generator/golden/%s: %s is missing (make it: python3 "
                  "tests/gen/golden.py --update)" % (name, rel))
            failed += 1
            continue
        with open(path) as f:
            want = f.read()
        if want == text:
            print("PASS generator/golden/%s" % name)
            passed += 1
            continue
        diff = list(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                         rel, "generated from tests/gen/fixture"))
        removed = sum(1 for d in diff[2:] if d.startswith("-"))
        added = sum(1 for d in diff[2:] if d.startswith("+"))
        print("FAIL generator/golden/%s: the generator's output differs from %s (%d lines "
              "removed, %d added); if the change is intended, run python3 "
              "tests/gen/golden.py --update and commit the new expected output" % (
                  name, rel, removed, added))
        sys.stdout.writelines(diff[:MAX_DIFF_LINES])
        if len(diff) > MAX_DIFF_LINES:
            print("... (%d more diff lines)" % (len(diff) - MAX_DIFF_LINES))
        failed += 1
    extra = sorted(set(os.listdir(expected_dir)) - set(texts))
    for name in extra:
        print("FAIL generator/golden/%s: %s is not an output of the generator (remove it)" % (
            name, os.path.relpath(os.path.join(expected_dir, name), ROOT)))
        failed += 1
    return passed, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--update", action="store_true",
                    help="rewrite the expected outputs instead of comparing")
    ap.add_argument("--generator", default=os.path.join(ROOT, "gen", "venus_gen.py"))
    ap.add_argument("--expected", default=os.path.join(HERE, "expected"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="venusd-golden-") as tmp:
        texts = generate(args.generator, tmp)
    if args.update:
        os.makedirs(args.expected, exist_ok=True)
        for name, text in texts.items():
            with open(os.path.join(args.expected, name), "w") as f:
                f.write(text)
        print("wrote %d files to %s" % (len(texts), os.path.relpath(args.expected, ROOT)))
        return 0
    passed, failed = compare(texts, args.expected)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
