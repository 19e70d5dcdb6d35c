"""Reads vk.xml plus venusd's protocol tables into a small model of the Venus protocol.

This module only reads and selects: types (with their members), commands and aliases,
constants and enum values, and which types the protocol requires.  What travels how on
the wire is typeinfo.py's; what gets generated is plan.py's (gen/README.md).

The protocol of Mesa 25.0.7 is: Vulkan core 1.0-1.3, the 118 extensions listed in
protocol/venus_extensions_mesa25.tsv, and the MESA transport additions described in
protocol/venus_mesa.xml.  Command type values come from protocol/venus_command_types.tsv.
"""

import re
import xml.etree.ElementTree as ET

CORE_VERSIONS = ("VK_VERSION_1_0", "VK_VERSION_1_1", "VK_VERSION_1_2", "VK_VERSION_1_3")

# The protocols venusd can be generated for (venus_gen.py --protocol): the extension and
# command type tables, the Vulkan core versions and the highest VK_MESA_venus_protocol spec
# (venus_mesa.xml's venusspec attribute) of each.
PROTOCOLS = {
    "mesa25": {"extensions": ("venus_extensions_mesa25.tsv",),
               "command_types": ("venus_command_types.tsv",),
               "core": CORE_VERSIONS, "mesa_spec": 2},
    "mesa26": {"extensions": ("venus_extensions_mesa26.tsv",),
               "command_types": ("venus_command_types.tsv", "venus_command_types_mesa26.tsv"),
               "core": CORE_VERSIONS + ("VK_VERSION_1_4",), "mesa_spec": 3,
               "manual": ("manual_commands_mesa26.txt",)},
}

# Wire sizes of the C scalar types (Venus pads everything to 4 bytes).
C_SCALARS = {
    "uint8_t": 1, "int8_t": 1, "uint16_t": 2, "int16_t": 2,
    "uint32_t": 4, "int32_t": 4, "float": 4,
    "uint64_t": 8, "int64_t": 8, "double": 8, "size_t": 8,
    "char": 1, "int": 4,
}


def _api_ok(el):
    api = el.get("api")
    return api is None or "vulkan" in api.split(",")


class Member:
    """A struct member or command parameter."""

    def __init__(self, el):
        self.name = el.find("name").text
        self.type = el.find("type").text
        text = "".join(el.itertext())
        decl = text.split("<comment>")[0]
        # Strip the comment text if ElementTree merged it.
        c = el.find("comment")
        if c is not None and c.text:
            decl = decl.replace(c.text, "")
        before_name = decl.split(self.name)[0]
        self.const = before_name.strip().startswith("const")
        self.ptr = before_name.count("*")
        self.const_ptr_inner = "* const*" in before_name or "*const*" in before_name
        self.array = []  # fixed array dimensions (ints or enum names)
        after = decl.split(self.name, 1)[1]
        for dim in re.findall(r"\[([^\]]+)\]", after):
            self.array.append(dim.strip())
        e = el.find("enum")
        if e is not None and not self.array:
            self.array.append(e.text)
        self.len = el.get("len")
        self.altlen = el.get("altlen")
        opt = el.get("optional")
        self.optional = [o == "true" for o in opt.split(",")] if opt else [False]
        self.noautovalidity = el.get("noautovalidity") == "true"
        self.values = el.get("values")
        # a union member's selector value(s) (vk.xml "selection"): the Venus wire tag
        self.selection = el.get("selection")
        self.bitfield = ":" in after.split("[")[0]

    @property
    def lens(self):
        if not self.len:
            return []
        return self.len.split(",")

    def decl(self, name=None):
        """C declaration of this member as a struct field (for command argument structs)."""
        name = name or self.name
        t = ("const " if self.const else "") + self.type
        stars = "*" * self.ptr
        if self.ptr == 2 and self.const_ptr_inner:
            stars = "* const*"
        dims = "".join("[%s]" % d for d in self.array)
        return "%s%s %s%s" % (t, stars, name, dims)


class Type:
    def __init__(self, el, category):
        self.name = el.get("name")
        self.category = category
        self.alias = el.get("alias")
        self.members = []
        self.structextends = []
        self.returnedonly = el.get("returnedonly") == "true"
        if category in ("struct", "union") and not self.alias:
            self.members = [Member(m) for m in el.findall("member") if _api_ok(m)]
            se = el.get("structextends")
            self.structextends = se.split(",") if se else []
        self.typedef_of = None
        if category in ("basetype", "bitmask"):
            t = el.find("type")
            self.typedef_of = t.text if t is not None else None
            if el.find("name") is not None:
                self.name = el.find("name").text
        if category == "handle" and not self.alias:
            self.name = el.find("name").text
            self.dispatchable = el.find("type").text == "VK_DEFINE_HANDLE"
            self.objtypeenum = el.get("objtypeenum")
        if category == "funcpointer":
            # vk.xml >= 1.4.3xx nests the name in <proto>; older ones have it directly.
            n = el.find("name")
            self.name = (n if n is not None else el.find("proto/name")).text

    @property
    def stype(self):
        for m in self.members:
            if m.name == "sType" and m.values:
                return m.values
        return None

    @property
    def has_pnext(self):
        return any(m.name == "pNext" for m in self.members)


