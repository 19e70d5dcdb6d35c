#!/usr/bin/env bash
# test_vulkaninfo_full.sh — full vulkaninfo through venusd, compared with native lavapipe.
#
# Checks:
#   exit             vulkaninfo through venusd exits 0
#   device_name      deviceName is exactly "Virtio-GPU Venus (<native deviceName>)"
#   api_version      == min(native, 1.3) (1.4 for a Mesa 26 client, VULKANINFO_CLIENT below),
#                    >= the reference fixture's
#   swapchain        VK_KHR_swapchain (+ mutable_format, incremental_present) are listed
#   synchronization2 VK_KHR_synchronization2 is listed (what Mesa's Venus needs for 1.3)
#   extensions       every native device extension missing through Venus, and every extra
#                    one, is explained in venus-expected-diffs.txt
#   extension_revisions  a passed-through extension has revision min(native, protocol cap)
#   reference_extensions  >= the reference fixture's extension count, and a superset of it
#   features / limits / properties / queue_families
#                    every field of VkPhysicalDeviceFeatures, the Vulkan11/12/13 feature
#                    structs, VkPhysicalDeviceLimits and every other feature/property struct
#                    printed on both sides is equal, unless venus-expected-diffs.txt explains
#                    it; a feature may never be true through Venus and false natively
#   clean_exit       venusd exits 0 on SIGTERM with no sanitizer report
#
#   test_vulkaninfo_full.sh --print-protocol-block
#     prints the generated part of venus-expected-diffs.txt (native extensions that are not
#     in protocol/venus_extensions_mesa25.tsv) from the live native vulkaninfo.
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ALLOW=$LIB_DIR/venus-expected-diffs.txt
TSV=$REPO_ROOT/protocol/venus_extensions_mesa25.tsv
REF=$LIB_DIR/fixtures/reference-vulkaninfo.txt
# VULKANINFO_CLIENT=NAME: the guest is that client of tests/clients/mesa-clients.sh (run by
# test_mesa_clients.sh), compared with the host's native lavapipe (the driver venusd uses):
# trixie (Mesa 25.0.7 in the chroot) adds venus-expected-diffs-trixie.txt to the list;
# backports and sid (Mesa 26.1/26.2, the newest protocol) use venus-expected-diffs-mesa26.txt
# (plus venus-expected-diffs-NAME.txt where a client has one), the newest protocol's table
# and an apiVersion cap of 1.4.
CLIENT=${VULKANINFO_CLIENT:-}
export VULKANINFO_API_CAP=1.3
NAME=vulkaninfo_full
case $CLIENT in
  '') ;;
  trixie) ALLOW_EXTRA=$LIB_DIR/venus-expected-diffs-trixie.txt ;;
  *)
    [ -f "$LIB_DIR/venus-expected-diffs-$CLIENT.txt" ] &&
      ALLOW_EXTRA=$LIB_DIR/venus-expected-diffs-$CLIENT.txt
    ALLOW=$LIB_DIR/venus-expected-diffs-mesa26.txt
    TSV=$REPO_ROOT/protocol/venus_extensions_mesa26.tsv
    VULKANINFO_API_CAP=1.4
    ;;
esac
[ -n "$CLIENT" ] && NAME=vulkaninfo_full/$CLIENT

# The comparison, in Python. argv: mode native venus reference allowlist tsv
# mode "compare" prints "RESULT PASS name" / "RESULT FAIL name: reason" and indented notes;
# mode "protocol-block" prints allow-list lines for native extensions outside the protocol.
read -r -d '' COMPARE_PY <<'PYEOF'
import fnmatch, os, re, sys
# The protocol's apiVersion cap for this guest: 1.3 for Mesa 25.0.7, 1.4 for Mesa 26 under
# venusd's newest protocol (VULKANINFO_API_CAP, set by the shell part).
API_CAP = tuple(int(x) for x in os.environ.get("VULKANINFO_API_CAP", "1.3").split("."))

