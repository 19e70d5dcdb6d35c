"""Decoders: C text that reads a struct, a union, a pNext chain or one member from the
command stream.  Every function returns the text; nothing is accumulated elsewhere.

A "full" decoder reads an input; a "partial" decoder reads an output as the guest sends it
(only sType/pNext, handles, counts that size an array, and the arrays themselves).
"""

import copy
import re

from templates import indent, lines, render
from typeinfo import NULL_ONLY, GenError, pad4

PREFIX = {"full": "vn_dec_", "partial": "vn_decp_"}


def field(owner, m):
    return '"%s.%s"' % (owner, m.name)


def scalar_dec(ti, lv, tname, fld):
    return "vd_dec_take(d, &%s, sizeof(%s), %d, %s);\n" % (lv, lv, pad4(ti.wire(tname)), fld)


def handle_dec(ti, lv, m, fld, output):
    """output: False (an existing object, looked up), True (a new id chosen by the guest)
    or 'raw' (an id inside an output struct: unused slots are 0, so no check here; the
    handler validates what it uses)."""
    cast = ti.handle_cast(m.type)
    if output == "raw":
        return "%s = %svd_dec_u64(d, %s);\n" % (lv, cast, fld)
    if output:
        return "%s = %svd_dec_new_id(d, %s);\n" % (lv, cast, fld)
    opt = "true" if (m.optional[0] or m.noautovalidity) else "false"
    return "%s = %svd_dec_lookup(d, %s, %s, %s);\n" % (lv, cast, ti.objtype(m.type), opt, fld)


def elem_dec(ti, lv, m, mode, fld, output_handle):
    """One element of m's type into lvalue lv (an array element or a single value)."""
    k = ti.kind(m.type)
    if k == "scalar":
        return scalar_dec(ti, lv, m.type, fld) if mode == "full" else ""
    if k == "handle":
        return handle_dec(ti, lv, m, fld, output_handle)
    if k in ("struct", "union"):
        return "%s%s(d, &%s);\n" % (PREFIX[mode], ti.cname(ti.struct(m.type).name), lv)
    raise GenError("cannot decode element %s of type %s" % (fld, m.type))


def fixed_array_dec(ti, lv, m, mode, fld):
    """A fixed-size array: its declared size (u64), then the elements."""
    k = ti.kind(m.type)
    n = ti.fixed_count(m)
    if mode == "partial" and k not in ("struct", "union", "handle"):
        return ""
    base = "(&%s%s)" % (lv, "[0]" * (len(m.array) - 1)) if len(m.array) > 1 else lv
    out = "vd_dec_fixed_array(d, %d, %s);\n" % (n, fld)
    if k == "scalar" and ti.wire(m.type) < 4:
        w = n * ti.wire(m.type)
        return out + "vd_dec_take(d, %s, %d, %d, %s);\n" % (base, w, pad4(w), fld)
    if k == "scalar":
        return out + "vd_dec_take(d, %s, sizeof(%s[0]) * %d, %d, %s);\n" % (
            base, base, n, n * pad4(ti.wire(m.type)), fld)
    elem = elem_dec(ti, "%s[i]" % base, m, mode, fld, "raw" if mode == "partial" else False)
    return (out + "for (uint32_t i = 0; i < %d && !d->failed; i++) {\n" % n
            + indent(elem) + "}\n")


def value_dec(ti, owner, m, lv, mode, fld):
    """A member that is not a pointer or an array."""
    k = ti.kind(m.type)
    if k == "scalar":
        if mode == "full" or (ti.is_struct(owner)
                              and ti.is_count_member(ti.struct(owner), m)):
            return scalar_dec(ti, lv, m.type, fld)
        return ""
    if k == "handle":
        return handle_dec(ti, lv, m, fld, "raw" if mode == "partial" else False)
    if k in ("struct", "union"):
        return elem_dec(ti, lv, m, mode, fld, False)
    raise GenError("cannot decode %s" % fld)


