#!/usr/bin/env python3
"""venusd protocol generator.

Reads vk.xml and the tables in protocol/ and writes, into the build directory:
  vn_protocol.h       MESA struct definitions, command type values, per-command argument
                      structs, the command table type, handler prototypes
  vn_protocol.c       decoders (full and "partial") and reply encoders for every struct
                      reachable from the protocol's commands, decoders and reply encoders
                      for every command, generated handlers, the command table
  vk_dispatch.h/.c    the host dispatch table and its loader
  vn_command_table.c  how each command of the protocol is served ('venusd commands')

Wire rules (see docs/protocol.md): little-endian, every item padded to 4 bytes, handles are
u64 object ids, pointers are a u64 count followed by the elements, pNext chains are nested
front to back, output structs arrive "partial" (only sType/pNext, handles, counts that size
an array, and the arrays themselves).

Hand-written handlers are found by scanning every .c file under src/ (--src-dir) for
VD_HANDLER(vkName).  The generator fails, naming file:line, when a handler names no command
of the protocol, when a command has two handlers, when a file with a handler is not one of
the core library's compiled sources (--compiled), and when a command that
protocol/manual_commands.txt lists under [hand-written] has no handler.

The modules (gen/README.md): registry (vk.xml + protocol/ -> model), typeinfo (wire facts of
a type), handlers (VD_HANDLER scan and rules), plan (what to generate), emit_decode /
emit_encode / emit_commands (C text), templates (fixed-shape code), writers (one per file).
"""

import argparse
import os
import sys

# The modules sit next to this file; the build must not write __pycache__ into the sources.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handlers  # noqa: E402
import writers  # noqa: E402
from plan import Manual, Plan, ProtocolCommand, command_skip_reason  # noqa: E402
from registry import PROTOCOLS, Registry  # noqa: E402
from typeinfo import GenError, TypeInfo  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vk-xml", required=True)
    ap.add_argument("--protocol-dir", required=True)
    ap.add_argument("--src-dir", required=True,
                    help="scanned (every .c file below it) for VD_HANDLER(vkName)")
    ap.add_argument("--compiled", nargs="*", default=[],
                    help="the core library's compiled sources: every file with a handler "
                    "must be one")
    ap.add_argument("--out-dir", help="where the generated files go (required unless --check)")
    ap.add_argument("--depfile", help="write a Makefile dependency file (the scanned files and "
                    "directories) for the first output")
    ap.add_argument("--protocol", default="mesa25", choices=sorted(PROTOCOLS),
                    help="which Venus protocol to generate (gen/registry.py PROTOCOLS)")
    ap.add_argument("--check", action="store_true",
                    help="apply the handler rules, print the command table, write nothing")
    args = ap.parse_args()
    if not args.check and not args.out_dir:
        ap.error("--out-dir is required unless --check is given")
    return args


def fail(errors, what):
    for e in errors:
        print(e, file=sys.stderr)
    sys.exit("venus_gen: %d error%s in %s (see docs/design.md, \"The generator\")" % (
        len(errors), "" if len(errors) == 1 else "s", what))


def protocol_commands(reg, ti):
    """[ProtocolCommand], one per command type value; the first name listed for a value
    names it."""
    by_value = {}
    for v, n in reg.command_types:
        by_value.setdefault(v, n)
    commands = []
    for v in sorted(by_value):
        cmd = reg.command(by_value[v])
        if cmd is None:
            sys.exit("command %s (type %d) not found in vk.xml or venus_mesa.xml" % (
                by_value[v], v))
        skip = command_skip_reason(ti, cmd)
        if by_value[v] in reg.unserved_commands or cmd.name in reg.unserved_commands:
            skip = "only extensions venusd does not serve have it (protocol/%s)" % (
                "venus_extensions_mesa26.tsv")
        commands.append(ProtocolCommand(v, by_value[v], cmd, skip))
    return commands


