#!/usr/bin/env python3
"""venusd protocol generator.

Reads vk.xml and the tables in protocol/ and writes, into the build directory:
  vn_protocol.h    MESA struct definitions, command type values, per-command argument
                   structs, the command table type, handler prototypes
  vn_protocol.c    decoders (full and "partial") and reply encoders for every struct
                   reachable from the protocol's commands, decoders and reply encoders for
                   every command, generated pass-through handlers, the command table
  vk_dispatch.h/.c the host dispatch table and its loader

Wire rules (see docs/protocol.md): little-endian, every item padded to 4 bytes, handles are
u64 object ids, pointers are a u64 count followed by the elements, pNext chains are nested
front to back, output structs arrive "partial" (only sType/pNext, handles, counts that size
an array, and the arrays themselves).

Hand-written handlers are found by scanning every .c file under src/ (--src-dir) for
VD_HANDLER(vkName).  The generator fails, naming file:line, when a handler names no command
of the protocol, when a command has two handlers, when a file with a handler is not one of
the core library's compiled sources (--compiled), and when a command that
protocol/manual_commands.txt lists under [hand-written] has no handler.  It also writes
vn_command_table.c: how each command of the protocol is served ('venusd commands').
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry import C_SCALARS, Registry  # noqa: E402


def pad4(n):
    return (n + 3) & ~3


class Gen:
    def __init__(self, reg, manual_handlers, not_passthrough):
        self.reg = reg
        self.manual = manual_handlers
        self.not_passthrough = not_passthrough
        self.need = {"full": set(), "partial": set(), "enc": set()}
        self.out_h = []
        self.out_c = []
        self.errors = []

    # -- type classification ----------------------------------------------------------
    def kind(self, tname):
        if tname in C_SCALARS:
            return "scalar"
        if tname == "void":
            return "void"
        t = self.reg.resolve(tname)
        if t is None:
            return "unknown"
        if t.category in ("enum",):
            return "scalar"
        if t.category in ("basetype", "bitmask"):
            return "scalar"
        if t.category == "handle":
            return "handle"
        if t.category in ("struct", "union"):
            return t.category
        if t.category == "funcpointer":
            return "funcpointer"
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
            if t.typedef_of in C_SCALARS:
                return C_SCALARS[t.typedef_of]
            return 4
        raise KeyError(tname)

    def struct(self, tname):
        return self.reg.resolve(tname)

    def cname(self, tname):
        """C type name to use (aliases resolve to their target)."""
        t = self.reg.types.get(tname)
        if t is not None and t.alias:
            return self.reg.resolve(tname).name
        return tname

    def objtype(self, tname):
        t = self.reg.resolve(tname)
        return t.objtypeenum

    def const_value(self, dim):
        if dim.isdigit():
            return int(dim)
        v = self.reg.constants.get(dim)
        return int(v.strip("()U"), 0)

    # -- reachability -----------------------------------------------------------------
    def mark(self, mode, tname):
        t = self.struct(tname)
        if t is None or t.category not in ("struct", "union"):
            return
        if t.name in self.need[mode]:
            return
        self.need[mode].add(t.name)
        for m in t.members:
            if m.name in ("sType", "pNext"):
                continue
            k = self.kind(m.type)
            if k in ("struct", "union"):
                self.mark(mode, m.type)
        if t.has_pnext:
            for e in self.reg.extenders(t.name):
                self.mark(mode, e.name)

    # -- expressions --------------------------------------------------------------------
    def len_expr(self, m, scope, siblings):
        """C expression for the element count of member/param m."""
        if m.altlen:
            expr = m.altlen
        else:
            expr = m.lens[0]
        if expr == "null-terminated":
            return None

        names = {s.name: s for s in siblings}

        def repl(mo):
            tok = mo.group(0)
            if tok in names:
                s = names[tok]
                if s.ptr and self.kind(s.type) == "scalar":
                    return "(%s%s ? *%s%s : 0)" % (scope, tok, scope, tok)
                return scope + tok
            return tok

        had_arrow = "->" in expr
        expr = expr.replace("->", ".ARROW.")
        expr = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", repl, expr)
        expr = expr.replace(".ARROW.", "->")
        # pAllocateInfo->descriptorSetCount: guard the pointer
        mo = re.match(r"^(\S+)->(\w+)$", expr)
        if mo and had_arrow:
            expr = "(%s ? %s->%s : 0)" % (mo.group(1), mo.group(1), mo.group(2))
        return expr

    def len_source(self, m, siblings):
        """The sibling member that gives m's count, if it is a plain member reference."""
        if m.altlen or not m.len:
            return None
        l0 = m.lens[0]
        for s in siblings:
            if s.name == l0:
                return s
        return None

    # -- min wire size (for "count fits the remaining bytes" checks) --------------------
    def min_wire(self, tname, mode, depth=0):
        k = self.kind(tname)
        if k == "scalar":
            return pad4(self.wire(tname)) if mode != "partial" else 0
        if k == "handle":
            return 8 if mode != "partial" else 8
        if k in ("struct", "union"):
            if depth > 6:
                return 0
            t = self.struct(tname)
            if k == "union":
                return 4
            total = 0
            for m in t.members:
                total += self.member_min_wire(t, m, mode, depth)
            return total
        return 0

    def member_min_wire(self, t, m, mode, depth):
        if m.name == "sType":
            return 4
        if m.name == "pNext":
            return 8
        k = self.kind(m.type)
        if mode == "partial":
            if m.array:
                if k in ("struct", "union", "handle"):
                    return 8
                return 0
            if m.ptr:
                return 8
            if k == "handle":
                return 8
            if k in ("struct", "union"):
                return self.min_wire(m.type, mode, depth + 1)
            if self.is_count_member(t, m):
                return 4
            return 0
        if m.array:
            n = 1
            for dim in m.array:
                n *= self.const_value(dim)
            if k == "scalar" and self.wire(m.type) < 4:
                return 8 + pad4(n * self.wire(m.type))
            return 8 + n * self.min_wire(m.type, mode, depth + 1)
        if m.ptr:
            return 8
        if k in ("struct", "union"):
            return self.min_wire(m.type, mode, depth + 1)
        if k == "handle":
            return 8
        if k == "scalar":
            return pad4(self.wire(m.type))
        return 0

    def is_count_member(self, t, m):
        for o in t.members:
            if o is m or not o.len:
                continue
            # Only pointer arrays make their count an input; fixed arrays with a len
            # (memoryTypes[] / memoryTypeCount) are always sent whole.
            if o.lens[0] == m.name and o.ptr:
                return True
        return False

    # -- emit helpers -------------------------------------------------------------------
    def field(self, owner, m):
        return '"%s.%s"' % (owner, m.name)

    def emit_scalar_dec(self, o, ind, lv, tname, fld):
        o.append("%svd_dec_take(d, &%s, sizeof(%s), %d, %s);" % (
            ind, lv, lv, pad4(self.wire(tname)), fld))

    def emit_scalar_enc(self, o, ind, rv, tname):
        o.append("%svd_enc_put(e, &%s, sizeof(%s), %d);" % (ind, rv, rv, pad4(self.wire(tname))))

    def handle_cast(self, tname):
        return "(%s)(uintptr_t)" % self.cname(tname)

    def emit_handle_dec(self, o, ind, lv, m, fld, output):
        if output == "raw":
            # Ids inside output structs (e.g. VkPhysicalDeviceGroupProperties): unused
            # slots are 0, so no check here; the handler validates what it uses.
            o.append("%s%s = %svd_dec_u64(d, %s);" % (ind, lv, self.handle_cast(m.type), fld))
        elif output:
            o.append("%s%s = %svd_dec_new_id(d, %s);" % (ind, lv, self.handle_cast(m.type), fld))
        else:
            opt = "true" if (m.optional[0] or m.noautovalidity) else "false"
            o.append("%s%s = %svd_dec_lookup(d, %s, %s, %s);" % (
                ind, lv, self.handle_cast(m.type), self.objtype(m.type), opt, fld))

    # Decodes one element of type tname into lvalue lv (an element of an array or a
    # single value), in `mode` ("full" or "partial").
    def emit_elem_dec(self, o, ind, lv, m, mode, fld, output_handle):
        k = self.kind(m.type)
        if k == "scalar":
            if mode == "full":
                self.emit_scalar_dec(o, ind, lv, m.type, fld)
        elif k == "handle":
            self.emit_handle_dec(o, ind, lv, m, fld, output_handle)
        elif k in ("struct", "union"):
            fn = "vn_dec_" if mode == "full" else "vn_decp_"
            o.append("%s%s%s(d, &%s);" % (ind, fn, self.cname(self.struct(m.type).name), lv))
        else:
            self.errors.append("cannot decode element %s of type %s" % (fld, m.type))

    def emit_elem_enc(self, o, ind, rv, m):
        k = self.kind(m.type)
        if k == "scalar":
            self.emit_scalar_enc(o, ind, rv, m.type)
        elif k == "handle":
            o.append("%svd_enc_u64(e, (uint64_t)(uintptr_t)%s);" % (ind, rv))
        elif k in ("struct", "union"):
            o.append("%svn_enc_%s(e, &%s);" % (ind, self.cname(self.struct(m.type).name), rv))
        else:
            self.errors.append("cannot encode element of type %s" % m.type)

    def elem_ctype(self, m):
        k = self.kind(m.type)
        if k == "void":
            return "uint8_t"
        return self.cname(m.type)

    # Decodes member/param m (a value in `lv_base` + name) in mode.
    #   scope: expression prefix for siblings ("val->" or "a->")
    #   output: True for command params that are outputs (non-const pointers)
    def emit_member_dec(self, o, ind, owner, m, scope, siblings, mode, output=False):
        lv = scope + m.name
        fld = self.field(owner, m)
        k = self.kind(m.type)
        if m.bitfield:
            self.errors.append("bitfield member %s" % fld)
            return
        if m.type == "VkAllocationCallbacks":
            # Host allocation callbacks never cross the wire: the guest sends NULL.
            o.append("%svd_dec_null_pointer(d, %s);" % (ind, fld))
            o.append("%s%s = NULL;" % (ind, lv))
            return
        if k == "funcpointer":
            self.errors.append("function pointer member %s" % fld)
            return

        # Fixed-size arrays: u64 declared size + elements.
        if m.array:
            n = 1
            for dim in m.array:
                n *= self.const_value(dim)
            if mode == "partial" and k not in ("struct", "union", "handle"):
                return
            o.append("%svd_dec_fixed_array(d, %d, %s);" % (ind, n, fld))
            base = "(&%s%s)" % (lv, "[0]" * (len(m.array) - 1)) if len(m.array) > 1 else lv
            if k == "scalar" and self.wire(m.type) < 4:
                o.append("%svd_dec_take(d, %s, %d, %d, %s);" % (
                    ind, base, n * self.wire(m.type), pad4(n * self.wire(m.type)), fld))
            elif k == "scalar":
                o.append("%svd_dec_take(d, %s, sizeof(%s[0]) * %d, %d, %s);" % (
                    ind, base, base, n, n * pad4(self.wire(m.type)), fld))
            else:
                o.append("%sfor (uint32_t i = 0; i < %d && !d->failed; i++) {" % (ind, n))
                self.emit_elem_dec(o, ind + "   ", "%s[i]" % base, m, mode, fld,
                                   output_handle=("raw" if mode == "partial" else False))
                o.append("%s}" % ind)
            return

        # Plain values (no pointer).
        if not m.ptr:
            if k == "scalar":
                if mode == "full" or (mode == "partial" and owner_is_struct(self, owner)
                                      and self.is_count_member(self.struct(owner), m)):
                    self.emit_scalar_dec(o, ind, lv, m.type, fld)
                return
            if k == "handle":
                self.emit_handle_dec(o, ind, lv, m, fld, output=("raw" if mode == "partial" else False))
                return
            if k in ("struct", "union"):
                self.emit_elem_dec(o, ind, lv, m, mode, fld, False)
                return
            self.errors.append("cannot decode %s" % fld)
            return

        # Pointers.
        ltype = self.elem_ctype(m)
        is_string = (m.type == "char" and m.lens and m.lens[-1] == "null-terminated")
        if is_string and m.ptr == 1:
            opt = "true" if m.optional[0] else "false"
            o.append("%s%s = vd_dec_string(d, %s, %s);" % (ind, lv, opt, fld))
            return
        if is_string and m.ptr == 2:
            cnt = self.len_expr(m, scope, siblings)
            o.append("%s%s = (const char *const *)vd_dec_string_array(d, %s, %s);" % (
                ind, lv, cnt, fld))
            return

        cnt = self.len_expr(m, scope, siblings) if m.len else None
        if m.ptr != 1:
            self.errors.append("pointer depth %d at %s" % (m.ptr, fld))
            return

        if cnt is None:
            # A pointer to a single value.
            if k == "void":
                self.errors.append("untyped pointer without length at %s" % fld)
                return
            # Output pointers are required unless vk.xml says otherwise: handlers write
            # through them.
            opt = "true" if (m.optional[0] or mode == "partial") else "false"
            o.append("%sif (vd_dec_pointer(d, %s, %s)) {" % (ind, opt, fld))
            o.append("%s   %s *p_ = vd_dec_alloc(d, sizeof(%s), 1, %s);" % (ind, ltype, ltype, fld))
            o.append("%s   if (p_) {" % ind)
            if output and k == "scalar" and not self.param_is_len(m, siblings):
                pass  # output-only scalar: the marker is all the command carries
            elif output and k == "handle":
                o.append("%s      *p_ = %svd_dec_new_id(d, %s);" % (ind, self.handle_cast(m.type), fld))
            else:
                sub_mode = "partial" if (output or mode == "partial") else "full"
                if k == "scalar" and sub_mode == "partial":
                    self.emit_scalar_dec(o, ind + "      ", "*p_", m.type, fld)
                else:
                    self.emit_elem_dec(o, ind + "      ", "*p_", m, sub_mode, fld, output)
            o.append("%s   }" % ind)
            o.append("%s   %s = p_;" % (ind, lv))
            o.append("%s} else {" % ind)
            o.append("%s   %s = NULL;" % (ind, lv))
            o.append("%s}" % ind)
            return

        # Arrays with a length.
        opt = "true" if (m.optional[0] or m.noautovalidity or mode == "partial"
                         or (len(m.optional) > 1 and m.optional[-1])) else "false"
        sub_mode = "partial" if (output or mode == "partial") else "full"
        if k == "void" or (k == "scalar" and self.wire(m.type) == 1):
            # Byte blob.
            o.append("%s{" % ind)
            # An output blob (e.g. vkGetPipelineCacheData.pData) has only its size on the
            # wire; the decode arena's cap bounds what the guest can make us allocate.
            o.append("%s   uint64_t n_ = vd_dec_array(d, (uint64_t)(%s), %s, %d, %s);" % (
                ind, cnt, opt, 1 if sub_mode == "full" else 0, fld))
            # The decode arena hands out zeroed memory: what the driver leaves unwritten in
            # an output (a query that is not ready) carries no old host memory back.
            o.append("%s   uint8_t *p_ = n_ ? vd_dec_alloc(d, 1, n_, %s) : NULL;" % (ind, fld))
            if sub_mode == "full":
                o.append("%s   if (p_) vd_dec_take(d, p_, n_, (n_ + 3) & ~(uint64_t)3, %s);" % (ind, fld))
            o.append("%s   %s = (void *)p_;" % (ind, lv))
            o.append("%s}" % ind)
            return
        emw = 0
        if sub_mode == "full":
            emw = self.min_wire(m.type, "full") if k in ("struct", "union") else (
                8 if k == "handle" else pad4(self.wire(m.type)) if k == "scalar" else 0)
        elif k == "handle":
            emw = 8
        elif k in ("struct", "union"):
            emw = self.min_wire(m.type, "partial")
        o.append("%s{" % ind)
        o.append("%s   uint64_t n_ = vd_dec_array(d, (uint64_t)(%s), %s, %d, %s);" % (
            ind, cnt, opt, emw, fld))
        o.append("%s   %s *p_ = n_ ? vd_dec_alloc(d, sizeof(%s), n_, %s) : NULL;" % (
            ind, ltype, ltype, fld))
        if k == "scalar":
            if sub_mode == "full":
                o.append("%s   if (p_) vd_dec_take(d, p_, sizeof(*p_) * n_, %d * n_, %s);" % (
                    ind, pad4(self.wire(m.type)), fld))
        else:
            o.append("%s   for (uint64_t i = 0; p_ && i < n_ && !d->failed; i++) {" % ind)
            self.emit_elem_dec(o, ind + "      ", "p_[i]", m, sub_mode, fld,
                               output_handle=(output or mode == "partial"))
            o.append("%s   }" % ind)
        o.append("%s   %s = p_;" % (ind, lv))
        o.append("%s}" % ind)

    def param_is_len(self, m, siblings):
        for s in siblings:
            if s is m or not s.len:
                continue
            if s.lens[0] == m.name:
                return True
        return False

    # Encodes member m of a struct (full) for replies.
    def emit_member_enc(self, o, ind, owner, m, scope, siblings, output=True):
        rv = scope + m.name
        k = self.kind(m.type)
        if m.array:
            n = 1
            for dim in m.array:
                n *= self.const_value(dim)
            base = "(&%s%s)" % (rv, "[0]" * (len(m.array) - 1)) if len(m.array) > 1 else rv
            o.append("%svd_enc_u64(e, %d);" % (ind, n))
            if k == "scalar" and self.wire(m.type) < 4:
                o.append("%svd_enc_put(e, %s, %d, %d);" % (ind, base, n * self.wire(m.type),
                                                         pad4(n * self.wire(m.type))))
            elif k == "scalar":
                o.append("%svd_enc_put(e, %s, sizeof(%s[0]) * %d, %d);" % (
                    ind, base, base, n, n * pad4(self.wire(m.type))))
            else:
                o.append("%sfor (uint32_t i = 0; i < %d; i++) {" % (ind, n))
                self.emit_elem_enc(o, ind + "   ", "%s[i]" % base, m)
                o.append("%s}" % ind)
            return
        if not m.ptr:
            self.emit_elem_enc(o, ind, rv, m)
            return
        is_string = (m.type == "char" and m.lens and m.lens[-1] == "null-terminated")
        if is_string and m.ptr == 1:
            o.append("%svd_enc_string(e, %s);" % (ind, rv))
            return
        if is_string:
            self.errors.append("string array in reply %s.%s" % (owner, m.name))
            return
        cnt = self.len_expr(m, scope, siblings) if m.len else None
        if cnt is None:
            o.append("%sif (%s) {" % (ind, rv))
            o.append("%s   vd_enc_u64(e, 1);" % ind)
            self.emit_elem_enc(o, ind + "   ", "*" + rv, m)
            o.append("%s} else {" % ind)
            o.append("%s   vd_enc_u64(e, 0);" % ind)
            o.append("%s}" % ind)
            return
        o.append("%sif (%s) {" % (ind, rv))
        o.append("%s   const uint64_t n_ = (uint64_t)(%s);" % (ind, cnt))
        o.append("%s   vd_enc_u64(e, n_);" % ind)
        if k == "void" or (k == "scalar" and self.wire(m.type) == 1):
            o.append("%s   vd_enc_put(e, %s, n_, (n_ + 3) & ~(uint64_t)3);" % (ind, rv))
        elif k == "scalar":
            o.append("%s   vd_enc_put(e, %s, sizeof(*%s) * n_, %d * n_);" % (
                ind, rv, rv, pad4(self.wire(m.type))))
        else:
            o.append("%s   for (uint64_t i = 0; i < n_; i++) {" % ind)
            self.emit_elem_enc(o, ind + "      ", "%s[i]" % rv, m)
            o.append("%s   }" % ind)
        o.append("%s} else {" % ind)
        o.append("%s   vd_enc_u64(e, 0);" % ind)
        o.append("%s}" % ind)

    # -- structs ------------------------------------------------------------------------
    def gen_struct(self, t):
        name = t.name
        o = self.out_c
        members = [m for m in t.members]
        if t.category == "union":
            self.gen_union(t)
            return
        for mode in ("full", "partial"):
            if name not in self.need[mode]:
                continue
            fn = "vn_dec_" if mode == "full" else "vn_decp_"
            # self: members after sType/pNext
            o.append("static void %s%s_self(struct vd_decoder *d, %s *val)" % (fn, name, name))
            o.append("{")
            body = []
            for m in members:
                if m.name in ("sType", "pNext"):
                    continue
                self.emit_member_dec(body, "   ", name, m, "val->", members, mode)
            if not body:
                o.append("   (void)d;")
                o.append("   (void)val;")
            o.extend(body)
            o.append("}")
            o.append("")
            o.append("static void %s%s(struct vd_decoder *d, %s *val)" % (fn, name, name))
            o.append("{")
            if t.stype:
                o.append("   val->sType = (VkStructureType)vd_dec_stype(d, %s, \"%s.sType\");" % (t.stype, name))
                o.append("   val->pNext = %s_pnext_%s(d);" % (fn.rstrip("_"), self.chain_root(name)))
            o.append("   %s%s_self(d, val);" % (fn, name))
            o.append("}")
            o.append("")
        if name in self.need["enc"]:
            o.append("static void vn_enc_%s_self(struct vd_encoder *e, const %s *val)" % (name, name))
            o.append("{")
            body = []
            for m in members:
                if m.name in ("sType", "pNext"):
                    continue
                self.emit_member_enc(body, "   ", name, m, "val->", members)
            if not body:
                o.append("   (void)e;")
                o.append("   (void)val;")
            o.extend(body)
            o.append("}")
            o.append("")
            o.append("static void vn_enc_%s(struct vd_encoder *e, const %s *val)" % (name, name))
            o.append("{")
            if t.stype:
                o.append("   vd_enc_u32(e, (uint32_t)val->sType);")
                o.append("   vn_enc_pnext_%s(e, val->pNext);" % self.chain_root(name))
            o.append("   vn_enc_%s_self(e, val);" % name)
            o.append("}")
            o.append("")

    def chain_root(self, name):
        return name

    def gen_union(self, t):
        name = t.name
        o = self.out_c
        if name in self.need["full"] or name in self.need["partial"]:
            for mode in ("full", "partial"):
                if name not in self.need[mode]:
                    continue
                fn = "vn_dec_" if mode == "full" else "vn_decp_"
                o.append("static void %s%s(struct vd_decoder *d, %s *val)" % (fn, name, name))
                o.append("{")
                o.append("   const uint32_t tag = vd_dec_u32(d, \"%s.tag\");" % name)
                o.append("   switch (tag) {")
                for i, m in enumerate(t.members):
                    o.append("   case %d:" % i)
                    body = []
                    self.emit_member_dec(body, "      ", name, m, "val->", t.members, "full")
                    o.extend(body)
                    o.append("      break;")
                o.append("   default:")
                o.append("      vd_dec_fail(d, \"%s.tag\", \"unknown union member %%u\", tag);" % name)
                o.append("      break;")
                o.append("   }")
                o.append("}")
                o.append("")
        if name in self.need["enc"]:
            # Replies always carry member 0 (no union is returned whose member matters).
            o.append("static void vn_enc_%s(struct vd_encoder *e, const %s *val)" % (name, name))
            o.append("{")
            o.append("   vd_enc_u32(e, 0);")
            body = []
            self.emit_member_enc(body, "   ", name, t.members[0], "val->", t.members)
            o.extend(body)
            o.append("}")
            o.append("")

    def gen_chains(self, roots, mode):
        """pNext chain decoders/encoders for each struct with pNext."""
        o = self.out_c
        for name in sorted(roots):
            t = self.struct(name)
            ext = self.reg.extenders(name)
            if mode in ("full", "partial"):
                fn = "vn_dec" if mode == "full" else "vn_decp"
                o.append("static void *%s_pnext_%s(struct vd_decoder *d)" % (fn, name))
                o.append("{")
                o.append("   if (!vd_dec_pointer(d, true, \"%s.pNext\"))" % name)
                o.append("      return NULL;")
                o.append("   const int32_t stype = (int32_t)vd_dec_u32(d, \"%s.pNext.sType\");" % name)
                o.append("   switch (stype) {")
                for e in ext:
                    o.append("   case %s: {" % e.stype)
                    o.append("      %s *s = vd_dec_alloc(d, sizeof(*s), 1, \"%s.pNext\");" % (e.name, name))
                    o.append("      if (!s)")
                    o.append("         return NULL;")
                    o.append("      s->sType = (VkStructureType)stype;")
                    o.append("      s->pNext = %s_pnext_%s(d);" % (fn, name))
                    o.append("      %s_%s_self(d, s);" % (fn, e.name))
                    o.append("      return s;")
                    o.append("   }")
                o.append("   default:")
                o.append("      vd_dec_fail(d, \"%s.pNext\", \"unknown or unexpected sType %%d (%%s)\", stype, vn_stype_name(stype));" % name)
                o.append("      return NULL;")
                o.append("   }")
                o.append("}")
                o.append("")
            else:
                o.append("static void vn_enc_pnext_%s(struct vd_encoder *e, const void *val)" % name)
                o.append("{")
                o.append("   const VkBaseInStructure *s = val;")
                o.append("   for (; s; s = s->pNext) {")
                o.append("      switch ((int32_t)s->sType) {")
                for e in ext:
                    o.append("      case %s:" % e.stype)
                    o.append("         vd_enc_u64(e, 1);")
                    o.append("         vd_enc_u32(e, (uint32_t)s->sType);")
                    o.append("         vn_enc_pnext_%s(e, s->pNext);" % name)
                    o.append("         vn_enc_%s_self(e, (const %s *)s);" % (e.name, e.name))
                    o.append("         return;")
                o.append("      default:")
                o.append("         break; /* not part of the protocol: the guest never sent it */")
                o.append("      }")
                o.append("   }")
                o.append("   vd_enc_u64(e, 0);")
                o.append("}")
                o.append("")

    # -- commands -----------------------------------------------------------------------
    def command_ok(self, cmd):
        for p in cmd.params:
            k = self.kind(p.type)
            if k == "void" and p.ptr and not p.len:
                return "untyped pointer parameter %s" % p.name
            if k == "funcpointer" or k == "unknown":
                return "parameter %s of type %s" % (p.name, p.type)
            if p.ptr >= 2 and not (p.type == "char"):
                return "pointer-to-pointer parameter %s" % p.name
        if self.kind(cmd.ret) not in ("scalar", "void") and cmd.ret != "void":
            return "return type %s" % cmd.ret
        if cmd.ret == "PFN_vkVoidFunction":
            return "returns a function pointer"
        return None

    def is_output_param(self, p):
        return p.ptr == 1 and not p.const

    def gen_command(self, value, name, cmd):
        o = self.out_c
        h = self.out_h
        params = cmd.params
        has_ret = cmd.ret != "void"
        # args struct
        h.append("struct vn_args_%s {" % name)
        for p in params:
            if p.array and p.const:
                h.append("   %s %s[%s];" % (self.cname(p.type), p.name, "][".join(p.array)))
            else:
                d = p.decl()
                if self.kind(p.type) == "struct" or self.kind(p.type) == "handle":
                    d = d.replace(p.type, self.cname(p.type), 1)
                h.append("   %s;" % d)
        if has_ret:
            h.append("   %s ret;" % cmd.ret)
        h.append("   struct vd_object *obj; /* record of the first (dispatchable) parameter */")
        if self.has_target(name, cmd):
            h.append("   struct vd_object *target; /* record of the object destroyed, or NULL */")
        h.append("};")
        h.append("")

        # decoder
        o.append("static void vn_dec_cmd_%s(struct vd_decoder *d, struct vn_args_%s *a)" % (name, name))
        o.append("{")
        body = []
        for i, p in enumerate(params):
            k = self.kind(p.type)
            fld = '"%s"' % p.name
            if i == 0 and k == "handle" and not p.ptr and self.reg.resolve(p.type).dispatchable:
                body.append("   a->obj = vd_dec_lookup_obj(d, %s, %s);" % (self.objtype(p.type), fld))
                body.append("   a->%s = %s(a->obj ? a->obj->handle : 0);" % (p.name, self.handle_cast(p.type)))
                continue
            if p.array:
                p2 = p
                self.emit_member_dec(body, "   ", name, p2, "a->", params, "full")
                continue
            if p.ptr and not p.const and k == "handle":
                # Ids of new objects chosen by the guest.
                cnt = self.len_expr(p, "a->", params) if p.len else None
                if cnt is None:
                    body.append("   if (vd_dec_pointer(d, false, %s)) {" % fld)
                    body.append("      a->%s = vd_dec_alloc(d, sizeof(*a->%s), 1, %s);" % (p.name, p.name, fld))
                    body.append("      if (a->%s) *a->%s = %svd_dec_new_id(d, %s);" % (
                        p.name, p.name, self.handle_cast(p.type), fld))
                    body.append("   }")
                else:
                    body.append("   {")
                    body.append("      uint64_t n_ = vd_dec_array(d, (uint64_t)(%s), true, 8, %s);" % (cnt, fld))
                    body.append("      %s *p_ = n_ ? vd_dec_alloc(d, sizeof(*p_), n_, %s) : NULL;" % (self.cname(p.type), fld))
                    body.append("      for (uint64_t i = 0; p_ && i < n_ && !d->failed; i++)")
                    body.append("         p_[i] = %svd_dec_new_id(d, %s);" % (self.handle_cast(p.type), fld))
                    body.append("      a->%s = p_;" % p.name)
                    body.append("   }")
                continue
            if not p.ptr and k == "handle" and i == 1 and self.has_target(name, cmd):
                # The object being destroyed: keep its record so the handler has the id.
                body.append("   a->target = vd_dec_lookup_obj_optional(d, %s, %s);" % (self.objtype(p.type), fld))
                body.append("   a->%s = %s(a->target ? a->target->handle : 0);" % (p.name, self.handle_cast(p.type)))
                continue
            if not p.ptr and k == "handle":
                self.emit_handle_dec(body, "   ", "a->" + p.name, p, fld, output=False)
                continue
            out = self.is_output_param(p)
            self.emit_member_dec(body, "   ", name, p, "a->", params, "full", output=out)
        if not body:
            body = ["   (void)d;", "   (void)a;"]
        o.extend(body)
        o.append("}")
        o.append("")
        for p in params:
            if self.is_output_param(p) and self.kind(p.type) in ("struct", "union"):
                self.mark("partial", p.type)
                self.mark("enc", p.type)
            elif p.type == "VkAllocationCallbacks":
                pass
            elif p.const and self.kind(p.type) in ("struct", "union"):
                self.mark("full", p.type)
            elif not p.ptr and self.kind(p.type) in ("struct", "union"):
                self.mark("full", p.type)

        # reply encoder
        o.append("static void vn_enc_reply_%s(struct vd_encoder *e, const struct vn_args_%s *a)" % (name, name))
        o.append("{")
        o.append("   vd_enc_u32(e, %d); /* %s */" % (value, name))
        body = []
        if has_ret:
            self.emit_scalar_enc(body, "   ", "a->ret", cmd.ret)
        for p in params:
            if not self.is_output_param(p):
                continue
            self.emit_member_enc(body, "   ", name, p, "a->", params)
        if not body:
            body = ["   (void)a;"]
        o.extend(body)
        o.append("}")
        o.append("")

    # Device-child objects with plain create/destroy semantics get generated handlers:
    # vkCreateX(device, ..., pX or pXs[count]) and vkDestroyX(device, x, pAllocator).
    def simple_create(self, name, cmd):
        if name in self.not_passthrough or name in self.manual:
            return None
        if not name.startswith("vkCreate") or not cmd.params or cmd.params[0].type != "VkDevice":
            return None
        last = cmd.params[-1]
        if not (self.is_output_param(last) and self.kind(last.type) == "handle"):
            return None
        return last

    def has_target(self, name, cmd):
        """vkDestroyX / vkFreeX(device, x, pAllocator): the args carry x's record."""
        return ((name.startswith("vkDestroy") or name.startswith("vkFree")) and
                len(cmd.params) == 3 and cmd.params[0].type == "VkDevice" and
                self.kind(cmd.params[1].type) == "handle" and
                cmd.params[2].type == "VkAllocationCallbacks")

    def simple_destroy(self, name, cmd):
        if name in self.not_passthrough or name in self.manual:
            return False
        return self.has_target(name, cmd)

    def gen_create(self, name, cmd):
        o = self.out_c
        last = self.simple_create(name, cmd)
        t = self.reg.resolve(last.type)
        cnt = self.len_expr(last, "a->", cmd.params) if last.len else "1"
        o.append("static void vd_gen_%s(struct vd_dispatch *disp, struct vn_args_%s *a)" % (name, name))
        o.append("{")
        o.append("   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);")
        o.append("   const uint32_t n = (uint32_t)(%s);" % cnt)
        o.append("   uint64_t *ids = vd_arena_alloc_array(&disp->arena, sizeof(*ids), n);")
        o.append("   if (!ids) {")
        o.append("      vd_dispatch_fatal(disp, \"out of memory\");")
        o.append("      return;")
        o.append("   }")
        o.append("   for (uint32_t i = 0; i < n; i++)")
        o.append("      ids[i] = (uint64_t)(uintptr_t)a->%s[i];" % last.name)
        for p in cmd.params:
            if p.const and p.ptr == 1 and self.kind(p.type) == "struct" and self.struct(p.type).has_pnext and not p.len:
                o.append("   vd_strip_mesa_structs(&((%s *)a->%s)->pNext);" % (self.cname(p.type), p.name))
        args = ", ".join("a->" + p.name for p in cmd.params)
        o.append("   a->ret = vk->%s(%s);" % (self.vkname(name), args))
        o.append("   for (uint32_t i = 0; i < n; i++) {")
        o.append("      const uint64_t h = (uint64_t)(uintptr_t)a->%s[i];" % last.name)
        o.append("      a->%s[i] = %sids[i]; /* the reply echoes the guest's ids */" % (last.name, self.handle_cast(last.type)))
        o.append("      if (a->ret < 0 || !h)")
        o.append("         continue;")
        o.append("      if (!vd_object_add(disp, ids[i], %s, h, a->obj, a->obj->data, vd_gen_destroy_%s))" % (t.objtypeenum, t.name))
        o.append("         vk->Destroy%s(a->device, %sh, NULL);" % (t.name[2:], self.handle_cast(last.type)))
        o.append("   }")
        o.append("}")
        o.append("")

    def gen_destroy_fn(self, tname):
        o = self.out_c
        t = self.reg.resolve(tname)
        o.append("static void vd_gen_destroy_%s(struct vd_object *obj)" % t.name)
        o.append("{")
        o.append("   const struct vd_vk_dispatch *vk = vd_object_vk(obj->parent);")
        o.append("   vk->Destroy%s((VkDevice)(uintptr_t)obj->parent->handle, (%s)(uintptr_t)obj->handle, NULL);" % (t.name[2:], t.name))
        o.append("}")
        o.append("")

    def gen_destroy(self, name, cmd):
        o = self.out_c
        o.append("static void vd_gen_%s(struct vd_dispatch *disp, struct vn_args_%s *a)" % (name, name))
        o.append("{")
        o.append("   /* The host object goes when the last command using it is done. */")
        o.append("   if (a->target)")
        o.append("      vd_object_remove(disp, a->target->id);")
        o.append("}")
        o.append("")

    def passthrough_ok(self, name, cmd):
        if name in self.not_passthrough or name.endswith("MESA"):
            return False
        if re.match(r"vk(Destroy|Free|Create|Allocate)", name):
            return False
        for p in cmd.params:
            if self.is_output_param(p) and self.kind(p.type) == "handle":
                return False
        if not cmd.params or self.kind(cmd.params[0].type) != "handle":
            return False
        return True

    def gen_passthrough(self, name, cmd):
        o = self.out_c
        o.append("static void vd_pass_%s(struct vd_dispatch *disp, struct vn_args_%s *a)" % (name, name))
        o.append("{")
        o.append("   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);")
        args = ", ".join("a->" + p.name for p in cmd.params)
        call = "vk->%s(%s)" % (self.vkname(name), args)
        o.append("   (void)disp;")
        if cmd.ret != "void":
            o.append("   a->ret = %s;" % call)
        else:
            o.append("   %s;" % call)
        o.append("}")
        o.append("")

    def vkname(self, name):
        return name[2:]


