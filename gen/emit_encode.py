"""Reply encoders: C text that writes a struct, a union, a pNext chain or one member into
the reply stream.  Every function returns the text; nothing is accumulated elsewhere."""

from templates import indent, lines, render
from typeinfo import GenError, pad4


def scalar_enc(ti, rv, tname):
    return "vd_enc_put(e, &%s, sizeof(%s), %d);\n" % (rv, rv, pad4(ti.wire(tname)))


def elem_enc(ti, rv, m):
    k = ti.kind(m.type)
    if k == "scalar":
        return scalar_enc(ti, rv, m.type)
    if k == "handle":
        return "vd_enc_u64(e, (uint64_t)(uintptr_t)%s);\n" % rv
    if k in ("struct", "union"):
        return "vn_enc_%s(e, &%s);\n" % (ti.cname(ti.struct(m.type).name), rv)
    raise GenError("cannot encode element of type %s" % m.type)


def fixed_array_enc(ti, rv, m):
    k = ti.kind(m.type)
    n = ti.fixed_count(m)
    base = "(&%s%s)" % (rv, "[0]" * (len(m.array) - 1)) if len(m.array) > 1 else rv
    out = "vd_enc_u64(e, %d);\n" % n
    if k == "scalar" and ti.wire(m.type) < 4:
        w = n * ti.wire(m.type)
        return out + "vd_enc_put(e, %s, %d, %d);\n" % (base, w, pad4(w))
    if k == "scalar":
        return out + "vd_enc_put(e, %s, sizeof(%s[0]) * %d, %d);\n" % (
            base, base, n, n * pad4(ti.wire(m.type)))
    return (out + "for (uint32_t i = 0; i < %d; i++) {\n" % n
            + indent(elem_enc(ti, "%s[i]" % base, m)) + "}\n")


def counted_array_enc(ti, rv, m, cnt):
    k = ti.kind(m.type)
    if k == "void" or (k == "scalar" and ti.wire(m.type) == 1):
        elems = "   vd_enc_put(e, %s, n_, (n_ + 3) & ~(uint64_t)3);\n" % rv
    elif k == "scalar":
        elems = "   vd_enc_put(e, %s, sizeof(*%s) * n_, %d * n_);\n" % (
            rv, rv, pad4(ti.wire(m.type)))
    else:
        elems = ("   for (uint64_t i = 0; i < n_; i++) {\n"
                 + indent(elem_enc(ti, "%s[i]" % rv, m), 6) + "   }\n")
    return lines([
        "if (%s) {" % rv,
        "   const uint64_t n_ = (uint64_t)(%s);" % cnt,
        "   vd_enc_u64(e, n_);"]) + elems + lines([
        "} else {",
        "   vd_enc_u64(e, 0);",
        "}"])


def member_enc(ti, owner, m, scope, siblings):
    """Encodes member or parameter m (scope + m.name) of owner for a reply."""
    rv = scope + m.name
    if m.array:
        return fixed_array_enc(ti, rv, m)
    if not m.ptr:
        return elem_enc(ti, rv, m)
    if ti.is_string(m):
        if m.ptr == 1:
            return "vd_enc_string(e, %s);\n" % rv
        raise GenError("string array in reply %s.%s" % (owner, m.name))
    if m.len:
        return counted_array_enc(ti, rv, m, ti.len_expr(m, scope, siblings))
    return lines([
        "if (%s) {" % rv,
        "   vd_enc_u64(e, 1);"]) + indent(elem_enc(ti, "*" + rv, m)) + lines([
        "} else {",
        "   vd_enc_u64(e, 0);",
        "}"])


def struct_encoder(ti, t):
    """vn_enc_X_self (the members after sType/pNext) and vn_enc_X (the whole struct)."""
    body = "".join(member_enc(ti, t.name, m, "val->", t.members)
                   for m in t.members if m.name not in ("sType", "pNext"))
    body = indent(body) if body else "   (void)e;\n   (void)val;\n"
    head = ""
    if t.stype:
        head = lines(["   vd_enc_u32(e, (uint32_t)val->sType);",
                      "   vn_enc_pnext_%s(e, val->pNext);" % t.name])
    return render("struct_encoder.c.in", name=t.name, body=body, head=head)


def union_encoder(ti, t):
    # Replies always carry member 0 (no union is returned whose member matters).
    member = indent(member_enc(ti, t.name, t.members[0], "val->", t.members))
    return render("union_encoder.c.in", name=t.name, member=member)


def encoder(ti, t, need):
    """The reply encoder of struct or union t, if the plan needs one."""
    if t.name not in need["enc"]:
        return ""
    return union_encoder(ti, t) if t.category == "union" else struct_encoder(ti, t)


def pnext_encoder(ti, root):
    """Encodes root's pNext chain: the structs of the protocol that extend root, in chain
    order; others (the host's own) are skipped, as the guest never sent them."""
    cases = "".join(render("pnext_encoder_case.c.in", root=root, stype=e.stype, struct=e.name)
                    for e in ti.reg.extenders(root))
    return render("pnext_encoder.c.in", root=root, cases=cases)