def find_handlers(args, root, commands, reg):
    """Scans src/ and reads protocol/manual_commands.txt; exits on a broken rule.
    Returns the Manual, the scanned files and directories, and manual_commands.txt's path."""
    pd = args.protocol_dir
    primary_of = {c.name: c.value for c in commands}
    by_value = {c.value: c.name for c in commands}
    alias_target = {n: by_value[v] for v, n in reg.command_types if by_value[v] != n}
    manual_path = os.path.join(pd, "manual_commands.txt")
    manual_rel = os.path.relpath(os.path.realpath(manual_path), root)
    listed, errors = handlers.read_manual_list(manual_path, manual_rel)
    for extra in PROTOCOLS[args.protocol].get("manual", ()):
        # the newer protocol's own commands: listed in a file of its own, so that the
        # older protocol's list names only commands it has
        path = os.path.join(pd, extra)
        rel = os.path.relpath(os.path.realpath(path), root)
        more, errs = handlers.read_manual_list(path, rel)
        more = {n: (sec, line, rel) for n, (sec, line) in more.items()}
        errors += errs + ["%s: error: %s is also listed in %s" % (extra, n, manual_rel)
                          for n in more if n in listed]
        listed.update(more)
    sources, dirs = handlers.source_files(os.path.realpath(args.src_dir))
    found = handlers.scan_handlers(sources, root)
    # Handlers of a later protocol's commands are not this protocol's business.
    later = set()
    for proto in PROTOCOLS.values():
        for t in proto["command_types"]:
            if not os.path.exists(os.path.join(pd, t)):
                continue  # a protocol directory with only this protocol's tables
            with open(os.path.join(pd, t)) as f:
                later |= {line.split("\t")[1].strip() for line in list(f)[1:]}
    later -= {n for _, n in reg.command_types}
    found = [h for h in found if h.name not in later]
    compiled = {os.path.realpath(p) for p in args.compiled}
    errors += handlers.check_handlers(found, compiled, listed, manual_rel, primary_of,
                                      alias_target)
    at = {}
    for h in found:
        at.setdefault(h.name, h)
    for c in commands:
        if c.skip and c.name in at:
            errors.append("%s: error: VD_HANDLER(%s): the protocol cannot carry %s (%s), so "
                          "it cannot have a handler" % (at[c.name].where, c.name, c.name, c.skip))
    if errors:
        fail(errors, "the hand-written handlers")
    return Manual(set(at) & set(primary_of), listed, at), sources, dirs, manual_path


def write_if_changed(path, text):
    """Rewrites path only when its text changes, so that nothing recompiles needlessly."""
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if old != text:
        with open(path, "w") as f:
            f.write(text)


def write_depfile(path, target, deps):
    def esc(p):
        return p.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")
    with open(path, "w") as f:
        f.write("%s: \\\n %s\n" % (esc(target), " \\\n ".join(esc(p) for p in deps)))


def main():
    args = parse_args()
    pd = args.protocol_dir
    root = os.path.dirname(os.path.realpath(args.src_dir))
    proto = PROTOCOLS[args.protocol]
    reg = Registry(args.vk_xml, os.path.join(pd, "venus_mesa.xml"),
                   [os.path.join(pd, t) for t in proto["command_types"]],
                   os.path.join(pd, proto["extensions"][0]), proto["core"], proto["mesa_spec"])
    if args.protocol != "mesa25":
        # The structs that Mesa 25.0.7's protocol lacks: its selection over the same vk.xml.
        p25 = PROTOCOLS["mesa25"]
        old = Registry(args.vk_xml, os.path.join(pd, "venus_mesa.xml"),
                       [os.path.join(pd, t) for t in p25["command_types"]],
                       os.path.join(pd, p25["extensions"][0]), p25["core"], p25["mesa_spec"])
        reg.newer_types = {t.name for t in reg.types.values()
                           if t.category == "struct" and not t.alias and reg.is_required(t.name)
                           and not old.is_required(t.name)}
    ti = TypeInfo(reg)
    commands = protocol_commands(reg, ti)
    manual, sources, dirs, manual_path = find_handlers(args, root, commands, reg)
    plan = Plan(ti, reg, commands, manual)
    if args.check:
        for v, n, how, where, alias in plan.serving:
            print("%d\t%s\t%s\t%s%s" % (v, n, how, where, "\talias of " + alias if alias else ""))
        return

    try:
        texts = {name: writer(reg, ti, plan) for name, writer in writers.OUTPUTS.items()}
    except GenError as e:
        sys.exit("venus_gen: error: %s" % e)
    for name, text in texts.items():
        write_if_changed(os.path.join(args.out_dir, name), text)
    if args.depfile:
        deps = [os.path.abspath(p) for p in sources + dirs] + [os.path.abspath(manual_path)]
        write_depfile(args.depfile, os.path.join(args.out_dir, "vn_protocol.h"), deps)


if __name__ == "__main__":
    main()
