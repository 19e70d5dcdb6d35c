#!/usr/bin/env bash
# The C sources follow .clang-format (Mesa-like: 3-space indent, 100 columns, function
# braces on their own line): clang-format --dry-run --Werror over every tracked .c and .h
# file except the generator's golden outputs (tests/gen/, which must stay byte-identical to
# what the generator writes).  Fix a failure with:
#   clang-format -i $(git ls-files '*.c' '*.h' | grep -v '^tests/gen/')
# Also checks that the check can fail: a badly indented copy of a source file is reported.
. "$(dirname "$0")/lib.sh"
test_init format

if ! command -v clang-format >/dev/null; then
  fail "format/clang_format" "clang-format not found (scripts/setup-deps.sh installs it)"
  test_finish
fi
if [ ! -f "$REPO_ROOT/.clang-format" ]; then
  fail "format/config" "no .clang-format at the repository root"
  test_finish
fi
cd "$REPO_ROOT" || exit 1
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h' | grep -v '^tests/gen/')
else
  mapfile -t files < <(find src tests fuzz bench -name '*.[ch]' -not -path 'tests/gen/*' | sort)
fi
out=$TEST_TMP/format.out
if [ "${#files[@]}" -gt 50 ] && clang-format --dry-run --Werror "${files[@]}" >"$out" 2>&1; then
  pass "format/sources_follow_clang_format"
else
  fail "format/sources_follow_clang_format" \
    "$(grep -c 'error:' "$out") lines need formatting (${#files[@]} files), first: $(grep -m1 'error:' "$out"); run clang-format -i on them"
fi

# A copy of a source file with one line indented by 2 instead of 3 must be reported.
bad=$TEST_TMP/bad.c
cp src/context/ring.c "$bad"
sed -i '0,/^   [a-z]/s/^   \([a-z]\)/  \1/' "$bad"
if ! (cd "$TEST_TMP" && cp "$REPO_ROOT/.clang-format" . &&
  clang-format --dry-run --Werror bad.c >"$out.bad" 2>&1) && grep -q 'error:' "$out.bad"; then
  pass "format/misformatted_source_is_reported"
else
  fail "format/misformatted_source_is_reported" "clang-format accepted a mis-indented copy of ring.c"
fi
test_finish
