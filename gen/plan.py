"""What to generate: which commands the protocol can carry, how each one is served, and
which structs need a full decoder, a partial decoder or a reply encoder.

The Plan is computed once, before anything is emitted; the emitters only read it.
"""

import re

from typeinfo import NULL_ONLY


class ProtocolCommand:
    """One command type value of the protocol: its name (the one that owns the value), its
    vk.xml definition, why it cannot be carried (skip, or None) and how it is served (how:
    'skip', 'hand', 'create', 'destroy', 'pass' or None for refused at run time)."""

    def __init__(self, value, name, cmd, skip):
        self.value = value
        self.name = name
        self.cmd = cmd
        self.skip = skip
        self.how = None

    @property
    def params(self):
        return self.cmd.params


def command_skip_reason(ti, cmd):
    """Why the protocol cannot carry cmd to a renderer, or None."""
    for p in cmd.params:
        k = ti.kind(p.type)
        if k == "void" and p.ptr and not p.len:
            return "untyped pointer parameter %s" % p.name
        if k in ("funcpointer", "unknown"):
            return "parameter %s of type %s" % (p.name, p.type)
        if p.ptr >= 2 and p.type != "char" and (p.ptr > 2 or
                                                 ti.inner_len(cmd.name, p, "") is None):
            return "pointer-to-pointer parameter %s" % p.name
    bad = _uncarried_member(ti, [p.type for p in cmd.params if ti.kind(p.type) == "struct"])
    if bad:
        return bad
    if ti.kind(cmd.ret) not in ("scalar", "void") and cmd.ret != "void":
        return "return type %s" % cmd.ret
    if cmd.ret == "PFN_vkVoidFunction":
        return "returns a function pointer"
    return None


def _uncarried_member(ti, todo):
    """A member, in the structs named by todo or those they contain (pNext extenders
    aside), that the wire cannot carry: an untyped pointer without a length (vk.xml 1.4's
    host-pointer copies, VkMemoryToImageCopy.pHostPointer; the Venus protocol leaves their
    commands out and has MESA variants)."""
    seen = set()
    while todo:
        t = todo.pop()
        if t in seen or t == "VkAllocationCallbacks":  # never sent: always NULL
            continue
        seen.add(t)
        for m in ti.struct(t).members:
            k = ti.kind(m.type)
            if k == "void" and m.ptr and not m.len and m.name != "pNext" and \
                    (t, m.name) not in NULL_ONLY:
                return "untyped pointer member %s.%s" % (t, m.name)
            if k == "struct":
                todo.append(m.type)
    return None


def has_target(ti, name, cmd):
    """vkDestroyX / vkFreeX(device, x, pAllocator): the args carry x's record."""
    return ((name.startswith("vkDestroy") or name.startswith("vkFree")) and
            len(cmd.params) == 3 and cmd.params[0].type == "VkDevice" and
            ti.kind(cmd.params[1].type) == "handle" and
            cmd.params[2].type == "VkAllocationCallbacks")


def created_param(ti, name, cmd):
    """vkCreateX(device, ..., pX or pXs[count]) of a device child: the output parameter."""
    if not name.startswith("vkCreate") or not cmd.params or cmd.params[0].type != "VkDevice":
        return None
    last = cmd.params[-1]
    if not (ti.is_output_param(last) and ti.kind(last.type) == "handle"):
        return None
    return last


def makes_or_frees_objects(ti, name, cmd):
    return bool(re.match(r"vk(Destroy|Free|Create|Allocate)", name)) or any(
        ti.is_output_param(p) and ti.kind(p.type) == "handle" for p in cmd.params)


def passthrough_ok(ti, name, cmd):
    if name.endswith("MESA") or makes_or_frees_objects(ti, name, cmd):
        return False
    return bool(cmd.params) and ti.kind(cmd.params[0].type) == "handle"


