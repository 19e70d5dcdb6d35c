"""What the emitters need to know about a vk.xml type: its kind, its wire size, its C name,
the C expression that counts an array, and the least number of bytes it takes on the wire.

Pure queries over the Registry (gen/registry.py); nothing here writes C.
"""

import re

from registry import C_SCALARS


# Pointer-to-pointer parameters the Venus protocol carries, and the count of each inner
# array, which vk.xml does not give (its len names only the outer count): Mesa's and
# virglrenderer's venus-protocol coders send the outer count, then for each element the
# inner count (u64) and the elements, with the inner counts below ("i": the outer index).
# A pointer-to-pointer parameter not listed here cannot be carried (plan.py).
INNER_LENS = {
    ("vkCmdBuildAccelerationStructuresKHR", "ppBuildRangeInfos"): "pInfos[i].geometryCount",
    ("vkCmdBuildAccelerationStructuresIndirectKHR", "ppMaxPrimitiveCounts"):
        "pInfos[i].geometryCount",
}


# Untyped pointers without a length that the Venus protocol carries as a NULL marker only
# (u64 0; virglrenderer fails the command on any other): the host pointer of the
# VkDeviceOrHostAddress(Const)KHR unions, and a capture/replay handle.
NULL_ONLY = {
    ("VkDeviceOrHostAddressKHR", "hostAddress"),
    ("VkDeviceOrHostAddressConstKHR", "hostAddress"),
    ("VkRayTracingShaderGroupCreateInfoKHR", "pShaderGroupCaptureReplayHandle"),
}


class GenError(Exception):
    """vk.xml asks for something the wire rules cannot express (e.g. a bitfield member)."""


def pad4(n):
    return (n + 3) & ~3


