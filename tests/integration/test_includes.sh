#!/usr/bin/env bash
# test_includes.sh — the directories under src/ include each other without a cycle
# (scripts/check-includes.py; docs/design.md, "Layers"):
#   src_has_no_cycle     the checker accepts the real src/ tree
#   layering             every include edge of src/ goes down the documented layers
#                        (. > transport > backing > vk > context > sandbox > util > platform)
#   catches_cycle        on a copy of src/ where context/context.h includes vk/vk.h (the old
#                        context -> vk -> context cycle), the checker exits 1 and prints
#                        the cycle with the file and line behind each edge
#   catches_local_cycle  an include relative to the including file's directory counts too
#                        (a fixture tree a/ -> b/ -> a/ whose b/ includes "../a/x.h")
#   ignores_generated    an include of a file that is not under src/ (vn_protocol.h, which
#                        the build generates) adds no edge
#   no_main_private      main.c includes no *_priv.h header
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init includes

CHECK=$REPO_ROOT/scripts/check-includes.py

out=$TEST_TMP/real.out
if python3 "$CHECK" --graph "$REPO_ROOT/src" >"$out" 2>&1; then
  pass "includes/src_has_no_cycle"
else
  fail "includes/src_has_no_cycle" "$(grep -m3 'cycle\|#include' "$out")"
fi

# The layers, lowest last; an edge may only go to a layer further down the list.
layers=(. transport backing vk context sandbox util platform)
rank() {
  local i
  for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && echo "$i" && return; done
  echo -1
}
bad=
nedges=0
while read -r from arrow to rest; do
  [ "$arrow" = "->" ] || continue
  nedges=$((nedges + 1))
  rf=$(rank "$from")
  rt=$(rank "$to")
  if [ "$rf" -lt 0 ] || [ "$rt" -lt 0 ] || [ "$rt" -le "$rf" ]; then
    bad="$bad $from->$to $rest;"
  fi
done <"$out"
if [ -z "$bad" ] && [ "$nedges" -ge 5 ]; then
  pass "includes/layering"
else
  fail "includes/layering" \
    "edges against the layers (${layers[*]}):${bad:- none, but only $nedges edges read}"
fi

# The cycle the issue describes, put back on a copy of the tree.
tree=$TEST_TMP/src
cp -r "$REPO_ROOT/src" "$tree"
sed -i 's|^#include "context/blob.h"|&\n#include "vk/vk.h"|' "$tree/context/context.h"
out=$TEST_TMP/cycle.out
python3 "$CHECK" "$tree" >"$out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q 'include cycle: context -> vk -> context' "$out" &&
  grep -q 'context/context.h:[0-9]*: #include "vk/vk.h"  (context -> vk)' "$out"; then
  pass "includes/catches_cycle"
else
  fail "includes/catches_cycle" "exit $rc (want 1): $(head -n 3 "$out")"
  show_file "$out"
fi

fx=$TEST_TMP/fixture
mkdir -p "$fx/a" "$fx/b" "$fx/c"
printf '#include "b/y.h"\n' >"$fx/a/x.h"
printf '#include "../a/x.h"\n' >"$fx/b/y.h"
printf '#include "vn_protocol.h"\n#include "a/x.h"\n' >"$fx/c/z.c"
out=$TEST_TMP/local.out
python3 "$CHECK" "$fx" >"$out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q 'include cycle: a -> b -> a' "$out" &&
  grep -q 'b/y.h:1: #include "../a/x.h"  (b -> a)' "$out"; then
  pass "includes/catches_local_cycle"
else
  fail "includes/catches_local_cycle" "exit $rc (want 1): $(head -n 3 "$out")"
fi

# Without b/'s include the fixture is acyclic; vn_protocol.h (not in the tree) adds nothing.
: >"$fx/b/y.h"
out=$TEST_TMP/generated.out
python3 "$CHECK" --graph "$fx" >"$out" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q '^c -> a ' "$out" && ! grep -q 'vn_protocol' "$out"; then
  pass "includes/ignores_generated"
else
  fail "includes/ignores_generated" "exit $rc (want 0): $(head -n 3 "$out")"
fi

if grep -n '#include "[^"]*_priv\.h"' "$REPO_ROOT/src/main.c" >"$TEST_TMP/priv.out"; then
  fail "includes/no_main_private" "$(head -n 1 "$TEST_TMP/priv.out")"
else
  pass "includes/no_main_private"
fi
test_finish