def owner_is_struct(g, owner):
    t = g.reg.types.get(owner)
    return t is not None and t.category == "struct"


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
                                  "[hand-written] and [not-generated])" % (rel, lineno, mo.group(1)))
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
                              "handler VD_HANDLER(%s)" % (h.where, h.name, h.name,
                                                          alias_target[h.name], alias_target[h.name]))
            else:
                errors.append("%s: error: VD_HANDLER(%s): %s is not a command of the Venus "
                              "protocol (protocol/venus_command_types.tsv)" % (h.where, h.name, h.name))
            continue
        if h.name in first:
            errors.append("%s: error: VD_HANDLER(%s): a second handler for %s (the first is "
                          "at %s)" % (h.where, h.name, h.name, first[h.name].where))
            continue
        first[h.name] = h
    for name, (section, line) in sorted(manual_list.items(), key=lambda kv: kv[1][1]):
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vk-xml", required=True)
    ap.add_argument("--protocol-dir", required=True)
    ap.add_argument("--src-dir", required=True,
                    help="scanned (every .c file below it) for VD_HANDLER(vkName)")
    ap.add_argument("--compiled", nargs="*", default=[],
                    help="the core library's compiled sources: every file with a handler must be one")
    ap.add_argument("--out-dir", help="where the generated files go (required unless --check)")
    ap.add_argument("--depfile", help="write a Makefile dependency file (the scanned files and "
                    "directories) for the first output")
    ap.add_argument("--check", action="store_true",
                    help="apply the handler rules, print the command table, write nothing")
    args = ap.parse_args()
    if not args.check and not args.out_dir:
        ap.error("--out-dir is required unless --check is given")

    pd = args.protocol_dir
    src_dir = os.path.realpath(args.src_dir)
    root = os.path.dirname(src_dir)
    reg = Registry(args.vk_xml, os.path.join(pd, "venus_mesa.xml"),
                   os.path.join(pd, "venus_command_types.tsv"),
                   os.path.join(pd, "venus_extensions_mesa25.tsv"))

    # One entry per command type value; the first name listed for a value names it.
    by_value = {}
    for v, n in reg.command_types:
        by_value.setdefault(v, n)
    max_value = max(by_value)
    primary_of = {n: v for v, n in by_value.items()}
    alias_target = {n: by_value[v] for v, n in reg.command_types if by_value[v] != n}

    manual_path = os.path.join(pd, "manual_commands.txt")
    manual_rel = os.path.relpath(os.path.realpath(manual_path), root)
    manual_list, errors = read_manual_list(manual_path, manual_rel)
    not_pass = set(manual_list)
    sources, dirs = source_files(src_dir)
    handlers = scan_handlers(sources, root)
    compiled = {os.path.realpath(p) for p in args.compiled}
    errors += check_handlers(handlers, compiled, manual_list, manual_rel, primary_of, alias_target)
    handler_at = {}
    for h in handlers:
        handler_at.setdefault(h.name, h)
    manual = set(handler_at) & set(primary_of)
    g = Gen(reg, manual, not_pass)

    commands = []  # (value, name, cmd, skip_reason)
    for v in sorted(by_value):
        n = by_value[v]
        cmd = reg.command(n)
        if cmd is None:
            sys.exit("command %s (type %d) not found in vk.xml or venus_mesa.xml" % (n, v))
        commands.append((v, n, cmd, g.command_ok(cmd)))
        if commands[-1][3] and n in handler_at:
            errors.append("%s: error: VD_HANDLER(%s): the protocol cannot carry %s (%s), so it "
                          "cannot have a handler" % (handler_at[n].where, n, n, commands[-1][3]))
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        sys.exit("venus_gen: %d error%s in the hand-written handlers (see docs/design.md, "
                 "\"The generator\")" % (len(errors), "" if len(errors) == 1 else "s"))

    kind = classify(g, commands, manual)
    serving = command_serving(g, reg, commands, kind, handler_at, manual_list)
    if args.check:
        for v, n, how, where, alias in serving:
            print("%d\t%s\t%s\t%s%s" % (v, n, how, where, "\talias of " + alias if alias else ""))
        return

    # Generate command code first (it marks the structs it needs).
    cmd_c = []
    g.out_c = cmd_c
    for v, n, cmd, skip in commands:
        if skip:
            continue
        g.gen_command(v, n, cmd)

    # Structs, in dependency-free order: forward-declare everything static.
    struct_c = []
    g.out_c = struct_c
    all_structs = sorted(g.need["full"] | g.need["partial"] | g.need["enc"])
    for name in all_structs:
        t = g.struct(name)
        if t.category == "union":
            g.gen_union(t)
        else:
            g.gen_struct(t)
    chain_c = []
    g.out_c = chain_c
    g.gen_chains([n for n in g.need["full"] if g.struct(n).has_pnext], "full")
    g.gen_chains([n for n in g.need["partial"] if g.struct(n).has_pnext], "partial")
    g.gen_chains([n for n in g.need["enc"] if g.struct(n).has_pnext], "enc")

    pass_c = []
    g.out_c = pass_c
    passthrough = set()
    generated = set()
    destroy_types = set()
    for v, n, cmd, skip in commands:
        if kind[n] == "create":
            destroy_types.add(g.reg.resolve(g.simple_create(n, cmd).type).name)
    for tn in sorted(destroy_types):
        g.gen_destroy_fn(tn)
    for v, n, cmd, skip in commands:
        if kind[n] == "create":
            g.gen_create(n, cmd)
            generated.add(n)
        elif kind[n] == "destroy":
            g.gen_destroy(n, cmd)
            generated.add(n)
        elif kind[n] == "pass":
            g.gen_passthrough(n, cmd)
            passthrough.add(n)

    if g.errors:
        for e in sorted(set(g.errors)):
            print("venus_gen: error: %s" % e, file=sys.stderr)
        sys.exit(1)

    write_outputs(args.out_dir, reg, g, commands, by_value, max_value, struct_c, chain_c,
                  cmd_c, pass_c, passthrough, manual, generated)
    write_if_changed(os.path.join(args.out_dir, "vn_command_table.c"), command_table_c(serving))
    if args.depfile:
        deps = [os.path.abspath(p) for p in sources + dirs]
        deps.append(os.path.abspath(manual_path))
        def esc(p):
            return p.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")
        target = os.path.join(args.out_dir, "vn_protocol.h")
        with open(args.depfile, "w") as f:
            f.write("%s: \\\n %s\n" % (esc(target), " \\\n ".join(esc(p) for p in deps)))