def single_pointer_dec(ti, m, lv, siblings, mode, fld, output):
    """A pointer to one value: a presence marker, then the value."""
    k = ti.kind(m.type)
    if k == "void":
        raise GenError("untyped pointer without length at %s" % fld)
    ltype = ti.elem_ctype(m)
    # Output pointers are required unless vk.xml says otherwise: handlers write through
    # them.
    opt = "true" if (m.optional[0] or mode == "partial") else "false"
    if output and k == "scalar" and not ti.counts_an_array(m, siblings):
        elem = ""  # output-only scalar: the marker is all the command carries
    elif output and k == "handle":
        elem = "*p_ = %svd_dec_new_id(d, %s);\n" % (ti.handle_cast(m.type), fld)
    else:
        sub_mode = "partial" if (output or mode == "partial") else "full"
        if k == "scalar" and sub_mode == "partial":
            elem = scalar_dec(ti, "*p_", m.type, fld)
        else:
            elem = elem_dec(ti, "*p_", m, sub_mode, fld, output)
    return lines([
        "if (vd_dec_pointer(d, %s, %s)) {" % (opt, fld),
        "   %s *p_ = vd_dec_alloc(d, sizeof(%s), 1, %s);" % (ltype, ltype, fld),
        "   if (p_) {"]) + indent(elem, 6) + lines([
        "   }",
        "   %s = p_;" % lv,
        "} else {",
        "   %s = NULL;" % lv,
        "}"])


def blob_dec(lv, cnt, opt, sub_mode, fld):
    """Bytes (void or 1-byte scalars) with a count.  An output blob (e.g.
    vkGetPipelineCacheData.pData) has only its size on the wire; the decode arena's cap
    bounds what the guest can make us allocate, and its memory is zeroed, so what the
    driver leaves unwritten in an output (a query that is not ready) carries no old host
    memory back."""
    if sub_mode == "full":
        # an input: every byte is copied from the stream (vd_dec_blob, no zeroing)
        return "%s = vd_dec_blob(d, (uint64_t)(%s), %s, %s);\n" % (lv, cnt, opt, fld)
    return lines([
        "{",
        "   uint64_t n_ = vd_dec_array(d, (uint64_t)(%s), %s, 0, %s);" % (cnt, opt, fld),
        "   uint8_t *p_ = n_ ? vd_dec_alloc(d, 1, n_, %s) : NULL;" % fld,
        "   %s = (void *)p_;" % lv,
        "}"])


def counted_array_dec(ti, m, lv, cnt, mode, fld, output):
    """A pointer to cnt elements: the count (u64), then the elements."""
    k = ti.kind(m.type)
    opt = "true" if (m.optional[0] or m.noautovalidity or mode == "partial"
                     or (len(m.optional) > 1 and m.optional[-1])) else "false"
    sub_mode = "partial" if (output or mode == "partial") else "full"
    if k == "void" or (k == "scalar" and ti.wire(m.type) == 1):
        return blob_dec(lv, cnt, opt, sub_mode, fld)
    emw = 0  # the least wire size of one element
    if sub_mode == "full":
        emw = ti.min_wire(m.type, "full") if k in ("struct", "union") else (
            8 if k == "handle" else pad4(ti.wire(m.type)) if k == "scalar" else 0)
    elif k == "handle":
        emw = 8
    elif k in ("struct", "union"):
        emw = ti.min_wire(m.type, "partial")
    ltype = ti.elem_ctype(m)
    if k != "scalar":
        elem = elem_dec(ti, "p_[i]", m, sub_mode, fld, output or mode == "partial")
        elems = ("   for (uint64_t i = 0; p_ && i < n_ && !d->failed; i++) {\n"
                 + indent(elem, 6) + "   }\n")
    elif sub_mode == "full":
        elems = "   if (p_) vd_dec_take(d, p_, sizeof(*p_) * n_, %d * n_, %s);\n" % (
            pad4(ti.wire(m.type)), fld)
    else:
        elems = ""
    return lines([
        "{",
        "   uint64_t n_ = vd_dec_array(d, (uint64_t)(%s), %s, %d, %s);" % (cnt, opt, emw, fld),
        "   %s *p_ = n_ ? vd_dec_alloc(d, sizeof(%s), n_, %s) : NULL;" % (ltype, ltype, fld),
    ]) + elems + lines(["   %s = p_;" % lv, "}"])


