#!/usr/bin/env python3
"""The protocol audit: every command whose guest-supplied input holds an index, an offset,
a size or a region, with how venusd treats it (docs/protocol-audit.md).  It covers the
newest protocol (PROTOCOLS["mesa26"] of gen/registry.py: the one the build decodes, so
vk.xml >= 1.4.343); a command that only extensions venusd does not serve bring is refused
at run time and listed as such without an audit.txt line.

Walks each protocol command's input parameters and the structs they reach (arrays,
pointers, nested structs and the pNext structs that may extend them), using vk.xml's
vocabulary: a member named in another's `len` is a count (it only sizes venusd's own
decode, which never reads past the stream); a handle is looked up by type and checked to
belong to the command's device (src/context/dispatch.c, src/vk/lifetime.c) for every
command, so handles are only counted; a 32-bit member named like an index (first*, *Index,
*Binding, *Element, query, mipLevel, *Layer*, *Set, attachment, colorAttachment, *subpass,
location) is an index; a VkDeviceSize or a member
named *offset*, *size*, *stride* is an offset; a VkOffset2D/3D, VkExtent2D/3D or VkRect2D
is a region.  Each command with an index, offset or region must match a line of
protocol/audit.txt ("checked: where", "safe: why" or "open: what is not established");
the build of the table fails otherwise, and --check fails while any command is open.

  protocol_audit.py --vk-xml VK.XML --protocol-dir protocol --write docs/protocol-audit.md
  protocol_audit.py --vk-xml VK.XML --protocol-dir protocol --check docs/protocol-audit.md

--check exits 1 if a command is not classified or open, an audit.txt line matches nothing,
or the file differs from what --write would write."""
import argparse
import fnmatch
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry import PROTOCOLS, Registry  # noqa: E402

# The audit covers the protocol the build decodes: the newest (Mesa 25.0.7's is a subset).
PROTOCOL = PROTOCOLS["mesa26"]
UNSERVED = ("safe: not served: only extensions venusd does not serve have it "
            "(protocol/venus_extensions_mesa26.tsv); the context goes fatal")

INDEX_RE = re.compile(r"^(first[A-Z].*|.*Index|.*Indices|.*Binding|binding|.*Element|query|"
                      r"mipLevel|.*Layer|baseArrayLayer|.*Set|set|.*MipLevel|viewIndex|"
                      r"attachment|colorAttachment|subpass|srcSubpass|dstSubpass|location)$")
OFFSET_RE = re.compile(r"(offset|Offset|size|Size|stride|Stride)")
REGION_TYPES = {"VkOffset2D", "VkOffset3D", "VkExtent2D", "VkExtent3D", "VkRect2D"}
INT_TYPES = {"uint32_t", "int32_t", "uint64_t", "VkDeviceSize", "size_t", "VkDeviceAddress"}


def kind(reg, type_name):
    t = reg.resolve(type_name)
    return t.category if t is not None else "scalar"


def walk(reg, members, prefix, out, seen, depth):
    """Adds (category, path) for the input members of one struct or parameter list."""
    counts = set()
    for m in members:
        for ln in m.lens:
            counts.add(ln.split("->")[-1])
    for m in members:
        if m.name in ("sType", "pNext"):
            continue
        if m.ptr and not m.const:
            continue  # an output
        path = prefix + m.name + ("[]" if (m.ptr or m.array) and m.type != "char" else "")
        k = kind(reg, m.type)
        if k == "handle":
            out.append(("handle", path))
        elif m.type in REGION_TYPES:
            out.append(("region", path))
        elif k in ("struct", "union"):
            t = reg.resolve(m.type)
            if t.name in seen or depth > 6:
                continue
            walk(reg, t.members, path + ".", out, seen | {t.name}, depth + 1)
            for ext in reg.extenders(t.name):
                if ext.name not in seen:
                    walk(reg, ext.members, path + ".pNext<%s>." % ext.name, out,
                         seen | {t.name, ext.name}, depth + 1)
        elif m.name in counts:
            out.append(("count", path))
        elif m.type in INT_TYPES and INDEX_RE.match(m.name):
            out.append(("index", path))
        elif m.type in INT_TYPES and OFFSET_RE.search(m.name):
            out.append(("offset", path))