def classify(g, commands, manual):
    """Each command's handler: 'skip' (the protocol cannot carry it), 'hand' (a VD_HANDLER),
    'create' or 'destroy' (generated), 'pass' (generated pass-through) or None (refused)."""
    kind = {}
    for v, n, cmd, skip in commands:
        if skip:
            kind[n] = "skip"
        elif n in manual:
            kind[n] = "hand"
        elif g.simple_create(n, cmd) is not None:
            kind[n] = "create"
        elif g.simple_destroy(n, cmd):
            kind[n] = "destroy"
        elif g.passthrough_ok(n, cmd):
            kind[n] = "pass"
        else:
            kind[n] = None
    return kind


def command_serving(g, reg, commands, kind, handler_at, manual_list):
    """How each command is served: [(value, name, how, where, alias_of)], sorted by value,
    the command's own name before its aliases."""
    info = {}
    for v, n, cmd, skip in commands:
        k = kind[n]
        if k == "skip":
            how, where = "refused (not decodable)", skip
        elif k == "hand":
            how, where = ("transport" if n.endswith("MESA") else "hand-written"), handler_at[n].where
        elif k == "create":
            how, where = "generated create", "-"
        elif k == "destroy":
            how, where = "generated destroy", "-"
        elif k == "pass":
            how, where = "pass-through", "-"
        else:
            how = "refused (not served)"
            if n in manual_list:
                where = "listed in protocol/manual_commands.txt, no VD_HANDLER"
            elif n.endswith("MESA"):
                where = "transport command without a VD_HANDLER"
            elif re.match(r"vk(Destroy|Free|Create|Allocate)", n) or any(
                    g.is_output_param(p) and g.kind(p.type) == "handle" for p in cmd.params):
                where = "creates or frees objects: needs a VD_HANDLER"
            else:
                where = "no dispatchable handle: needs a VD_HANDLER"
        info[v] = (how, where)
    out = []
    order = {n: i for i, (v, n) in enumerate(reg.command_types)}
    primary = {v: n for v, n, cmd, skip in commands}
    for v, n in sorted(reg.command_types, key=lambda vn: (vn[0], vn[1] != primary[vn[0]], order[vn[1]])):
        how, where = info[v]
        out.append((v, n, how, where, None if n == primary[v] else primary[v]))
    return out


