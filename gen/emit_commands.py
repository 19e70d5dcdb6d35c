"""Per-command code: the argument struct, the argument decoder, the reply encoder, the
generated handlers (create, destroy, pass-through) and the command table's entries.
Every function returns the text; nothing is accumulated elsewhere."""

import emit_decode
import emit_encode
from plan import created_param, has_target
from templates import indent, lines, render
from typeinfo import pad4


def args_struct(ti, c):
    """struct vn_args_<cmd>: the decoded parameters, the result, the records looked up."""
    out = ["struct vn_args_%s {" % c.name]
    for p in c.params:
        if p.array and p.const:
            out.append("   %s %s[%s];" % (ti.cname(p.type), p.name, "][".join(p.array)))
            continue
        d = p.decl()
        if ti.kind(p.type) in ("struct", "handle"):
            d = d.replace(p.type, ti.cname(p.type), 1)
        out.append("   %s;" % d)
    if c.cmd.ret != "void":
        out.append("   %s ret;" % c.cmd.ret)
    out.append("   struct vd_object *obj; /* record of the first (dispatchable) parameter */")
    if has_target(ti, c.name, c.cmd):
        out.append("   struct vd_object *target; /* record of the object destroyed, or NULL */")
    return lines(out + ["};", ""])


def new_ids_dec(ti, c, p):
    """Ids of new objects chosen by the guest (a non-const pointer to handles)."""
    fld = '"%s"' % p.name
    cast = ti.handle_cast(p.type)
    if not p.len:
        return lines([
            "if (vd_dec_pointer(d, false, %s)) {" % fld,
            "   a->%s = vd_dec_alloc(d, sizeof(*a->%s), 1, %s);" % (p.name, p.name, fld),
            "   if (a->%s) *a->%s = %svd_dec_new_id(d, %s);" % (p.name, p.name, cast, fld),
            "}"])
    cnt = ti.len_expr(p, "a->", c.params)
    return lines([
        "{",
        "   uint64_t n_ = vd_dec_array(d, (uint64_t)(%s), true, 8, %s);" % (cnt, fld),
        "   %s *p_ = n_ ? vd_dec_alloc(d, sizeof(*p_), n_, %s) : NULL;" % (
            ti.cname(p.type), fld),
        "   for (uint64_t i = 0; p_ && i < n_ && !d->failed; i++)",
        "      p_[i] = %svd_dec_new_id(d, %s);" % (cast, fld),
        "   a->%s = p_;" % p.name,
        "}"])


def param_dec(ti, c, i, p):
    fld = '"%s"' % p.name
    k = ti.kind(p.type)
    cast = ti.handle_cast(p.type)
    if i == 0 and k == "handle" and not p.ptr and ti.reg.resolve(p.type).dispatchable:
        return lines(["a->obj = vd_dec_lookup_obj(d, %s, %s);" % (ti.objtype(p.type), fld),
                      "a->%s = %s(a->obj ? a->obj->handle : 0);" % (p.name, cast)])
    if p.array:
        return emit_decode.member_dec(ti, c.name, p, "a->", c.params, "full")
    if p.ptr and not p.const and k == "handle":
        return new_ids_dec(ti, c, p)
    if not p.ptr and k == "handle" and i == 1 and has_target(ti, c.name, c.cmd):
        # The object being destroyed: keep its record so the handler has the id.
        return lines([
            "a->target = vd_dec_lookup_obj_optional(d, %s, %s);" % (ti.objtype(p.type), fld),
            "a->%s = %s(a->target ? a->target->handle : 0);" % (p.name, cast)])
    if not p.ptr and k == "handle":
        return emit_decode.handle_dec(ti, "a->" + p.name, p, fld, output=False)
    return emit_decode.member_dec(ti, c.name, p, "a->", c.params, "full",
                                  output=ti.is_output_param(p))


def fixed_wire(ti, c, i, p):
    """The wire size of parameter i when it is a handle or a scalar passed by value (no
    pointer, array or destroy target), else None."""
    k = ti.kind(p.type)
    if p.ptr or p.array or p.bitfield:
        return None
    if k == "scalar":
        return pad4(ti.wire(p.type))
    if k == "handle" and not (i == 1 and has_target(ti, c.name, c.cmd)):
        return 8
    return None


def fixed_prefix(ti, c):
    """A vkCmd* command's leading parameters of fixed wire size: [(param, offset, wire)]."""
    if not c.name.startswith("vkCmd"):
        return []
    out, off = [], 0
    for i, p in enumerate(c.params):
        w = fixed_wire(ti, c, i, p)
        if w is None:
            break
        out.append((p, off, w))
        off += w
    return out if len(out) > 1 else []


def fixed_param_dec(ti, i, p, off):
    """Parameter i at byte off of the prefix w_, whose bounds the caller checked."""
    at = "w_ + %d" % off
    fld = '"%s"' % p.name
    cast = ti.handle_cast(p.type)
    if ti.kind(p.type) == "scalar":
        return "memcpy(&a->%s, %s, sizeof(a->%s));\n" % (p.name, at, p.name)
    if i == 0 and ti.reg.resolve(p.type).dispatchable:
        return lines(["a->obj = vd_dec_lookup_obj_at(d, %s, %s, %s);" % (
                          at, ti.objtype(p.type), fld),
                      "a->%s = %s(a->obj ? a->obj->handle : 0);" % (p.name, cast)])
    opt = "true" if (p.optional[0] or p.noautovalidity) else "false"
    return "a->%s = %svd_dec_lookup_at(d, %s, %s, %s, %s);\n" % (
        p.name, cast, at, ti.objtype(p.type), opt, fld)


