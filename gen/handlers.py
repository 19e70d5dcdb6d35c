"""The hand-written handlers: the VD_HANDLER(vkName) definitions found under src/ and
protocol/manual_commands.txt, and the rules that fail the build when they disagree with the
protocol (see docs/design.md, "The generator").
"""

import os
import re

class Handler:
    """One VD_HANDLER(name) definition found in a source file."""

    def __init__(self, name, path, line, rel):
        self.name = name
        self.path = path  # real path
        self.line = line
        self.rel = rel    # path relative to the project root, for messages and the table

    @property
    def where(self):
        return "%s:%d" % (self.rel, self.line)


# A handler definition: VD_HANDLER(vkName) at the start of a line, not followed by ';'
# (a line "VD_HANDLER(vkName);" is a declaration).  Spaces are tolerated so that a
# handler cannot escape the scan by its spelling.
HANDLER_RE = re.compile(r"^[ \t]*VD_HANDLER[ \t]*\([ \t]*(\w+)[ \t]*\)[ \t]*(;?)")


def source_files(src_dir):
    """Every .c file under src_dir (sorted) and every directory walked."""
    files, dirs = [], []
    for root, dnames, fnames in os.walk(src_dir):
        dnames[:] = sorted(d for d in dnames if not d.startswith("."))
        dirs.append(root)
        for f in sorted(fnames):
            if f.endswith(".c"):
                files.append(os.path.join(root, f))
    return files, dirs


def scan_handlers(paths, root):
    found = []
    for p in paths:
        rel = os.path.relpath(p, root)
        with open(p, errors="replace") as f:
            for lineno, text in enumerate(f, 1):
                mo = HANDLER_RE.match(text)
                if mo and not mo.group(2):
                    found.append(Handler(mo.group(1), os.path.realpath(p), lineno, rel))
    return found


def read_manual_list(path, rel):
    """protocol/manual_commands.txt: {name: (section, line)} and errors.

    Sections: [hand-written] (a VD_HANDLER is required: the build fails without one) and
    [not-generated] (never a generated handler; refused at run time without a VD_HANDLER).
    Names before the first section header are [not-generated]."""
    entries, errors = {}, []
    section = "not-generated"
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#")[0].strip()
            if not line:
                continue
            mo = re.fullmatch(r"\[([\w-]+)\]", line)
            if mo:
                if mo.group(1) not in ("hand-written", "not-generated"):
                    errors.append("%s:%d: error: unknown section [%s] (the sections are "
                                  "[hand-written] and [not-generated])" % (
                                      rel, lineno, mo.group(1)))
                section = mo.group(1)
                continue
            if line in entries:
                errors.append("%s:%d: error: %s is listed twice (first on line %d)" % (
                    rel, lineno, line, entries[line][1]))
                continue
            entries[line] = (section, lineno)
    return entries, errors


def check_handlers(handlers, compiled, manual_list, manual_rel, primary_of, alias_target):
    """The fail-closed rules.  Returns a list of error lines."""
    errors = []
    first = {}
    for h in handlers:
        if h.path not in compiled:
            errors.append("%s: error: VD_HANDLER(%s) is in %s, which is not compiled into the "
                          "core library: add it to core_sources in src/meson.build" % (
                              h.where, h.name, h.rel))
        if h.name not in primary_of:
            if h.name in alias_target:
                errors.append("%s: error: VD_HANDLER(%s): %s is an alias of %s; name the "
                              "handler VD_HANDLER(%s)" % (
                                  h.where, h.name, h.name, alias_target[h.name],
                                  alias_target[h.name]))
            else:
                errors.append("%s: error: VD_HANDLER(%s): %s is not a command of the Venus "
                              "protocol (protocol/venus_command_types.tsv)" % (
                                  h.where, h.name, h.name))
            continue
        if h.name in first:
            errors.append("%s: error: VD_HANDLER(%s): a second handler for %s (the first is "
                          "at %s)" % (h.where, h.name, h.name, first[h.name].where))
            continue
        first[h.name] = h
    default_rel = manual_rel
    for name, (section, line, *file) in sorted(manual_list.items(), key=lambda kv: kv[1][1]):
        manual_rel = file[0] if file else default_rel  # the entry's own file (a protocol's)
        if name not in primary_of:
            if name in alias_target:
                errors.append("%s:%d: error: %s is an alias of %s: list %s instead" % (
                    manual_rel, line, name, alias_target[name], alias_target[name]))
            else:
                errors.append("%s:%d: error: %s is not a command of the Venus protocol" % (
                    manual_rel, line, name))
        elif section == "hand-written" and name not in first:
            errors.append("%s:%d: error: %s must be hand-written (listed under [hand-written]) "
                          "but no .c file under src/ has VD_HANDLER(%s)" % (
                              manual_rel, line, name, name))
    return errors
