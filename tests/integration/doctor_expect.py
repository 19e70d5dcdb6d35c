#!/usr/bin/env python3
"""Checks one `venusd doctor --json` document for test_doctor.sh.

    doctor_expect.py FILE SPEC...

FILE must hold one JSON document whose "ok" and "failures" agree with its failed checks,
and in which every warning and failure says what to do ("fix").  Each SPEC must match one
check: CHECK:STATUS[|KEY=VALUE...]: the check's name and status, and data fields compared
as text (booleans as true/false); KEY~VALUE means the field contains VALUE; the KEYs
"message" and "fix" look at those instead of data fields.

Prints one line per problem and exits 1 if there is any, else prints nothing, exits 0.
"""
import json
import sys


def text(v):
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def cond_matches(check, cond):
    eq, tilde = cond.find("="), cond.find("~")
    contains = tilde >= 0 and (eq < 0 or tilde < eq)
    key, want = cond.split("~" if contains else "=", 1)
    have = check.get(key) if key in ("message", "fix") else check["data"].get(key)
    if have is None:
        return False
    return want in text(have) if contains else text(have) == want


def spec_matches(check, spec):
    parts = spec.split("|")
    name, status = parts[0].split(":")
    return (check["name"] == name and check["status"] == status
            and all(cond_matches(check, c) for c in parts[1:]))


def problems(doc, specs):
    checks = doc.get("checks", [])
    fails = sum(1 for c in checks if c["status"] == "fail")
    if doc.get("failures") != fails or doc.get("ok") != (fails == 0):
        yield "ok/failures (%r/%r) disagree with %d failed checks" % (
            doc.get("ok"), doc.get("failures"), fails)
    for c in checks:
        if c["status"] in ("warn", "fail") and not c.get("fix"):
            yield "check %s (%s) has no 'what to do'" % (c["name"], c["status"])
    for spec in specs:
        if not any(spec_matches(c, spec) for c in checks):
            name = spec.split(":")[0]
            seen = ["%s:%s %s" % (c["name"], c["status"], json.dumps(c["data"]))
                    for c in checks if c["name"] == name]
            yield "no check %s (seen: %s)" % (spec, "; ".join(seen) or "none of that name")


def main():
    try:
        with open(sys.argv[1]) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print("not one JSON document: %s" % e)
        return 1
    found = list(problems(doc, sys.argv[2:]))
    for p in found:
        print(p)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