def fixed_prefix_dec(ti, c, prefix):
    """The fast path of the recording hot path: one bounds check for the whole prefix, then
    reads at fixed offsets (lookups through the dispatcher's cache).  Offline (no
    dispatcher) and near the end of the stream the fields are read one by one, as every
    other decoder does, so errors name the same field."""
    size = prefix[-1][1] + prefix[-1][2]
    scalars = [p for p, _, w in prefix if ti.kind(p.type) == "scalar"]
    fast = "".join(fixed_param_dec(ti, i, p, off) for i, (p, off, _) in enumerate(prefix))
    slow = "".join(param_dec(ti, c, i, p) for i, (p, _, _) in enumerate(prefix))
    check = ""
    if scalars:
        check = "_Static_assert(%s, \"wire sizes\");\n" % " && ".join(
            "sizeof(a->%s) <= %d" % (p.name, w) for p, _, w in prefix if p in scalars)
    return check + lines([
        "if (__builtin_expect(d->disp && vd_dec_remaining(d) >= %d, 1)) {" % size,
        "   const uint8_t *w_ = d->cur;",
        "   d->cur += %d;" % size]) + indent(fast) + "} else {\n" + indent(slow) + "}\n"


def command_decoder(ti, c):
    prefix = fixed_prefix(ti, c)
    body = fixed_prefix_dec(ti, c, prefix) if prefix else ""
    body += "".join(param_dec(ti, c, i, p) for i, p in enumerate(c.params) if i >= len(prefix))
    body = indent(body) if body else "   (void)d;\n   (void)a;\n"
    return render("command_decoder.c.in", name=c.name, body=body)


def command_reply(ti, c):
    """The reply: the command type, the result, then every output parameter."""
    body = ""
    if c.cmd.ret != "void":
        body += emit_encode.scalar_enc(ti, "a->ret", c.cmd.ret)
    body += "".join(emit_encode.member_enc(ti, c.name, p, "a->", c.params)
                    for p in c.params if ti.is_output_param(p))
    body = indent(body) if body else "   (void)a;\n"
    return render("command_reply.c.in", name=c.name, value=c.value, body=body)


def call_args(c):
    return ", ".join("a->" + p.name for p in c.params)


def create_handler(ti, c):
    """vkCreateX of a device child: call the host, register each new object under the id
    the guest chose."""
    out = created_param(ti, c.name, c.cmd)
    t = ti.reg.resolve(out.type)
    strip = lines("   vd_strip_mesa_structs(&((%s *)a->%s)->pNext);" % (ti.cname(p.type), p.name)
                  for p in c.params
                  if p.const and p.ptr == 1 and ti.kind(p.type) == "struct"
                  and ti.struct(p.type).has_pnext and not p.len)
    return render("create_handler.c.in", name=c.name, call=c.name[2:], args=call_args(c),
                  count=ti.len_expr(out, "a->", c.params) if out.len else "1",
                  out=out.name, ctype=ti.cname(out.type), type=t.name, short=t.name[2:],
                  objtype=t.objtypeenum, strip=strip)


def destroy_object(ti, tname):
    """The destructor vd_object_add registers for objects of type tname."""
    t = ti.reg.resolve(tname)
    return render("destroy_object.c.in", type=t.name, short=t.name[2:])


def destroy_handler(c):
    return render("destroy_handler.c.in", name=c.name)


def passthrough_handler(c):
    call = "vk->%s(%s)" % (c.name[2:], call_args(c))
    if c.cmd.ret != "void":
        call = "a->ret = " + call
    return render("passthrough_handler.c.in", name=c.name, call=call, fn=c.name[2:])


def generated_handlers(ti, plan):
    """The destructors of created types, then each command's generated handler."""
    created = sorted({ti.reg.resolve(created_param(ti, c.name, c.cmd).type).name
                      for c in plan.served("create")})
    out = "".join(destroy_object(ti, t) for t in created)
    for c in plan.commands:
        if c.how == "create":
            out += create_handler(ti, c)
        elif c.how == "destroy":
            out += destroy_handler(c)
        elif c.how == "pass":
            out += passthrough_handler(c)
    return out


HANDLER_FN = {"hand": "vd_handle_", "pass": "vd_pass_", "create": "vd_gen_", "destroy": "vd_gen_"}


def wrappers(c):
    """Casts from the table's void * signatures to the command's own."""
    out = render("command_wrappers.c.in", name=c.name)
    if c.how in HANDLER_FN:
        out += "static void vn_w_h_%s(struct vd_dispatch *p, void *a) { %s%s(p, a); }\n" % (
            c.name, HANDLER_FN[c.how], c.name)
    return out


def table_entry(c):
    if c.skip:
        return '   [%d] = { "%s", 0, NULL, NULL, NULL, false }, /* %s */\n' % (
            c.value, c.name, c.skip)
    h = "vn_w_h_%s" % c.name if c.how in HANDLER_FN else "NULL"
    return ('   [%d] = { "%s", sizeof(struct vn_args_%s), vn_w_dec_%s, %s, vn_w_rep_%s, %s },\n'
            % (c.value, c.name, c.name, c.name, h, c.name,
               "true" if c.how == "pass" else "false"))