def parse(path):
    """vulkaninfo (text) -> {section: {key: value}} for GPU0, plus extensions."""
    lines = open(path, errors="replace").read().split("\n")
    try:
        start = lines.index("GPU0:")
    except ValueError:
        return None
    secs, ext_count = {}, None
    cur = special = None
    last = item = None
    i = start + 1
    while i < len(lines):
        l = lines[i]
        if re.match(r"^GPU\d+:$", l):
            break
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        # A header is a line at column 0 underlined with ===/---; vulkaninfo 1.3.239
        # sometimes prints "Device Extensions: count = N" without the underline.
        is_ext_hdr = l.startswith("Device Extensions: count")
        if is_ext_hdr or (l and not l.startswith("\t") and re.match(r"^[=-]{3,}$", nxt)):
            name = l.split(":")[0].strip()
            if name == "Device Extensions":
                m = re.search(r"count = (\d+)", l)
                ext_count = int(m.group(1)) if m else None
            cur = secs.setdefault(name, {})
            special = name if name in ("VkQueueFamilyProperties",
                                       "VkPhysicalDeviceMemoryProperties") else None
            last = item = None
            i += 2 if re.match(r"^[=-]{3,}$", nxt) else 1
            continue
        i += 1
        if cur is None:
            continue
        if re.match(r"^\s*[=-]{3,}\s*$", l):
            continue
        if special == "VkQueueFamilyProperties":
            m = re.match(r"^\tqueueProperties\[(\d+)\]:", l)
            if m:
                item = m.group(1)
                cur["familyCount"] = str(int(item) + 1)
                continue
            m = re.match(r"^\t\t([A-Za-z][\w ]*?)\s*= (.*)$", l)
            if m and item is not None:
                cur["queueProperties[%s].%s" % (item, m.group(1))] = m.group(2).strip()
            continue
        if special:  # memory: not compared (see venus-expected-diffs.txt); keep counts
            m = re.match(r"^(memoryHeaps|memoryTypes): count = (\d+)", l)
            if m:
                cur[m.group(1) + "Count"] = m.group(2)
            continue
        if l == "":
            cur = None
            continue
        if l.startswith("\t\t"):
            if last is not None:
                cur[last] = (cur[last] + " | " + l.strip()).strip(" |")
            continue
        if not l.startswith("\t"):
            cur = None
            continue
        s = l[1:]
        m = re.match(r"^(VK_\w+)\s*: extension revision (\d+)", s)
        if m:
            k, v = m.group(1), m.group(2)
        elif " = " in s:
            k, v = s.split(" = ", 1)
        elif ":" in s:
            k, v = s.split(":", 1)
        else:
            k, v = s, ""
        last = k.strip()
        cur[last] = v.strip()
    return {"secs": secs, "ext_count": ext_count}

def exts(p):
    return p["secs"].get("Device Extensions", {})