class Command:
    def __init__(self, el):
        proto = el.find("proto")
        self.name = proto.find("name").text
        self.ret = proto.find("type").text
        self.params = [Member(p) for p in el.findall("param") if _api_ok(p)]


class Registry:
    def __init__(self, vk_xml, mesa_xml, cmd_tsv, ext_tsv, core=CORE_VERSIONS, mesa_spec=2):
        """cmd_tsv: one path or a list of them (read in order); core: the Vulkan core
        versions of the protocol; mesa_spec: the VK_MESA_venus_protocol spec it speaks."""
        self.core_versions = tuple(core)
        self.mesa_spec = mesa_spec
        self.command_spec = {}  # MESA command -> the venus_protocol spec that adds it
        self.level0_command_count = 0  # command type values of the first table (Mesa 25.0.7's)
        self.types = {}
        self.commands = {}
        self.command_aliases = {}
        self.constants = {}
        self.enum_values = {}  # enumerant name -> int (for sType values)
        self.extensions = {}  # name -> element
        self.features = {}
        self.venus_enums = []  # enumerants defined by venus_mesa.xml
        self._load(ET.parse(vk_xml).getroot(), venus=False)
        self._load(ET.parse(mesa_xml).getroot(), venus=True)
        self.command_types = []  # (value, name)
        for path in [cmd_tsv] if isinstance(cmd_tsv, str) else cmd_tsv:
            with open(path) as f:
                next(f)
                for line in f:
                    row = line.rstrip("\n").split("\t")
                    if len(row) > 2 and row[2].isdigit() and int(row[2]) > mesa_spec:
                        continue  # a MESA command of a later venus_protocol spec
                    self.command_types.append((int(row[0]), row[1]))
                    if path == (cmd_tsv if isinstance(cmd_tsv, str) else cmd_tsv[0]):
                        self.level0_command_count = max(self.level0_command_count,
                                                        int(row[0]) + 1)
        self.protocol_extensions = []  # (number, name, spec cap)
        self.unserved_extensions = []  # (number, name, why venusd does not serve it)
        self.extension_level = {}  # name -> 0 (Mesa 25.0.7's protocol) or 1 (the newest)
        self.newer_types = set()  # structs Mesa 25.0.7's protocol lacks (venus_gen.py sets it)
        with open(ext_tsv) as f:
            next(f)
            for line in f:
                row = line.rstrip("\n").split("\t")
                if len(row) > 4 and row[4] != "served":
                    self.unserved_extensions.append((int(row[0]), row[1], row[4]))
                    continue  # in the protocol, but venusd does not decode it (the reason)
                num, n, spec = row[:3]
                self.protocol_extensions.append((int(num), n, int(spec)))
                # the protocol level that brought it: 0 Mesa 25.0.7's, 1 the newest
                self.extension_level[n] = 1 if len(row) > 3 and row[3] == "mesa26" else 0
        self._select()

    # -- loading -----------------------------------------------------------------------
    def _load(self, root, venus):
        self._load_types(root, venus)
        self._load_enums(root, venus)
        self._load_commands(root)
        self._load_features_and_extensions(root)

    def _spec_ok(self, el):
        """Whether a venus_mesa.xml element belongs to the protocol's MESA spec."""
        return int(el.get("venusspec") or 1) <= self.mesa_spec

    def _load_types(self, root, venus):
        types = root.find("types")
        for t in (types.findall("type") if types is not None else []):
            if not _api_ok(t) or t.get("category") is None or not self._spec_ok(t):
                continue
            ty = Type(t, t.get("category"))
            ty.venus = venus
            if ty.name:
                self.types[ty.name] = ty

    def _load_enums(self, root, venus):
        for enums in root.findall("enums"):
            for e in enums.findall("enum"):
                if not _api_ok(e) or not self._spec_ok(e):
                    continue
                if venus:
                    self.venus_enums.append(e.get("name"))
                if e.get("value") is not None:
                    self.constants[e.get("name")] = e.get("value")
                    try:
                        self.enum_values[e.get("name")] = int(e.get("value"), 0)
                    except ValueError:
                        pass
                elif e.get("alias"):
                    self.constants[e.get("name")] = self.constants.get(e.get("alias"))

    def _load_commands(self, root):
        cmds = root.find("commands")
        for c in (cmds.findall("command") if cmds is not None else []):
            if not _api_ok(c) or not self._spec_ok(c):
                continue
            if c.get("venusspec"):
                self.command_spec[c.find("proto/name").text] = int(c.get("venusspec"))
            if c.get("alias"):
                self.command_aliases[c.get("name")] = c.get("alias")
                continue
            cmd = Command(c)
            self.commands[cmd.name] = cmd

    def _load_features_and_extensions(self, root):
        """The features and extensions, and the enum values (sTypes etc.) they add."""
        for f in root.findall("feature"):
            if _api_ok(f):
                self.features[f.get("name")] = f
        exts = root.find("extensions")
        for e in (exts.findall("extension") if exts is not None else []):
            self.extensions[e.get("name")] = e
            for req in e.findall("require"):
                for en in req.findall("enum"):
                    self._ext_enum(en, int(e.get("number")))
        for f in root.findall("feature"):
            if not _api_ok(f):
                continue
            for req in f.findall("require"):
                for en in req.findall("enum"):
                    ext = en.get("extnumber")
                    self._ext_enum(en, int(ext) if ext else 0)

    def _ext_enum(self, en, extnum):
        name = en.get("name")
        if en.get("offset") is not None:
            num = int(en.get("extnumber") or extnum)
            v = 1000000000 + (num - 1) * 1000 + int(en.get("offset"))
            if en.get("dir") == "-":
                v = -v
            self.enum_values[name] = v
        elif en.get("value") is not None:
            try:
                self.enum_values[name] = int(en.get("value"), 0)
            except ValueError:
                pass
        elif en.get("bitpos") is not None:
            self.enum_values[name] = 1 << int(en.get("bitpos"))

    # -- protocol selection ------------------------------------------------------------
    def _depends_ok(self, expr, enabled):
        if not expr:
            return True
        # Grammar: ',' = or, '+' = and, parentheses.
        toks = re.findall(r"[A-Za-z0-9_:]+|[(),+]", expr)
        pos = [0]

        def parse_or():
            v = parse_and()
            while pos[0] < len(toks) and toks[pos[0]] == ",":
                pos[0] += 1
                v = parse_and() or v
            return v

        def parse_and():
            v = parse_atom()
            while pos[0] < len(toks) and toks[pos[0]] == "+":
                pos[0] += 1
                v = parse_atom() and v
            return v

        def parse_atom():
            t = toks[pos[0]]
            pos[0] += 1
            if t == "(":
                v = parse_or()
                pos[0] += 1
                return v
            return t.split("::")[0] in enabled

        return parse_or()

    def _select(self):
        ext_names = {n for _, n, _ in self.protocol_extensions}
        enabled = set(self.core_features()) | ext_names
        self.required_types = set()
        self.required_commands = set()

        def take(req):
            if not _api_ok(req):
                return
            if not self._depends_ok(req.get("depends"), enabled):
                return
            for t in req.findall("type"):
                self.required_types.add(t.get("name"))
            for c in req.findall("command"):
                self.required_commands.add(c.get("name"))

        for v in self.core_features():
            for req in self.features[v].findall("require"):
                take(req)
        for n in ext_names:
            e = self.extensions.get(n)
            if e is None:
                continue  # the two Venus extensions: described by venus_mesa.xml
            for req in e.findall("require"):
                take(req)
        # Commands that only extensions venusd does not serve bring: refused at run time.
        self.unserved_commands = set()
        for _, n, _ in self.unserved_extensions:
            for req in self.extensions[n].findall("require"):
                for c in req.findall("command"):
                    if c.get("name") not in self.required_commands:
                        self.unserved_commands.add(c.get("name"))
        # MESA types are all part of the protocol.
        for t in self.types.values():
            if t.venus:
                self.required_types.add(t.name)

    def core_features(self):
        """CORE_VERSIONS and the features they depend on: vk.xml >= 1.4.3xx splits each core
        version into internal VK_BASE/COMPUTE/GRAPHICS_VERSION_1_x features named by
        VK_VERSION_1_x's depends; older ones have none."""
        out, todo = [], list(self.core_versions)
        while todo:
            v = todo.pop(0)
            if v in out or v not in self.features:
                continue
            out.append(v)
            todo += re.findall(r"VK_[A-Z]*_?VERSION_\d+_\d+", self.features[v].get("depends") or "")
        return out

    # -- helpers ------------------------------------------------------------------------
    def resolve(self, name):
        t = self.types.get(name)
        seen = 0
        while t is not None and t.alias:
            t = self.types.get(t.alias)
            seen += 1
            if seen > 8:
                break
        return t

    def command(self, name):
        n = name
        while n in self.command_aliases:
            n = self.command_aliases[n]
        return self.commands.get(n)

    def is_required(self, name):
        """Whether a type is part of the protocol under this name or one of its aliases
        (a struct promoted to Vulkan 1.4 is required through its EXT/KHR alias)."""
        if not hasattr(self, "_alias_names"):
            self._alias_names = {}
            for t in self.types.values():
                if t.alias:
                    target = self.resolve(t.name)
                    if target is not None:
                        self._alias_names.setdefault(target.name, set()).add(t.name)
        t = self.resolve(name)
        if t is None:
            return False
        names = {t.name, name} | self._alias_names.get(t.name, set())
        return any(n in self.required_types for n in names)

    def extenders(self, struct_name):
        """Protocol structs that may appear in the pNext chain of struct_name."""
        out = []
        for t in self.types.values():
            if t.alias or t.category != "struct":
                continue
            if struct_name in t.structextends and self.is_required(t.name):
                out.append(t)
        out.sort(key=lambda t: t.name)
        return out
