#!/usr/bin/env bash
# test_protocol_levels.sh — the Venus protocol each context negotiates (--venus-protocol,
# src/context/protocol.c).  Checks, for each offer (newest, mesa25):
#   CLIENT/api_version   vulkaninfo --summary's apiVersion through venusd: the host's Mesa
#                        25.0.7 guest sees 1.3 under both offers; the Mesa 26 clients
#                        (tests/clients/mesa-clients.sh, when made) see 1.4 under newest
#                        (lavapipe is a 1.4 driver) and 1.3 under mesa25
#   mesa25/above_protocol  vkCopyMemoryToImageMESA (venus_protocol spec 3) and a vk.xml 1.4
#                        command type sent to a context that negotiated Mesa 25.0.7's
#                        protocol make it fatal, and the log line names the command and
#                        both versions; venusd keeps serving
#   newest/spec3_decoded   the same spec-3 command under newest is decoded (and fails only
#                        on its never-created device id)
#   OFFER/CLIENT/mesh_shader  tests/apps/vk_mesh (task and mesh shaders, VK_EXT_mesh_shader)
#                        through a Mesa 26 client under newest draws what it draws natively;
#                        under mesa25, and for the Mesa 25.0.7 guest, the extension is not
#                        offered ("SKIP")
#   newest/CLIENT/host_copy  tests/apps/vk_host_copy (host image copy: layout transition,
#                        memory to image, image to memory, image to image) through a Mesa 26
#                        client prints what it prints natively, and the recorded streams
#                        show vkCopyMemoryToImageMESA and vkCopyImageToMemoryMESA; the Mesa
#                        25.0.7 guest is not offered the extension ("SKIP")
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init protocol_levels

BAD_CLIENT=${BAD_CLIENT:-$(dirname "$VENUSD")/tests/integration/vtest_bad_client}
CLIENTS_SH=$REPO_ROOT/tests/clients/mesa-clients.sh
clients=host
made=$([ "$(id -u)" = 0 ] && bash "$CLIENTS_SH" list 2>/dev/null)
if grep -q '^backports ' <<<"$made"; then
  clients="host $(awk '$1 != "trixie" { print $1 }' <<<"$made" | tr '\n' ' ')"
else
  note "Mesa 26 clients not made (tests/clients/mesa-clients.sh setup, as root): host only"
fi

# api_of FILE — the apiVersion line of a vulkaninfo --summary for the Venus device.
api_of() { awk '/^GPU[0-9]+:/ { api = "" } /apiVersion/ { api = $3 } /Virtio-GPU Venus/ { print api; exit }' "$1"; }

# bad MODE — runs vtest_bad_client MODE against the current venusd; prints the log lines
# it caused.
bad() {
  local n0 out=$TEST_TMP/bad-$1-$VD_N.out
  n0=$(log_line_count "$VD_LOGFILE")
  timeout -s KILL 30 "$BAD_CLIENT" --socket "$VD_SOCK" --mode "$1" --name "proto-$1" \
    --linger-ms 1000 >"$out" 2>&1
  sleep 0.3
  log_lines_since "$VD_LOGFILE" "$n0"
}

HOST_COPY=$(dirname "$VENUSD")/tests/apps/vk_host_copy
native_client "$HOST_COPY" >"$TEST_TMP/host_copy.native" 2>&1
MESH=$(dirname "$VENUSD")/tests/apps/vk_mesh
native_client "$MESH" >"$TEST_TMP/mesh.native" 2>&1