def version(s):
    m = re.match(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?", s or "")
    return tuple(int(x or 0) for x in m.groups()) if m else None

def load_tsv(path):
    cap = {}
    for l in open(path).read().split("\n")[1:]:
        f = l.split("\t")
        if len(f) >= 5 and f[4] != "served":
            continue  # in the protocol, but venusd does not serve it
        if len(f) >= 3 and f[1].startswith("VK_"):
            cap[f[1]] = int(f[2])
    return cap

def load_allow(path):
    out = []
    for n, l in enumerate(open(path), 1):
        l = l.rstrip("\n")
        if not l.strip() or l.lstrip().startswith("#"):
            continue
        f = l.split(None, 2)
        if len(f) < 3 or f[0] not in ("ext-missing", "ext-extra", "field", "section"):
            print("RESULT FAIL allowlist: %s:%d: want '<ext-missing|ext-extra|field|section> "
                  "<key> <reason>', got %r" % (path, n, l))
            continue
        out.append((f[0], f[1], f[2]))
    return out

NOT_IN_PROTOCOL = "not in the Venus protocol of Mesa 25.0.7"

def protocol_block(native, tsv, allow):
    hand = {k for kind, k, r in allow if kind == "ext-missing" and not r.startswith(NOT_IN_PROTOCOL)}
    names = sorted(e for e in exts(native) if e not in tsv and e not in hand)
    width = max([len(n) for n in names] + [0])
    for e in names:
        print("ext-missing  %-*s  %s (protocol/venus_extensions_mesa25.tsv)"
              % (width, e, NOT_IN_PROTOCOL))

results = []
def result(ok, name, reason=""):
    print("RESULT %s %s%s" % ("PASS" if ok else "FAIL", name, "" if ok else ": " + reason))

def note(s):
    print("    " + s)

def compare(native, venus, ref, tsv, allow):
    allowed = {}
    for kind, k, r in allow:
        allowed.setdefault(kind, []).append((k, r))

    def allowed_reason(kind, key):
        for pat, r in allowed.get(kind, []):
            if fnmatch.fnmatchcase(key, pat):
                return r
        return None

    ns, vs = native["secs"], venus["secs"]
    nprops = ns.get("VkPhysicalDeviceProperties", {})
    vprops = vs.get("VkPhysicalDeviceProperties", {})

    # device name
    want = "Virtio-GPU Venus (%s)" % nprops.get("deviceName", "?")
    got = vprops.get("deviceName")
    result(got == want, "device_name", "deviceName %r, expected %r" % (got, want))

    # apiVersion
    nv, vv = version(nprops.get("apiVersion")), version(vprops.get("apiVersion"))
    rv = version(ref["secs"].get("VkPhysicalDeviceProperties", {}).get("apiVersion")) if ref else None
    if not nv or not vv:
        result(False, "api_version", "cannot read apiVersion (native %r, venus %r)"
               % (nprops.get("apiVersion"), vprops.get("apiVersion")))
    else:
        cap = min(nv[:2], API_CAP)
        why = []
        if vv[:2] < (1, 1):
            why.append("below 1.1, which Mesa's Venus requires")
        if vv[:2] > cap:
            why.append("above min(native %d.%d, %d.%d)" % (nv[:2] + API_CAP))
        # venusd gives every guest what Mesa's Venus needs for 1.3 (SYNC_FD semaphore
        # import, for VK_KHR_synchronization2), emulated where the host lacks it.
        if vv[:2] < cap:
            why.append("below min(native %d.%d, %d.%d)" % (nv[:2] + API_CAP))
        if rv and vv[:2] < rv[:2]:
            why.append("below the reference's %d.%d" % rv[:2])
        note("apiVersion: native %s, venus %s, reference %s" % (
            nprops.get("apiVersion"), vprops.get("apiVersion"),
            "%d.%d.%d" % rv if rv else "?"))
        result(not why, "api_version", "apiVersion %d.%d.%d is %s" % (vv + (" and ".join(why),)))

    # extensions
    ne, ve = exts(native), exts(venus)
    # Mesa's Venus offers its WSI only when the renderer lists dma-buf memory, DRM format
    # modifiers and the foreign queue family and imports SYNC_FD semaphores: venusd must
    # make all of that true on any host.
    wsi = ("VK_KHR_swapchain", "VK_KHR_swapchain_mutable_format", "VK_KHR_incremental_present")
    result(all(e in ve for e in wsi), "swapchain",
           "missing through Venus: " + " ".join(e for e in wsi if e not in ve))
    result("VK_KHR_synchronization2" in ve, "synchronization2",
           "VK_KHR_synchronization2 missing through Venus (the guest caps it at 1.2 then)")
    problems = []
    for who, p in (("native", native), ("venus", venus)):
        if p["ext_count"] is None or p["ext_count"] != len(exts(p)):
            problems.append("parsed %d %s extensions, header says %s"
                            % (len(exts(p)), who, p["ext_count"]))
    missing = sorted(set(ne) - set(ve))
    extra = sorted(set(ve) - set(ne))
    bad_missing = [e for e in missing if allowed_reason("ext-missing", e) is None]
    bad_extra = [e for e in extra if allowed_reason("ext-extra", e) is None]
    if bad_missing:
        problems.append("native extensions missing through Venus without a reason in "
                        "venus-expected-diffs.txt: " + " ".join(bad_missing))
    if bad_extra:
        problems.append("extensions through Venus that the host lacks, without a reason: "
                        + " ".join(bad_extra))
    stale = [k for kind, k, r in allow
             if kind == "ext-missing" and r.startswith(NOT_IN_PROTOCOL) and k in tsv]
    if stale:
        problems.append("allow-list says not in the protocol, but the TSV has: " + " ".join(stale))
    note("device extensions: native %d, venus %d (%d missing, all explained: %s; %d extra)"
         % (len(ne), len(ve), len(missing), "yes" if not bad_missing else "no", len(extra)))
    unused = [k for kind, k, r in allow if kind == "ext-missing" and k in ne and k in ve]
    if unused:
        note("allowed to be missing but present through Venus: " + " ".join(unused))
    result(not problems, "extensions", "; ".join(problems))

    revs = []
    for e in sorted(set(ne) & set(ve)):
        if e not in tsv:
            continue  # implemented by the guest driver itself
        want = min(int(ne[e]), tsv[e])
        if int(ve[e]) != want:
            revs.append("%s: %s (native %s, protocol cap %d)" % (e, ve[e], ne[e], tsv[e]))
    result(not revs, "extension_revisions", "; ".join(revs))

    # reference fixture
    if ref is None:
        result(False, "reference_extensions", "cannot parse the reference fixture")
    else:
        re_ = exts(ref)
        why = []
        if len(ve) < len(re_):
            why.append("%d device extensions, the reference has %d" % (len(ve), len(re_)))
        lost = sorted(set(re_) - set(ve))
        if lost:
            why.append("missing extensions the reference exposes: " + " ".join(lost))
        note("reference fixture: %d device extensions; venusd: %d" % (len(re_), len(ve)))
        result(not why, "reference_extensions", "; ".join(why))

    # structs
    def counterpart(name, other):
        if name in other:
            return name
        base = re.sub(r"(KHR|EXT)$", "", name)
        if base != name and base in other:
            return base
        for suf in ("KHR", "EXT"):
            if name + suf in other:
                return name + suf
        return None

    api13 = vv is not None and vv[:2] >= (1, 3)
    groups = {"features": [], "limits": [], "properties": [], "queue_families": []}
    required = {
        "VkPhysicalDeviceFeatures": "features", "VkPhysicalDeviceVulkan11Features": "features",
        "VkPhysicalDeviceVulkan12Features": "features", "VkPhysicalDeviceVulkan13Features": "features",
        "VkPhysicalDeviceLimits": "limits",
        "VkPhysicalDeviceProperties": "properties", "VkPhysicalDeviceSparseProperties": "properties",
        "VkPhysicalDeviceVulkan11Properties": "properties",
        "VkPhysicalDeviceVulkan12Properties": "properties",
        "VkPhysicalDeviceVulkan13Properties": "properties",
        "VkQueueFamilyProperties": "queue_families",
    }
    def group_of(name):
        if name in required:
            return required[name]
        if name.startswith("VkPhysicalDevice") and "Features" in name:
            return "features"
        if name.startswith("VkPhysicalDevice") and "Properties" in name:
            return "properties"
        return None

    def section_allowed(name):
        # A "section" entry lets a struct be absent through Venus and skips comparing it,
        # except the Vulkan 1.3 structs of a device that reports 1.3 through Venus.
        if name.startswith("VkPhysicalDeviceVulkan13") and api13:
            return None
        return allowed_reason("section", name)

    for name, g in required.items():
        if name in ns and counterpart(name, vs) is None:
            r = section_allowed(name)
            if r is None:
                groups[g].append("%s missing through Venus" % name)
            else:
                note("allowed: %s not printed through Venus (%s)" % (name, r))
    compared = {g: 0 for g in groups}
    allowed_diffs = []
    for name in sorted(ns):
        g = group_of(name)
        vname = counterpart(name, vs)
        if g is None or vname is None:
            continue  # not a struct we compare, or one of an extension Venus hides
        r = section_allowed(name)
        if r is not None:
            note("not compared: %s (%s)" % (name, r))
            continue
        nsec, vsec = ns[name], vs[vname]
        for k in sorted(set(nsec) | set(vsec)):
            compared[g] += 1
            a, b = nsec.get(k), vsec.get(k)
            if a == b:
                continue
            key = "%s.%s" % (name, k)
            r = allowed_reason("field", key)
            if r is None and vname != name:
                r = allowed_reason("field", "%s.%s" % (vname, k))
            if g == "features" and a == "false" and b == "true":
                groups[g].append("%s: true through Venus but false natively" % key)
            elif r is None:
                groups[g].append("%s: native %r, venus %r" % (key, a, b))
            else:
                allowed_diffs.append("%s: native %r, venus %r" % (key, a, b))
    for d in allowed_diffs:
        note("allowed: " + d)
    for g, errs in groups.items():
        if compared[g] == 0 and not errs:
            errs.append("nothing compared (could not parse the %s)" % g)
        for e in errs[:40]:
            note("DIFF " + e)
        note("%s: %d fields compared" % (g, compared[g]))
        result(not errs, g, "%d unexplained difference(s), first: %s" % (len(errs), errs[0])
               if errs else "")

def main():
    mode, npath, vpath, rpath, apath, tpath = sys.argv[1:7]
    native = parse(npath)
    tsv = load_tsv(tpath)
    allow = load_allow(apath)
    if native is None:
        print("RESULT FAIL native_parse: no GPU0 in the native vulkaninfo output")
        return
    if mode == "protocol-block":
        protocol_block(native, tsv, allow)
        return
    venus = parse(vpath)
    if venus is None:
        print("RESULT FAIL compare: no GPU0 in vulkaninfo output through venusd")
        return
    ref = parse(rpath)
    compare(native, venus, ref, tsv, allow)

main()
PYEOF

# ---- --print-protocol-block ---------------------------------------------------------
if [ "${1:-}" = --print-protocol-block ]; then
  tmp=$(mktemp -d)
  native_client vulkaninfo >"$tmp/native.txt" 2>/dev/null ||
    { echo "native vulkaninfo failed" >&2; rm -rf "$tmp"; exit 1; }
  python3 -c "$COMPARE_PY" protocol-block "$tmp/native.txt" - - "$ALLOW" "$TSV"
  rm -rf "$tmp"
  exit 0
fi

test_init vulkaninfo_full
if [ -n "${ALLOW_EXTRA:-}" ]; then
  cat "$ALLOW" "$ALLOW_EXTRA" >"$TEST_TMP/allow.txt"
  ALLOW=$TEST_TMP/allow.txt
fi

# Native first: if lavapipe itself does not work, nothing below means anything.
native_client vulkaninfo >"$TEST_TMP/native.txt" 2>"$TEST_TMP/native.err"
rc=$?
if [ "$rc" != 0 ] || ! grep -q '^GPU0:' "$TEST_TMP/native.txt"; then
  fail $NAME/native "native vulkaninfo on lavapipe exited $rc (see $TEST_TMP/native.err)"
  show_file "$TEST_TMP/native.err"
  test_finish
fi

start_venusd_or_fail $NAME/start || test_finish

VENUS_CLIENT=$CLIENT venus_client vulkaninfo >"$TEST_TMP/venus.txt" 2>"$TEST_TMP/venus.err"
rc=$?
if [ "$rc" = 0 ]; then
  pass $NAME/exit
else
  fail $NAME/exit "vulkaninfo through venusd exited $rc$([ "$rc" = 137 ] && echo " (killed after ${CLIENT_TIMEOUT}s)")"
  show_file "$TEST_TMP/venus.err"
  show_file "$VD_LOGFILE"
fi
if grep -Eq "$VENUS_DEVICE_RE" "$TEST_TMP/venus.txt"; then
  pass $NAME/venus_device
else
  fail $NAME/venus_device "output does not contain 'Virtio-GPU Venus (llvmpipe'"
fi

python3 -c "$COMPARE_PY" compare "$TEST_TMP/native.txt" "$TEST_TMP/venus.txt" "$REF" \
  "$ALLOW" "$TSV" >"$TEST_TMP/compare.out" 2>&1
while IFS= read -r line; do
  case $line in
    "RESULT PASS "*) pass "$NAME/${line#RESULT PASS }" ;;
    "RESULT FAIL "*)
      rest=${line#RESULT FAIL }
      fail "$NAME/${rest%%: *}" "${rest#*: }"
      ;;
    *) printf '%s\n' "$line" ;;
  esac
done <"$TEST_TMP/compare.out"
grep -q '^RESULT ' "$TEST_TMP/compare.out" ||
  fail $NAME/compare "the comparison produced no results: $(tail -n 1 "$TEST_TMP/compare.out")"

stop_venusd $NAME/clean_exit
test_finish