def c_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def command_table_c(serving):
    C = ["/* Generated by gen/venus_gen.py from protocol/ and the VD_HANDLERs under src/. Do not edit. */",
         '#include "commands.h"', "",
         "const struct vd_command_serving vd_command_servings[] = {"]
    for v, n, how, where, alias in serving:
        C.append("   { %d, %s, %s, %s, %s }," % (v, c_str(n), c_str(how), c_str(where),
                                                   c_str(alias) if alias else "NULL"))
    C.append("};")
    C.append("const size_t vd_command_serving_count = %d;" % len(serving))
    return "\n".join(C) + "\n"


def write_if_changed(path, text):
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if old != text:
        with open(path, "w") as f:
            f.write(text)


def proto_decls(g, all_structs):
    out = []
    for name in all_structs:
        t = g.struct(name)
        if name in g.need["full"]:
            out.append("static void vn_dec_%s(struct vd_decoder *d, %s *val);" % (name, name))
            if t.category == "struct":
                out.append("static void vn_dec_%s_self(struct vd_decoder *d, %s *val);" % (name, name))
        if name in g.need["partial"]:
            out.append("static void vn_decp_%s(struct vd_decoder *d, %s *val);" % (name, name))
            if t.category == "struct":
                out.append("static void vn_decp_%s_self(struct vd_decoder *d, %s *val);" % (name, name))
        if name in g.need["enc"]:
            out.append("static void vn_enc_%s(struct vd_encoder *e, const %s *val);" % (name, name))
            if t.category == "struct":
                out.append("static void vn_enc_%s_self(struct vd_encoder *e, const %s *val);" % (name, name))
        if t.category == "struct" and t.has_pnext:
            if name in g.need["full"]:
                out.append("static void *vn_dec_pnext_%s(struct vd_decoder *d);" % name)
            if name in g.need["partial"]:
                out.append("static void *vn_decp_pnext_%s(struct vd_decoder *d);" % name)
            if name in g.need["enc"]:
                out.append("static void vn_enc_pnext_%s(struct vd_encoder *e, const void *val);" % name)
    return out


