"""One writer per output file: each returns the file's whole text from the registry
(gen/registry.py), the type facts (gen/typeinfo.py) and the plan (gen/plan.py).  The
file's fixed shape is its template, gen/templates/<file>.in."""

import emit_commands
import emit_decode
import emit_encode
from templates import lines, render


# -- vn_protocol.h -----------------------------------------------------------------------
def mesa_enums(reg):
    out = []
    for n in reg.venus_enums:
        v = reg.enum_values[n]
        if n.startswith("VK_STRUCTURE_TYPE_"):
            out.append("#define %s ((VkStructureType)%d)" % (n, v))
        else:
            out.append("#define %s 0x%xu" % (n, v))
    return lines(out)


def mesa_structs(reg):
    """The MESA structs in file order (dependencies come first in venus_mesa.xml)."""
    out = []
    for t in reg.types.values():
        if t.venus and t.category == "struct":
            out += ["typedef struct %s {" % t.name]
            out += ["   %s;" % m.decl() for m in t.members]
            out += ["} %s;" % t.name, ""]
    return lines(out)


def protocol_h(reg, ti, plan):
    carried = [c for c in plan.commands if not c.skip]
    flags = sorted(t.name for t in reg.types.values() if t.venus and t.category == "bitmask")
    return render(
        "vn_protocol.h.in",
        mesa_enums=mesa_enums(reg),
        mesa_flags=lines("typedef VkFlags %s;" % n for n in flags),
        mesa_structs=mesa_structs(reg),
        command_type_count=max(c.value for c in plan.commands) + 1,
        command_values=lines("#define VN_CMD_%s %d" % (c.name, c.value) for c in plan.commands),
        args_structs="".join(emit_commands.args_struct(ti, c) for c in carried),
        extension_count=len(reg.protocol_extensions),
        level0_command_count=reg.level0_command_count,
        mesa_spec=reg.mesa_spec,
        handler_decls=lines("VD_HANDLER(%s);" % n
                            for n in sorted(c.name for c in plan.served("hand"))))


# -- vn_protocol.c -----------------------------------------------------------------------
def struct_coders(ti, plan):
    """Per struct (sorted): full decoder, partial decoder, reply encoder, as needed."""
    out = ""
    for name in plan.structs:
        t = ti.struct(name)
        out += emit_decode.decoders(ti, t, plan.need) + emit_encode.encoder(ti, t, plan.need)
    return out


def chain_coders(ti, plan):
    """pNext chain decoders (full, then partial) and encoders of the structs with pNext."""
    def roots(mode):
        return sorted(n for n in plan.need[mode] if ti.struct(n).has_pnext)
    return ("".join(emit_decode.pnext_decoder(ti, r, "full") for r in roots("full"))
            + "".join(emit_decode.pnext_decoder(ti, r, "partial") for r in roots("partial"))
            + "".join(emit_encode.pnext_encoder(ti, r) for r in roots("enc")))


def stype_cases(reg):
    """vn_stype_name's cases: each protocol struct's sType value (first name wins)."""
    out, seen = [], set()
    for t in sorted(reg.types.values(), key=lambda t: t.name):
        if t.category != "struct" or t.alias or not t.stype or not reg.is_required(t.name):
            continue
        v = reg.enum_values.get(t.stype)
        if v is None or v in seen:
            continue
        seen.add(v)
        out.append('   case %d: return "%s";' % (v, t.name))
    return lines(out)


def object_type_cases(reg):
    """vn_object_type_name's cases: every handle type of the protocol, by VkObjectType."""
    handles = [t for t in reg.types.values()
               if t.category == "handle" and not t.alias and t.objtypeenum
               and reg.is_required(t.name)]
    handles.sort(key=lambda t: (reg.enum_values.get(t.objtypeenum, 1 << 62), t.name))
    return lines('   case %s: return "%s";' % (t.objtypeenum, t.name) for t in handles)


