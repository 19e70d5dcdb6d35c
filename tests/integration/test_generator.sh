#!/usr/bin/env bash
# test_generator.sh — command handling is visible ('venusd commands') and fail-closed (the
# generator refuses to build when a hand-written handler is missing, misnamed or not
# compiled; see docs/design.md, "The generator").
#
#   commands/*      'venusd commands' lists every name of protocol/venus_command_types.tsv
#                   and venus_command_types_mesa26.tsv (up to venus_protocol spec 3) once,
#                   with its type value; vkCmdFillBuffer is hand-written at the line of
#                   src/vk/range_check.c that holds its VD_HANDLER; every [hand-written] command
#                   of protocol/manual_commands.txt is served by a VD_HANDLER; --help works
#   gen/*           on a copy of the source tree, configured with meson in $TEST_TMP, the
#                   generator's target (src/vn_protocol.h) builds; then, one change at a time
#                   and without reconfiguring (the generator's depfile must notice):
#     uncompiled    a new src/vk file with a VD_HANDLER that src/meson.build does not compile
#     unknown       a VD_HANDLER naming no command of the protocol
#     spaced        the same, spelled "VD_HANDLER( name )"
#     alias         a VD_HANDLER naming an alias (vkResetQueryPoolEXT)
#     duplicate     a second VD_HANDLER(vkCmdFillBuffer)
#     missing       VD_HANDLER(vkCmdFillBuffer) removed (it is listed under [hand-written])
#                   each must fail with the generator's file:line message; and after the
#                   copy is restored the target builds again.
# Needs meson, ninja and python3 (the build's own tools).  The binary under test is $VENUSD.
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

test_init generator

TSV=$REPO_ROOT/protocol/venus_command_types.tsv
MANUAL=$REPO_ROOT/protocol/manual_commands.txt

# ---- venusd commands ----------------------------------------------------------------

OUT=$TEST_TMP/commands.txt
if "$VENUSD" commands >"$OUT" 2>"$TEST_TMP/commands.err"; then
  pass generator/commands/runs
else
  fail generator/commands/runs "venusd commands exited $?: $(tail -n 1 "$TEST_TMP/commands.err")"
fi

# Every (value, name) of the protocol's table appears exactly once, and nothing else.
# The build's protocol: Mesa 25.0.7's command types and the newer ones, but for MESA commands
# of a venus_protocol spec above the one venusd speaks (venus_command_types_mesa26.tsv's third
# column; spec 4's descriptor heaps).
expected=$({
  tail -n +2 "$TSV"
  tail -n +2 "${TSV%.tsv}_mesa26.tsv" | awk -F'\t' '$3 == "-" || $3 <= 3'
} | awk -F'\t' 'NF >= 2 { print $1 " " $2 }' | sort)
listed=$(awk '{ print $1 " " $2 }' "$OUT" | sort)
if [ -n "$expected" ] && [ "$expected" = "$listed" ]; then
  pass generator/commands/every_command
else
  fail generator/commands/every_command "$(printf '%s\n' "$expected" | wc -l) names in the tsv, \
$(wc -l <"$OUT") lines listed; differences: $(diff <(printf '%s\n' "$expected") \
<(printf '%s\n' "$listed") | grep '^[<>]' | head -n 5 | tr '\n' ' ')"
fi

# Sorted by type value.
if awk '{ print $1 }' "$OUT" | sort -n -c 2>/dev/null; then
  pass generator/commands/sorted
else
  fail generator/commands/sorted "the lines are not sorted by command type value"
fi

fill=$(awk '$2 == "vkCmdFillBuffer"' "$OUT")
where=$(printf '%s\n' "$fill" | awk '$3 == "hand-written" { print $4 }')
if [[ $where =~ ^src/vk/range_check\.c:([0-9]+)$ ]]; then
  pass generator/commands/fill_buffer_hand_written
  line=${BASH_REMATCH[1]}
  if sed -n "${line}p" "$REPO_ROOT/src/vk/range_check.c" | grep -q '^VD_HANDLER(vkCmdFillBuffer)'; then
    pass generator/commands/fill_buffer_line
  else
    fail generator/commands/fill_buffer_line "src/vk/range_check.c:$line is not VD_HANDLER(vkCmdFillBuffer) \
(was $VENUSD built from this tree?)"
  fi
else
  fail generator/commands/fill_buffer_hand_written "expected 'hand-written src/vk/range_check.c:N', got: $fill"
fi

# Every command listed under [hand-written] is served by a VD_HANDLER.
bad=$(awk '/^\[/ { s = $0; next } s == "[hand-written]" { sub(/#.*/, ""); if (NF) print $1 }' "$MANUAL" |
  while read -r n; do
    awk -v n="$n" '$2 == n && ($3 == "hand-written" || $3 == "transport") { ok = 1 }
                   END { exit !ok }' "$OUT" || printf '%s ' "$n"
  done)
if [ -z "$bad" ]; then
  pass generator/commands/required_hand_written
else
  fail generator/commands/required_hand_written "listed under [hand-written] but not served by a VD_HANDLER: $bad"
fi

# (output captured first: with pipefail, grep -q closing the pipe early could make a
# slow writer's SIGPIPE fail the check)
cmd_help=$("$VENUSD" commands --help 2>&1)
top_help=$("$VENUSD" --help 2>&1)
if grep -q '^Usage: venusd commands' <<<"$cmd_help" && grep -q 'venusd commands' <<<"$top_help"; then
  pass generator/commands/help
else
  fail generator/commands/help "'venusd commands --help' or 'venusd --help' does not describe it"
fi
if "$VENUSD" commands --bogus >/dev/null 2>&1; then
  fail generator/commands/bad_argument "'venusd commands --bogus' exited 0"
else
  pass generator/commands/bad_argument