def pointer_array_dec(ti, owner, m, lv, cnt, scope, mode, fld, output):
    """A pointer to cnt pointers, each to an array (ppGeometries, ppBuildRangeInfos): the
    outer count (u64), then for each element its inner count (u64) and elements, as
    counted_array_dec; the inner counts come from typeinfo.inner_len."""
    inner_cnt = ti.inner_len(owner, m, scope)
    if inner_cnt is None or output:
        raise GenError("pointer-to-pointer without an inner count at %s" % fld)
    inner = copy.copy(m)
    inner.ptr = 1
    inner.optional = [False]  # each inner array is required (optional="true,false")
    inner.noautovalidity = False
    text = counted_array_dec(ti, inner, "INNER_LV", "INNER_CNT", mode, fld, False)
    # the inner block's names must not shadow the outer loop's
    text = re.sub(r"\bn_\b", "m_", text)
    text = re.sub(r"\bp_\b", "q_", text)
    text = re.sub(r"\bi\b", "j", text)
    text = text.replace("INNER_LV", "p_[i]").replace("INNER_CNT", inner_cnt)
    ltype = ti.elem_ctype(m)
    opt = "true" if (m.optional[0] or mode == "partial") else "false"
    return lines([
        "{",
        "   uint64_t n_ = vd_dec_array(d, (uint64_t)(%s), %s, 8, %s);" % (cnt, opt, fld),
        "   const %s **p_ = n_ ? vd_dec_alloc(d, sizeof(*p_), n_, %s) : NULL;" % (ltype, fld),
        "   for (uint64_t i = 0; p_ && i < n_ && !d->failed; i++) {",
    ]) + indent(text, 6) + lines([
        "   }",
        "   %s = (const %s *const *)p_;" % (lv, ltype),
        "}"])


def member_dec(ti, owner, m, scope, siblings, mode, output=False):
    """Decodes member or parameter m of owner into scope + m.name.
    scope: prefix of the siblings ("val->" or "a->"); output: a command's output parameter
    (a non-const pointer)."""
    lv = scope + m.name
    fld = field(owner, m)
    k = ti.kind(m.type)
    if m.bitfield:
        raise GenError("bitfield member %s" % fld)
    if m.type == "VkAllocationCallbacks":
        # Host allocation callbacks never cross the wire: the guest sends NULL.
        return "vd_dec_null_pointer(d, %s);\n%s = NULL;\n" % (fld, lv)
    if k == "funcpointer":
        raise GenError("function pointer member %s" % fld)
    if m.array:
        return fixed_array_dec(ti, lv, m, mode, fld)
    if not m.ptr:
        return value_dec(ti, owner, m, lv, mode, fld)
    if ti.is_string(m) and m.ptr == 1:
        opt = "true" if m.optional[0] else "false"
        return "%s = vd_dec_string(d, %s, %s);\n" % (lv, opt, fld)
    if ti.is_string(m) and m.ptr == 2:
        return "%s = (const char *const *)vd_dec_string_array(d, %s, %s);\n" % (
            lv, ti.len_expr(m, scope, siblings), fld)
    cnt = ti.len_expr(m, scope, siblings) if m.len else None
    if k == "void" and m.ptr == 1 and cnt is None and (owner, m.name) in NULL_ONLY:
        # the Venus protocol carries no host pointer here, only its marker, which must say
        # NULL (virglrenderer fails the same way)
        return "vd_dec_null_pointer(d, %s);\n%s = NULL;\n" % (fld, lv)
    if m.ptr == 2 and cnt is not None:
        return pointer_array_dec(ti, owner, m, lv, cnt, scope, mode, fld, output)
    if m.ptr != 1:
        raise GenError("pointer depth %d at %s" % (m.ptr, fld))
    if cnt is None:
        return single_pointer_dec(ti, m, lv, siblings, mode, fld, output)
    return counted_array_dec(ti, m, lv, cnt, mode, fld, output)