def write_outputs(out_dir, reg, g, commands, by_value, max_value, struct_c, chain_c, cmd_c,
                  pass_c, passthrough, manual, generated):
    all_structs = sorted(g.need["full"] | g.need["partial"] | g.need["enc"])
    # Extenders of chain roots are decoded through the root's chain functions, which
    # call the extender's _self functions: make sure they exist in the right mode.
    H = []
    H.append("/* Generated by gen/venus_gen.py from vk.xml and protocol/. Do not edit. */")
    H.append("#ifndef VN_PROTOCOL_H")
    H.append("#define VN_PROTOCOL_H")
    H.append("")
    H.append("#include <stdbool.h>")
    H.append("#include <stddef.h>")
    H.append("#include <stdint.h>")
    H.append("#include <vulkan/vulkan_core.h>")
    H.append("")
    H.append("struct vd_decoder;")
    H.append("struct vd_encoder;")
    H.append("struct vd_dispatch;")
    H.append("struct vd_object;")
    H.append("")
    H.append("/* VK_MESA_venus_protocol / VK_EXT_command_serialization (protocol/venus_mesa.xml) */")
    for n in reg.venus_enums:
        v = reg.enum_values[n]
        if n.startswith("VK_STRUCTURE_TYPE_"):
            H.append("#define %s ((VkStructureType)%d)" % (n, v))
        else:
            H.append("#define %s 0x%xu" % (n, v))
    H.append("#define VK_COMMAND_GENERATE_REPLY_BIT_EXT 0x1u")
    for t in sorted(reg.types.values(), key=lambda t: t.name):
        if t.venus and t.category == "bitmask":
            H.append("typedef VkFlags %s;" % t.name)
    H.append("")
    # MESA structs in file order (dependencies come first in venus_mesa.xml).
    mesa = [t for t in reg.types.values() if t.venus and t.category == "struct"]
    for t in mesa:
        H.append("typedef struct %s {" % t.name)
        for m in t.members:
            H.append("   %s;" % m.decl())
        H.append("} %s;" % t.name)
        H.append("")
    H.append("#define VN_COMMAND_TYPE_COUNT %d" % (max_value + 1))
    for v, n, cmd, skip in commands:
        H.append("#define VN_CMD_%s %d" % (n, v))
    H.append("")
    H.extend(g.out_h)
    H.append("typedef void (*vn_decode_fn)(struct vd_decoder *d, void *args);")
    H.append("typedef void (*vn_handle_fn)(struct vd_dispatch *disp, void *args);")
    H.append("typedef void (*vn_reply_fn)(struct vd_encoder *e, const void *args);")
    H.append("")
    H.append("struct vn_command_info {")
    H.append("   const char *name;")
    H.append("   uint32_t args_size;")
    H.append("   vn_decode_fn decode;  /* NULL: the protocol cannot carry it to a renderer */")
    H.append("   vn_handle_fn handle;  /* NULL: venusd does not serve it */")
    H.append("   vn_reply_fn reply;")
    H.append("   bool passthrough;     /* handled by a generated pass-through */")
    H.append("};")
    H.append("")
    H.append("extern const struct vn_command_info vn_commands[VN_COMMAND_TYPE_COUNT];")
    H.append("")
    H.append("/* The extensions of the protocol (protocol/venus_extensions_mesa25.tsv). */")
    H.append("struct vn_protocol_extension {")
    H.append("   uint32_t number;")
    H.append("   const char *name;")
    H.append("   uint32_t spec_version; /* the most the protocol encodes */")
    H.append("};")
    H.append("#define VN_PROTOCOL_EXTENSION_COUNT %d" % len(reg.protocol_extensions))
    H.append("extern const struct vn_protocol_extension vn_protocol_extensions[VN_PROTOCOL_EXTENSION_COUNT];")
    H.append("const char *vn_stype_name(int32_t stype);")
    H.append("")
    H.append("#define VD_HANDLER(name) void vd_handle_##name(struct vd_dispatch *disp, struct vn_args_##name *a)")
    for n in sorted(manual):
        H.append("VD_HANDLER(%s);" % n)
    H.append("")
    H.append("#endif")

    C = []
    C.append("/* Generated by gen/venus_gen.py from vk.xml and protocol/. Do not edit. */")
    C.append("#include <string.h>")
    C.append('#include "vn_protocol.h"')
    C.append('#include "vk_dispatch.h"')
    C.append('#include "context/cs.h"')
    C.append('#include "vk/vk_common.h"')
    C.append("")
    C.append('#pragma GCC diagnostic ignored "-Wunused-function"')
    C.append("")
    C.extend(proto_decls(g, all_structs))
    C.append("")
    C.extend(struct_c)
    C.extend(chain_c)
    C.extend(cmd_c)
    C.extend(pass_c)
    # stype names
    C.append("const char *vn_stype_name(int32_t stype)")
    C.append("{")
    C.append("   switch (stype) {")
    seen = set()
    for t in sorted(reg.types.values(), key=lambda t: t.name):
        if t.category != "struct" or t.alias or not t.stype or not reg.is_required(t.name):
            continue
        v = reg.enum_values.get(t.stype)
        if v is None or v in seen:
            continue
        seen.add(v)
        C.append('   case %d: return "%s";' % (v, t.name))
    C.append('   default: return "not in the Venus protocol";')
    C.append("   }")
    C.append("}")
    C.append("")
    # wrappers + table
    for v, n, cmd, skip in commands:
        if skip:
            continue
        C.append("static void vn_w_dec_%s(struct vd_decoder *d, void *a) { vn_dec_cmd_%s(d, a); }" % (n, n))
        C.append("static void vn_w_rep_%s(struct vd_encoder *e, const void *a) { vn_enc_reply_%s(e, a); }" % (n, n))
        if n in manual:
            C.append("static void vn_w_h_%s(struct vd_dispatch *p, void *a) { vd_handle_%s(p, a); }" % (n, n))
        elif n in passthrough:
            C.append("static void vn_w_h_%s(struct vd_dispatch *p, void *a) { vd_pass_%s(p, a); }" % (n, n))
        elif n in generated:
            C.append("static void vn_w_h_%s(struct vd_dispatch *p, void *a) { vd_gen_%s(p, a); }" % (n, n))
    C.append("")
    C.append("const struct vn_protocol_extension vn_protocol_extensions[VN_PROTOCOL_EXTENSION_COUNT] = {")
    for num, n, spec in reg.protocol_extensions:
        C.append('   { %d, "%s", %d },' % (num, n, spec))
    C.append("};")
    C.append("")
    C.append("const struct vn_command_info vn_commands[VN_COMMAND_TYPE_COUNT] = {")
    for v, n, cmd, skip in commands:
        if skip:
            C.append('   [%d] = { "%s", 0, NULL, NULL, NULL, false }, /* %s */' % (v, n, skip))
            continue
        h = "vn_w_h_%s" % n if (n in manual or n in passthrough or n in generated) else "NULL"
        C.append('   [%d] = { "%s", sizeof(struct vn_args_%s), vn_w_dec_%s, %s, vn_w_rep_%s, %s },' % (
            v, n, n, n, h, n, "true" if n in passthrough else "false"))
    C.append("};")

    # host dispatch table
    D = []
    D.append("/* Generated by gen/venus_gen.py. Do not edit. */")
    D.append("#ifndef VK_DISPATCH_H")
    D.append("#define VK_DISPATCH_H")
    D.append("#include <vulkan/vulkan_core.h>")
    D.append("")
    D.append("/* Host entry points, resolved through vkGetInstanceProcAddr / vkGetDeviceProcAddr. */")
    D.append("struct vd_vk_dispatch {")
    host_cmds = host_command_list(reg, commands)
    for n, real, aliases, level in host_cmds:
        D.append("   PFN_%s %s;" % (real, n[2:]))
    D.append("};")
    D.append("")
    D.append("/* Fills the global and instance-level entries (instance may be NULL for globals). */")
    D.append("void vd_vk_dispatch_load_instance(struct vd_vk_dispatch *t, PFN_vkGetInstanceProcAddr gipa, VkInstance instance);")
    D.append("/* Fills the device-level entries. */")
    D.append("void vd_vk_dispatch_load_device(struct vd_vk_dispatch *t, PFN_vkGetDeviceProcAddr gdpa, VkDevice device);")
    D.append("#endif")
    DC = []
    DC.append("/* Generated by gen/venus_gen.py. Do not edit. */")
    DC.append('#include "vk_dispatch.h"')
    DC.append("")
    DC.append("void vd_vk_dispatch_load_instance(struct vd_vk_dispatch *t, PFN_vkGetInstanceProcAddr gipa, VkInstance instance)")
    DC.append("{")
    for n, real, aliases, level in host_cmds:
        if level == "device":
            continue
        names = [real] + [a for a in aliases if a != real]
        DC.append("   t->%s = (PFN_%s)gipa(instance, \"%s\");" % (n[2:], real, names[0]))
        for a in names[1:]:
            DC.append("   if (!t->%s) t->%s = (PFN_%s)gipa(instance, \"%s\");" % (n[2:], n[2:], real, a))
    DC.append("}")
    DC.append("")
    DC.append("void vd_vk_dispatch_load_device(struct vd_vk_dispatch *t, PFN_vkGetDeviceProcAddr gdpa, VkDevice device)")
    DC.append("{")
    for n, real, aliases, level in host_cmds:
        if level != "device":
            continue
        names = [real] + [a for a in aliases if a != real]
        DC.append("   t->%s = (PFN_%s)gdpa(device, \"%s\");" % (n[2:], real, names[0]))
        for a in names[1:]:
            DC.append("   if (!t->%s) t->%s = (PFN_%s)gdpa(device, \"%s\");" % (n[2:], n[2:], real, a))
    DC.append("}")

    files = {"vn_protocol.h": H, "vn_protocol.c": C, "vk_dispatch.h": D, "vk_dispatch.c": DC}
    for fname, lines in files.items():
        path = os.path.join(out_dir, fname)
        text = "\n".join(lines) + "\n"
        old = None
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
        if old != text:
            with open(path, "w") as f:
                f.write(text)