fi

# ---- the generator's rules, through meson and ninja on a copy of the tree ------------

TREE=$TEST_TMP/tree
BUILD=$TEST_TMP/build
GEN_TARGET=src/vn_protocol.h
mkdir -p "$TREE"
for f in meson.build meson_options.txt gen protocol src tests bench fuzz data docs; do
  [ -e "$REPO_ROOT/$f" ] && cp -r "$REPO_ROOT/$f" "$TREE/"
done
ln -s "$REPO_ROOT/third_party" "$TREE/third_party"

if ! meson setup "$BUILD" "$TREE" >"$TEST_TMP/meson-setup.log" 2>&1; then
  fail generator/gen/setup "meson setup of the copied tree failed"
  show_file "$TEST_TMP/meson-setup.log" 20
  test_finish
fi

# gen_build NAME — runs ninja for the generator's target; output in $TEST_TMP/NAME.log.
gen_build() {
  ninja -C "$BUILD" "$GEN_TARGET" >"$TEST_TMP/$1.log" 2>&1
}

# expect_fail NAME MESSAGE — the target must fail and its output contain MESSAGE (fixed).
expect_fail() {
  local name=$1 msg=$2
  if gen_build "$name"; then
    fail "generator/gen/$name" "the generator accepted it (expected: $msg)"
  elif grep -qF -- "$msg" "$TEST_TMP/$name.log"; then
    pass "generator/gen/$name"
    note "$(grep -F -- "$msg" "$TEST_TMP/$name.log" | head -n 1)"
  else
    fail "generator/gen/$name" "failed without the message '$msg': \
$(grep -v '^ninja:\|^FAILED:\|^\[' "$TEST_TMP/$name.log" | head -n 3 | tr '\n' ' ')"
  fi
}

# snapshot/restore FILE — keep and put back a pristine copy of a file of the copied tree.
snapshot() { cp "$TREE/$1" "$TEST_TMP/pristine.$(basename "$1")"; }
restore() { cp "$TEST_TMP/pristine.$(basename "$1")" "$TREE/$1"; }

if gen_build control; then
  pass generator/gen/control
else
  fail generator/gen/control "the unchanged copy does not build: $(grep -m 3 'error' "$TEST_TMP/control.log" | tr '\n' ' ')"
  show_file "$TEST_TMP/control.log" 15
  test_finish
fi

# (a) a handler in a file the core library does not compile; the file is new, so only the
# depfile's directory entries make ninja re-run the generator.
printf '#include "vk/vk_common.h"\n\nVD_HANDLER(vkCmdSetLineWidth)\n{\n}\n' \
  >"$TREE/src/vk/zz_uncompiled.c"
expect_fail uncompiled "src/vk/zz_uncompiled.c:3: error: VD_HANDLER(vkCmdSetLineWidth) is in src/vk/zz_uncompiled.c, which is not compiled into the core library"
rm -f "$TREE/src/vk/zz_uncompiled.c"

# (b) a handler for a command the protocol does not have, in a compiled file.
snapshot src/vk/pool.c
printf '\nVD_HANDLER(vkFrobnicateEXT)\n{\n}\n' >>"$TREE/src/vk/pool.c"
n=$(wc -l <"$TREE/src/vk/pool.c")
expect_fail unknown "src/vk/pool.c:$((n - 2)): error: VD_HANDLER(vkFrobnicateEXT): vkFrobnicateEXT is not a command of the Venus protocol"
restore src/vk/pool.c

printf '\n  VD_HANDLER ( vkFrobnicateEXT )\n{\n}\n' >>"$TREE/src/vk/pool.c"
expect_fail spaced "error: VD_HANDLER(vkFrobnicateEXT): vkFrobnicateEXT is not a command of the Venus protocol"
restore src/vk/pool.c

printf '\nVD_HANDLER(vkResetQueryPoolEXT)\n{\n}\n' >>"$TREE/src/vk/pool.c"
expect_fail alias "error: VD_HANDLER(vkResetQueryPoolEXT): vkResetQueryPoolEXT is an alias of vkResetQueryPool"
restore src/vk/pool.c

# (c) two handlers for one command.
first=$(grep -n '^VD_HANDLER(vkCmdFillBuffer)' "$TREE/src/vk/range_check.c" | cut -d: -f1)
printf '\nVD_HANDLER(vkCmdFillBuffer)\n{\n}\n' >>"$TREE/src/vk/pool.c"
n=$(wc -l <"$TREE/src/vk/pool.c")
# The generator scans files in name order: pool.c comes before range_check.c.
expect_fail duplicate "src/vk/range_check.c:$first: error: VD_HANDLER(vkCmdFillBuffer): a second \
handler for vkCmdFillBuffer (the first is at src/vk/pool.c:$((n - 2)))"
restore src/vk/pool.c

# (d) a command listed under [hand-written] loses its handler.
snapshot src/vk/range_check.c
sed -i 's/^VD_HANDLER(vkCmdFillBuffer)/static void removed_fill_buffer(struct vd_dispatch *disp, struct vn_args_vkCmdFillBuffer *a)/' \
  "$TREE/src/vk/range_check.c"
listed_at=$(grep -n '^vkCmdFillBuffer\b' "$TREE/protocol/manual_commands.txt" | cut -d: -f1)
expect_fail missing "protocol/manual_commands.txt:$listed_at: error: vkCmdFillBuffer must be hand-written (listed under [hand-written]) but no .c file under src/ has VD_HANDLER(vkCmdFillBuffer)"
restore src/vk/range_check.c

if gen_build restored; then
  pass generator/gen/restored
else
  fail generator/gen/restored "the restored copy does not build: $(grep -m 3 'error' "$TEST_TMP/restored.log" | tr '\n' ' ')"
fi

test_finish