for offer in newest mesa25; do
  rec=$TEST_TMP/rec-$offer
  mkdir -p "$rec"
  start_venusd_or_fail "protocol_levels/$offer/start" --venus-protocol "$offer" --record "$rec" ||
    continue
  for client in $clients; do
    out=$TEST_TMP/$offer-$client.summary
    want=1.3
    [ "$client" != host ] && [ "$offer" = newest ] && want=1.4
    if (if [ "$client" = host ]; then venus_summary_ok "$out"; else
      VENUS_CLIENT=$client venus_summary_ok "$out"; fi); then
      got=$(api_of "$out")
      if [[ "$got" == "$want".* ]]; then
        pass "protocol_levels/$offer/$client/api_version"
      else
        fail "protocol_levels/$offer/$client/api_version" "apiVersion '$got', want $want.x"
      fi
    else
      fail "protocol_levels/$offer/$client/api_version" "$VENUS_ERR: $(head -n 3 "$out.err")"
    fi
  done
  # VK_EXT_mesh_shader is in the newest protocol only: offered to a Mesa 26 client under
  # newest, to no client under mesa25 and never to the host's Mesa 25.0.7.
  for client in $clients; do
    out=$TEST_TMP/mesh.$offer.$client
    if [ "$client" = host ]; then venus_client "$MESH" >"$out" 2>&1; else
      VENUS_CLIENT=$client venus_client "$MESH" >"$out" 2>&1; fi
    if [ "$client" != host ] && [ "$offer" = newest ]; then
      if grep -q '^OK mesh' "$out" && cmp -s "$out" "$TEST_TMP/mesh.native"; then
        pass "protocol_levels/$offer/$client/mesh_shader"
      else
        fail "protocol_levels/$offer/$client/mesh_shader" "venus: $(tail -n 1 "$out"); native: $(tail -n 1 "$TEST_TMP/mesh.native")"
      fi
    elif grep -q '^SKIP no VK_EXT_mesh_shader' "$out"; then
      pass "protocol_levels/$offer/$client/mesh_shader_not_offered"
    else
      fail "protocol_levels/$offer/$client/mesh_shader_not_offered" "$(tail -n 1 "$out")"
    fi
  done
  if [ "$offer" = newest ]; then
    for client in $clients; do
      out=$TEST_TMP/host_copy.$client
      rm -f "$rec"/*.vnr # this client's streams only (earlier contexts have ended)
      if [ "$client" = host ]; then venus_client "$HOST_COPY" >"$out" 2>&1; else
        VENUS_CLIENT=$client venus_client "$HOST_COPY" >"$out" 2>&1; fi
      if [ "$client" = host ]; then
        if grep -q '^SKIP no VK_EXT_host_image_copy' "$out"; then
          pass "protocol_levels/newest/host/host_copy_not_offered"
        else
          fail "protocol_levels/newest/host/host_copy_not_offered" "$(tail -n 1 "$out")"
        fi
        continue
      fi
      listing=$(for f in "$rec"/*.vnr; do "$VENUSD" replay "$f" 2>/dev/null; done)
      if grep -q '^OK host_copy' "$out" && cmp -s "$out" "$TEST_TMP/host_copy.native" &&
        grep -q vkCopyMemoryToImageMESA <<<"$listing" &&
        grep -q vkCopyImageToMemoryMESA <<<"$listing"; then
        pass "protocol_levels/newest/$client/host_copy"
      else
        fail "protocol_levels/newest/$client/host_copy" "venus: $(tail -n 1 "$out"); native: $(tail -n 1 "$TEST_TMP/host_copy.native")"
      fi
    done
  fi
  if [ "$offer" = mesa25 ]; then
    log=$(bad mesa-spec3)
    if grep -q "vkCopyMemoryToImageMESA (command type 298) needs VK_MESA_venus_protocol spec 3, but this context negotiated spec 2" <<<"$log"; then
      pass "protocol_levels/mesa25/above_protocol_spec"
    else
      fail "protocol_levels/mesa25/above_protocol_spec" "log: $(grep -m1 -Ei 'fatal|error' <<<"$log")"
    fi
    log=$(bad vkxml-1-4)
    if grep -q "vkCmdSetSampleLocationsEXT (command type 283) is in the vk.xml 1.4.343 protocol, but this context negotiated vk.xml 1.3.269" <<<"$log"; then
      pass "protocol_levels/mesa25/above_protocol_vkxml"
    else
      fail "protocol_levels/mesa25/above_protocol_vkxml" "log: $(grep -m1 -Ei 'fatal|error' <<<"$log")"
    fi
  else
    log=$(bad mesa-spec3)
    if grep -q "vkCopyMemoryToImageMESA" <<<"$log" && ! grep -q "needs VK_MESA_venus_protocol" <<<"$log"; then
      pass "protocol_levels/newest/spec3_decoded"
    else
      fail "protocol_levels/newest/spec3_decoded" "log: $(grep -m1 -Ei 'fatal|error' <<<"$log")"
    fi
  fi
  if venus_summary_ok "$TEST_TMP/$offer-after.summary"; then
    pass "protocol_levels/$offer/serves_after"
  else
    fail "protocol_levels/$offer/serves_after" "$VENUS_ERR"
  fi
  stop_venusd "protocol_levels/$offer/clean_exit"
done
test_finish