# Host-only entry points venusd needs beyond the protocol's commands.
EXTRA_HOST = [
    ("vkGetMemoryHostPointerPropertiesEXT", "device"),
    ("vkGetPhysicalDeviceProperties2", "instance"),
    ("vkGetPhysicalDeviceFeatures2", "instance"),
    ("vkEnumerateInstanceExtensionProperties", "global"),
]


def host_command_list(reg, commands):
    out = []
    seen = set()
    aliases_of = {}
    for a, target in reg.command_aliases.items():
        aliases_of.setdefault(target, []).append(a)
    items = [(n, cmd) for v, n, cmd, skip in commands if not n.endswith("MESA")]
    for n, lvl in EXTRA_HOST:
        items.append((n, reg.command(n)))
    for n, cmd in items:
        if cmd is None or cmd.name in seen:
            continue
        if n == "vkGetInstanceProcAddr":
            continue
        seen.add(cmd.name)
        real = cmd.name
        first = cmd.params[0].type if cmd.params else None
        if n == "vkGetDeviceProcAddr":
            level = "instance"  # resolved through the instance, used to fill device tables
        elif first in ("VkDevice", "VkQueue", "VkCommandBuffer"):
            level = "device"
        elif first in ("VkInstance", "VkPhysicalDevice"):
            level = "instance"
        else:
            level = "global"
        aliases = sorted(aliases_of.get(real, []))
        # The member is named after the protocol's name (without "vk").
        out.append((n if n.startswith("vk") else real, real, aliases, level))
    return out


if __name__ == "__main__":
    main()