class TypeInfo:
    def __init__(self, reg):
        self.reg = reg

    # -- classification ---------------------------------------------------------------
    def kind(self, tname):
        """'scalar', 'void', 'handle', 'struct', 'union', 'funcpointer' or 'unknown'."""
        if tname in C_SCALARS:
            return "scalar"
        if tname == "void":
            return "void"
        t = self.reg.resolve(tname)
        if t is None:
            return "unknown"
        if t.category in ("enum", "basetype", "bitmask"):
            return "scalar"
        if t.category in ("handle", "struct", "union", "funcpointer"):
            return t.category
        return "unknown"

    def wire(self, tname):
        """Wire size of a scalar (before padding)."""
        if tname in C_SCALARS:
            return C_SCALARS[tname]
        t = self.reg.resolve(tname)
        if t.category == "enum":
            return 4
        if t.category == "bitmask":
            return 8 if t.typedef_of == "VkFlags64" else 4
        if t.category == "basetype":
            return C_SCALARS.get(t.typedef_of, 4)
        raise KeyError(tname)

    def struct(self, tname):
        return self.reg.resolve(tname)

    def is_struct(self, name):
        t = self.reg.types.get(name)
        return t is not None and t.category == "struct"

    def cname(self, tname):
        """C type name to use (aliases resolve to their target)."""
        t = self.reg.types.get(tname)
        if t is not None and t.alias:
            return self.reg.resolve(tname).name
        return tname

    def objtype(self, tname):
        return self.reg.resolve(tname).objtypeenum

    def handle_cast(self, tname):
        return "(%s)(uintptr_t)" % self.cname(tname)

    def elem_ctype(self, m):
        return "uint8_t" if self.kind(m.type) == "void" else self.cname(m.type)

    def const_value(self, dim):
        if dim.isdigit():
            return int(dim)
        return int(self.reg.constants.get(dim).strip("()U"), 0)

    def fixed_count(self, m):
        """Number of elements of a fixed-size array member (all dimensions)."""
        n = 1
        for dim in m.array:
            n *= self.const_value(dim)
        return n

    @staticmethod
    def is_string(m):
        return m.type == "char" and bool(m.lens) and m.lens[-1] == "null-terminated"

    @staticmethod
    def is_output_param(p):
        return p.ptr == 1 and not p.const

    @staticmethod
    def counts_an_array(m, siblings):
        """Whether a sibling's len names m (m is the element count of that array)."""
        return any(s is not m and s.len and s.lens[0] == m.name for s in siblings)

    def is_count_member(self, t, m):
        # Only pointer arrays make their count an input; fixed arrays with a len
        # (memoryTypes[] / memoryTypeCount) are always sent whole.
        return any(o is not m and o.len and o.lens[0] == m.name and o.ptr for o in t.members)

    def union_tag(self, t, i, m):
        """The wire tag of member i of union t: the value of its first selector (vk.xml
        "selection"; VkAccelerationStructureGeometryDataKHR: the VkGeometryTypeKHR) where
        every member has one, else the member's index (VkClearColorValue,
        VkDeviceOrHostAddressKHR: 0 the device address, 1 the host pointer)."""
        if all(x.selection for x in t.members):
            return self.reg.enum_values[m.selection.split(",")[0]]
        return i

    def inner_len(self, owner, m, scope):
        """The C count of inner array i of pointer-to-pointer m (None: not carried)."""
        if len(m.lens) > 1 and m.lens[1].isdigit():
            return m.lens[1]  # VkAccelerationStructureBuildGeometryInfoKHR.ppGeometries: 1
        expr = INNER_LENS.get((owner, m.name))
        if expr is None:
            return None
        arr = expr.split("[")[0]
        return "(%s%s ? %s%s : 0)" % (scope, arr, scope, expr)

    # -- expressions ------------------------------------------------------------------
    def len_expr(self, m, scope, siblings):
        """C expression for the element count of member/param m (None: a string)."""
        expr = m.altlen if m.altlen else m.lens[0]
        if expr == "null-terminated":
            return None
        names = {s.name: s for s in siblings}

        def repl(mo):
            tok = mo.group(0)
            if tok not in names:
                return tok
            s = names[tok]
            if s.ptr and self.kind(s.type) == "scalar":
                return "(%s%s ? *%s%s : 0)" % (scope, tok, scope, tok)
            return scope + tok

        had_arrow = "->" in expr
        expr = expr.replace("->", ".ARROW.")
        expr = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", repl, expr)
        expr = expr.replace(".ARROW.", "->")
        # pAllocateInfo->descriptorSetCount: guard the pointer
        mo = re.match(r"^(\S+)->(\w+)$", expr)
        if mo and had_arrow:
            expr = "(%s ? %s->%s : 0)" % (mo.group(1), mo.group(1), mo.group(2))
        return expr

    # -- least wire size (for "the count fits the remaining bytes" checks) -------------
    def min_wire(self, tname, mode, depth=0):
        k = self.kind(tname)
        if k == "scalar":
            return pad4(self.wire(tname)) if mode != "partial" else 0
        if k == "handle":
            return 8
        if k == "union":
            return 4 if depth <= 6 else 0
        if k == "struct":
            if depth > 6:
                return 0
            t = self.struct(tname)
            return sum(self.member_min_wire(t, m, mode, depth) for m in t.members)
        return 0

    def member_min_wire(self, t, m, mode, depth):
        if m.name == "sType":
            return 4
        if m.name == "pNext":
            return 8
        k = self.kind(m.type)
        if mode == "partial":
            if m.array:
                return 8 if k in ("struct", "union", "handle") else 0
            if m.ptr or k == "handle":
                return 8
            if k in ("struct", "union"):
                return self.min_wire(m.type, mode, depth + 1)
            return 4 if self.is_count_member(t, m) else 0
        if m.array:
            n = self.fixed_count(m)
            if k == "scalar" and self.wire(m.type) < 4:
                return 8 + pad4(n * self.wire(m.type))
            return 8 + n * self.min_wire(m.type, mode, depth + 1)
        if m.ptr or k == "handle":
            return 8
        if k in ("struct", "union"):
            return self.min_wire(m.type, mode, depth + 1)
        if k == "scalar":
            return pad4(self.wire(m.type))
        return 0