def serving_how(ti, c, manual):
    """How command c is served (see ProtocolCommand.how); manual: the commands with a VD_HANDLER
    or listed in protocol/manual_commands.txt never get a generated handler."""
    if c.skip:
        return "skip"
    if c.name in manual.handled:
        return "hand"
    if c.name in manual.listed:
        return None
    if created_param(ti, c.name, c.cmd) is not None:
        return "create"
    if has_target(ti, c.name, c.cmd):
        return "destroy"
    if passthrough_ok(ti, c.name, c.cmd):
        return "pass"
    return None


class Manual:
    """handled: commands with a VD_HANDLER; listed: protocol/manual_commands.txt (with
    section and line); at: the first handler of each command."""

    def __init__(self, handled, listed, at):
        self.handled = handled
        self.listed = listed
        self.at = at


# -- which structs need which coders ----------------------------------------------------
def mark(ti, need, mode, tname):
    """Marks tname, the structs it contains and the structs that extend its chain."""
    t = ti.struct(tname)
    if t is None or t.category not in ("struct", "union") or t.name in need[mode]:
        return
    need[mode].add(t.name)
    for m in t.members:
        if m.name not in ("sType", "pNext") and ti.kind(m.type) in ("struct", "union"):
            mark(ti, need, mode, m.type)
    if t.has_pnext:
        for e in ti.reg.extenders(t.name):
            mark(ti, need, mode, e.name)


def struct_needs(ti, commands):
    """{'full', 'partial', 'enc'}: the structs whose full decoder (inputs), partial decoder
    (outputs as the guest sends them) or reply encoder the commands use."""
    need = {"full": set(), "partial": set(), "enc": set()}
    for c in commands:
        if c.skip:
            continue
        for p in c.params:
            if ti.kind(p.type) not in ("struct", "union"):
                continue
            if ti.is_output_param(p):
                mark(ti, need, "partial", p.type)
                mark(ti, need, "enc", p.type)
            elif p.type == "VkAllocationCallbacks":
                continue  # never crosses the wire (the guest sends NULL)
            elif p.const or not p.ptr:
                mark(ti, need, "full", p.type)
    return need


class Plan:
    def __init__(self, ti, reg, commands, manual):
        self.commands = commands  # [ProtocolCommand], by value; one per value
        self.manual = manual
        for c in commands:
            c.how = serving_how(ti, c, manual)
        self.need = struct_needs(ti, commands)
        self.structs = sorted(self.need["full"] | self.need["partial"] | self.need["enc"])
        self.serving = command_serving(ti, reg, commands, manual)

    def served(self, how):
        return [c for c in self.commands if c.how == how]


def serving_text(ti, c, manual):
    """('how', 'where') for 'venusd commands'."""
    if c.how == "skip":
        return "refused (not decodable)", c.skip
    if c.how == "hand":
        how = "transport" if c.name.endswith("MESA") else "hand-written"
        return how, manual.at[c.name].where
    if c.how == "create":
        return "generated create", "-"
    if c.how == "destroy":
        return "generated destroy", "-"
    if c.how == "pass":
        return "pass-through", "-"
    if c.name in manual.listed:
        where = "listed in protocol/manual_commands.txt, no VD_HANDLER"
    elif c.name.endswith("MESA"):
        where = "transport command without a VD_HANDLER"
    elif makes_or_frees_objects(ti, c.name, c.cmd):
        where = "creates or frees objects: needs a VD_HANDLER"
    else:
        where = "no dispatchable handle: needs a VD_HANDLER"
    return "refused (not served)", where


def command_serving(ti, reg, commands, manual):
    """How each command is served: [(value, name, how, where, alias_of)], sorted by value,
    the command's own name before its aliases."""
    info = {c.value: serving_text(ti, c, manual) for c in commands}
    primary = {c.value: c.name for c in commands}
    order = {n: i for i, (v, n) in enumerate(reg.command_types)}
    out = []
    for v, n in sorted(reg.command_types,
                       key=lambda vn: (vn[0], vn[1] != primary[vn[0]], order[vn[1]])):
        how, where = info[v]
        out.append((v, n, how, where, None if n == primary[v] else primary[v]))
    return out
