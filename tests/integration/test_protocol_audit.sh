#!/usr/bin/env bash
# test_protocol_audit.sh — the protocol audit (docs/protocol-audit.md) is complete and current:
#   current        gen/protocol_audit.py --check passes on the tree: every command with a
#                  guest-supplied index, offset, size or region is classified in
#                  protocol/audit.txt, no line there is stale, and the table is up to date
#   unlisted_fails with vkCmdSetViewport's line removed from a copy of protocol/audit.txt,
#                  --check fails naming vkCmdSetViewport (the check can fail)
#   open_fails     with vkCmdSetViewport's line turned "open" in a copy (and the table
#                  written from that copy), --check fails naming it: no command may stay open
#   none_open      docs/protocol-audit.md has no row whose status is open
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

test_init protocol_audit

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VK_XML=$ROOT/third_party/vulkan-sdk-sid/usr/share/vulkan/registry/vk.xml
audit() { python3 "$ROOT/gen/protocol_audit.py" --vk-xml "$VK_XML" "$@"; }

if out=$(audit --protocol-dir "$ROOT/protocol" --check "$ROOT/docs/protocol-audit.md" 2>&1); then
  pass protocol_audit/current
else
  fail protocol_audit/current "$(printf %s "$out" | head -n 3)"
fi

copy=$TEST_TMP/protocol
cp -r "$ROOT/protocol" "$copy"
grep -v '^vkCmdSetViewport ' "$ROOT/protocol/audit.txt" >"$copy/audit.txt"
if out=$(audit --protocol-dir "$copy" --check "$ROOT/docs/protocol-audit.md" 2>&1); then
  fail protocol_audit/unlisted_fails "--check passed without vkCmdSetViewport's line"
elif printf %s "$out" | grep -q 'vkCmdSetViewport has guest-supplied firstViewport'; then
  pass protocol_audit/unlisted_fails
else
  fail protocol_audit/unlisted_fails "unexpected output: $(printf %s "$out" | head -n 2)"
fi

open_copy=$TEST_TMP/protocol-open
cp -r "$ROOT/protocol" "$open_copy"
sed 's/^vkCmdSetViewport .*/vkCmdSetViewport open: not checked/' "$ROOT/protocol/audit.txt" \
  >"$open_copy/audit.txt"
audit --protocol-dir "$open_copy" --write "$TEST_TMP/open.md" >/dev/null 2>&1
if out=$(audit --protocol-dir "$open_copy" --check "$TEST_TMP/open.md" 2>&1); then
  fail protocol_audit/open_fails "--check passed with vkCmdSetViewport open"
elif printf %s "$out" | grep -q 'vkCmdSetViewport is open'; then
  pass protocol_audit/open_fails
else
  fail protocol_audit/open_fails "unexpected output: $(printf %s "$out" | head -n 2)"
fi

if grep -q '| open: ' "$ROOT/docs/protocol-audit.md"; then
  fail protocol_audit/none_open "open rows: $(grep '| open: ' "$ROOT/docs/protocol-audit.md" | cut -d'|' -f2 | tr -d ' ' | tr '\n' ' ')"
else
  pass protocol_audit/none_open
fi

test_finish