def read_rules(path):
    rules = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            pat, _, status = line.partition(" ")
            status = status.strip()
            if not re.match(r"^(checked|safe|open): \S", status):
                sys.exit("%s:%d: error: expected 'PATTERN checked|safe|open: TEXT'" % (path, n))
            rules.append([pat, status, n, 0])
    return rules


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vk-xml", required=True)
    ap.add_argument("--protocol-dir", required=True)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write")
    g.add_argument("--check")
    args = ap.parse_args()
    pd = args.protocol_dir
    reg = Registry(args.vk_xml, os.path.join(pd, "venus_mesa.xml"),
                   [os.path.join(pd, f) for f in PROTOCOL["command_types"]],
                   os.path.join(pd, PROTOCOL["extensions"][0]), core=PROTOCOL["core"],
                   mesa_spec=PROTOCOL["mesa_spec"])
    rules_path = os.path.join(pd, "audit.txt")
    rules = read_rules(rules_path)
    by_value = {}
    for v, n in reg.command_types:
        by_value.setdefault(v, n)
    rows, errors = [], []
    handles = counts = 0
    for v in sorted(by_value):
        name = by_value[v]
        cmd = reg.command(name)
        if cmd is None:
            continue
        found = []
        walk(reg, cmd.params, "", found, frozenset(), 0)
        handles += sum(1 for c, _ in found if c == "handle")
        counts += sum(1 for c, _ in found if c == "count")
        listed = [p for c, p in found if c in ("index", "offset", "region")]
        if not listed:
            continue
        rule = next((r for r in rules if fnmatch.fnmatchcase(name, r[0])), None)
        if rule is None and name in reg.unserved_commands:
            status = UNSERVED
        elif rule is None:
            errors.append("%s: error: %s has guest-supplied %s but no line in %s says whether "
                          "it is checked, safe or open" % (rules_path, name,
                                                           ", ".join(listed[:4]), rules_path))
            status = "UNCLASSIFIED"
        else:
            rule[3] += 1
            status = rule[1]
            if status.startswith("open:"):
                errors.append("%s:%d: error: %s is open: check it before the driver sees it, "
                              "or say why it is safe" % (rules_path, rule[2], name))
        shown = ", ".join("`%s`" % p for p in listed[:6])
        if len(listed) > 6:
            shown += " and %d more" % (len(listed) - 6)
        rows.append("| %s | %s | %s |" % (name, shown, status))
    for pat, _, n, used in rules:
        if not used:
            errors.append("%s:%d: error: %s matches no command with indices or offsets"
                          % (rules_path, n, pat))
    text = "\n".join([
        "# Protocol audit",
        "",
        "Generated by `gen/protocol_audit.py` from vk.xml and `protocol/audit.txt`; do not edit.",
        "",
        "Every command of the newest protocol (the one the build decodes; Mesa 25.0.7's is a",
        "subset) whose guest-supplied input holds an index, offset, size or region, found by",
        "`gen/protocol_audit.py` from vk.xml (see its header for the rules),",
        "and what venusd does about it: *checked* (where), *safe* (why), or *open* (not yet",
        "established).  Not listed: handles (%d, in every command: each is looked up by type"
        % handles,
        "and must belong to the command's device, `src/context/dispatch.c`,",
        "`src/vk/lifetime.c`) and counts (%d: they size venusd's own decode, which never reads"
        % counts,
        "past the stream).  `tests/integration/test_protocol_audit.sh` fails when a command is",
        "missing here or this file is stale.",
        "",
        "| command | guest-supplied indices, offsets, regions | status |",
        "|---|---|---|",
    ] + rows) + "\n"
    if errors:
        print("\n".join(errors), file=sys.stderr)
    if args.write:
        with open(args.write, "w") as f:
            f.write(text)
        return 1 if errors else 0
    with open(args.check) as f:
        if f.read() != text:
            print("%s: error: stale; regenerate it with --write" % args.check, file=sys.stderr)
            return 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