def protocol_c(reg, ti, plan):
    carried = [c for c in plan.commands if not c.skip]
    return render(
        "vn_protocol.c.in",
        prototypes=emit_decode.prototypes(ti, plan.need, plan.structs),
        structs=struct_coders(ti, plan),
        chains=chain_coders(ti, plan),
        commands="".join(emit_commands.command_decoder(ti, c) + emit_commands.command_reply(ti, c)
                         for c in carried),
        handlers=emit_commands.generated_handlers(ti, plan),
        stype_cases=stype_cases(reg),
        object_type_cases=object_type_cases(reg),
        wrappers="".join(emit_commands.wrappers(c) for c in carried),
        extensions=lines('   { %d, "%s", %d, %d },' % (e + (reg.extension_level[e[1]],))
                         for e in reg.protocol_extensions),
        mesa_spec_cases=lines("   case %d: return %d; /* %s */" % (v, reg.command_spec[n], n)
                              for v, n in sorted(reg.command_types) if n in reg.command_spec),
        table="".join(emit_commands.table_entry(c) for c in plan.commands))


# -- vk_dispatch.h / vk_dispatch.c -------------------------------------------------------
# Host-only entry points venusd needs beyond the protocol's commands.
EXTRA_HOST = [
    ("vkGetMemoryHostPointerPropertiesEXT", "device"),
    ("vkGetPhysicalDeviceProperties2", "instance"),
    ("vkGetPhysicalDeviceFeatures2", "instance"),
    ("vkEnumerateInstanceExtensionProperties", "global"),
]


def host_commands(reg, plan):
    """[(member, vk.xml name, aliases, level)]: the host entry points of the dispatch table;
    level is 'global', 'instance' or 'device' (which loader resolves it)."""
    aliases_of = {}
    for a, target in reg.command_aliases.items():
        aliases_of.setdefault(target, []).append(a)
    items = [(c.name, c.cmd) for c in plan.commands if not c.name.endswith("MESA")]
    items += [(n, reg.command(n)) for n, _ in EXTRA_HOST]
    out, seen = [], set()
    for n, cmd in items:
        if cmd is None or cmd.name in seen or n == "vkGetInstanceProcAddr":
            continue
        seen.add(cmd.name)
        first = cmd.params[0].type if cmd.params else None
        if n == "vkGetDeviceProcAddr":
            level = "instance"  # resolved through the instance, used to fill device tables
        elif first in ("VkDevice", "VkQueue", "VkCommandBuffer"):
            level = "device"
        elif first in ("VkInstance", "VkPhysicalDevice"):
            level = "instance"
        else:
            level = "global"
        # The member is named after the protocol's name (without "vk").
        out.append((n if n.startswith("vk") else cmd.name, cmd.name,
                    sorted(aliases_of.get(cmd.name, [])), level))
    return out


def dispatch_h(reg, ti, plan):
    return render("vk_dispatch.h.in", members=lines(
        "   PFN_%s %s;" % (real, n[2:]) for n, real, _, _ in host_commands(reg, plan)))


def loads(host, gpa, obj, device_level):
    """Resolve each entry by its own name, then by its aliases until one is found."""
    out = []
    for n, real, aliases, level in host:
        if (level == "device") != device_level:
            continue
        out.append('   t->%s = (PFN_%s)%s(%s, "%s");' % (n[2:], real, gpa, obj, real))
        out += ['   if (!t->%s) t->%s = (PFN_%s)%s(%s, "%s");' % (
            n[2:], n[2:], real, gpa, obj, a) for a in aliases if a != real]
    return lines(out)


def dispatch_c(reg, ti, plan):
    host = host_commands(reg, plan)
    return render("vk_dispatch.c.in",
                  instance_loads=loads(host, "gipa", "instance", False),
                  device_loads=loads(host, "gdpa", "device", True))


# -- vn_command_table.c ------------------------------------------------------------------
def c_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def command_table_c(reg, ti, plan):
    entries = lines("   { %d, %s, %s, %s, %s }," % (
        v, c_str(n), c_str(how), c_str(where), c_str(alias) if alias else "NULL")
        for v, n, how, where, alias in plan.serving)
    return render("vn_command_table.c.in", entries=entries, count=len(plan.serving))


OUTPUTS = {
    "vn_protocol.h": protocol_h,
    "vn_protocol.c": protocol_c,
    "vk_dispatch.h": dispatch_h,
    "vk_dispatch.c": dispatch_c,
    "vn_command_table.c": command_table_c,
}