def members_dec(ti, t, mode):
    """The members after sType/pNext, or a body that uses the parameters."""
    body = "".join(member_dec(ti, t.name, m, "val->", t.members, mode)
                   for m in t.members if m.name not in ("sType", "pNext"))
    return indent(body) if body else "   (void)d;\n   (void)val;\n"


def struct_decoder(ti, t, mode):
    """vn_dec_X_self (the members after sType/pNext) and vn_dec_X (the whole struct)."""
    fn = PREFIX[mode]
    head = ""
    if t.stype:
        head = lines([
            '   val->sType = (VkStructureType)vd_dec_stype(d, %s, "%s.sType");' % (
                t.stype, t.name),
            "   val->pNext = %s_pnext_%s(d);" % (fn.rstrip("_"), t.name)])
    return render("struct_decoder.c.in", fn=fn, name=t.name, body=members_dec(ti, t, mode),
                  head=head)


def union_decoder(ti, t, mode):
    """The tag (the member's index), then that member (always decoded in full)."""
    cases = "".join("   case %d:\n" % ti.union_tag(t, i, m)
                    + indent(member_dec(ti, t.name, m, "val->", t.members, "full"), 6)
                    + "      break;\n" for i, m in enumerate(t.members))
    return render("union_decoder.c.in", fn=PREFIX[mode], name=t.name, cases=cases)


def decoders(ti, t, need):
    """The decoders of struct or union t that the plan needs, full before partial."""
    emit = union_decoder if t.category == "union" else struct_decoder
    return "".join(emit(ti, t, mode) for mode in ("full", "partial") if t.name in need[mode])


def level_check(ti, root, name):
    """For a pNext struct that Mesa 25.0.7's protocol lacks: a context that negotiated that
    protocol must not send it (the decoder's mesa25_only); nothing for the others."""
    if name not in ti.reg.newer_types:
        return ""
    return ('\n      if (d->mesa25_only) {\n         vd_dec_fail(d, "%s.pNext", "%s is not in '
            'the Mesa 25.0.7 protocol (vk.xml 1.3.269) this context negotiated, only in the '
            'newest (vk.xml 1.4.343)");\n         return NULL;\n      }' % (root, name))


def pnext_decoder(ti, root, mode):
    """Decodes root's pNext chain: accepts exactly the protocol structs that extend root."""
    fn = PREFIX[mode].rstrip("_")
    cases = "".join(render("pnext_decoder_case.c.in", fn=fn, root=root, stype=e.stype,
                           struct=e.name, level_check=level_check(ti, root, e.name))
                    for e in ti.reg.extenders(root))
    return render("pnext_decoder.c.in", fn=fn, root=root, cases=cases)


def prototypes(ti, need, structs):
    """Forward declarations of every coder, so that definitions can come in any order."""
    out = []
    for name in structs:
        t = ti.struct(name)
        is_struct = t.category == "struct"
        for mode, sig in (("full", "vn_dec_%s%s(struct vd_decoder *d, %s *val)"),
                          ("partial", "vn_decp_%s%s(struct vd_decoder *d, %s *val)"),
                          ("enc", "vn_enc_%s%s(struct vd_encoder *e, const %s *val)")):
            if name not in need[mode]:
                continue
            out.append("static void " + sig % (name, "", name) + ";")
            if is_struct:
                out.append("static void " + sig % (name, "_self", name) + ";")
        if is_struct and t.has_pnext:
            if name in need["full"]:
                out.append("static void *vn_dec_pnext_%s(struct vd_decoder *d);" % name)
            if name in need["partial"]:
                out.append("static void *vn_decp_pnext_%s(struct vd_decoder *d);" % name)
            if name in need["enc"]:
                out.append("static void vn_enc_pnext_%s(struct vd_encoder *e, "
                           "const void *val);" % name)
    return lines(out)
