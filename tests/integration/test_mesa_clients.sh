#!/usr/bin/env bash
# Newer Mesa Venus drivers as clients of venusd (tests/clients/mesa-clients.sh runs them in
# a Debian 13 chroot, over a socket in the shared /tmp; venusd runs on the host):
#   trixie     Debian 13's Mesa 25.0.7 (the same Venus driver as the host's, built against
#              newer libraries: checks the chroot path itself)
#   backports  trixie-backports' Mesa 26.1.x
#   sid        sid's Mesa 26.2.x
# For each: vulkaninfo --summary shows the Venus device and that client's Mesa version;
# sparse binding, which lavapipe cannot do on venusd's host-pointer memory, is hidden
# (Mesa 26 no longer hides it on lavapipe itself) and a bind that ignores that is fatal for
# that context only; full vulkaninfo matches the host's native lavapipe but for the client's
# expected differences (test_vulkaninfo_full.sh with VULKANINFO_CLIENT; venus-expected-diffs-
# trixie.txt, -mesa26.txt, -backports.txt), Vulkan 1.4 for the Mesa 26 clients.  For the two
# Mesa 26 clients, the whole app suite (test_apps.sh, every
# venusd mode and VN_PERF switch) must give native output too, and so must the real apps
# (test_real_apps.sh: Debian 13's ffmpeg, GStreamer and zink in the chroot, against the same
# programs on the chroot's lavapipe; mesa-clients.sh setup-apps installs them); presenting to
# an Xvfb window (test_present.sh: vkcube, vk_present, GL through zink) must work through the
# client's software WSI.
#
# Environment: MESA_CLIENTS_APPS, the clients that run the app suite (default
# "backports sid"; the ASan pass of tests/integration/meson.build sets "none", for time);
# MESA_CLIENTS_REAL_APPS, the clients that run the real apps and test_present.sh (default:
# MESA_CLIENTS_APPS); MESA_CLIENTS_SHORT_APPS, the clients whose app suite runs three of the
# VN_PERF switches and no validation run (default "backports").
. "$(dirname "$0")/lib.sh"
test_init mesa_clients

BUILD=$(dirname "$VENUSD")
CLIENTS_SH=$REPO_ROOT/tests/clients/mesa-clients.sh
SPARSE_APP=$BUILD/tests/apps/vk_sparse_refused

if [ ! -x "$SPARSE_APP" ]; then
  fail "mesa_clients/build" "$SPARSE_APP missing"
  test_finish
fi
if ! bash "$CLIENTS_SH" setup >"$TEST_TMP/setup.log" 2>&1; then
  fail "mesa_clients/setup" "tests/clients/mesa-clients.sh setup failed: $(tail -n 1 "$TEST_TMP/setup.log")"
  test_finish
fi
pass "mesa_clients/setup"
sed 's/^/    /' "$TEST_TMP/setup.log" | tail -n 3
REAL_APPS=${MESA_CLIENTS_REAL_APPS-${MESA_CLIENTS_APPS-backports sid}}
if [ -n "${REAL_APPS// /}" ] && [ "$REAL_APPS" != none ]; then
  t0=$SECONDS
  if bash "$CLIENTS_SH" setup-apps >"$TEST_TMP/setup-apps.log" 2>&1; then
    pass "mesa_clients/setup_apps"
    note "mesa-clients.sh setup-apps: $((SECONDS - t0)) s"
    sed 's/^/    /' "$TEST_TMP/setup-apps.log"
  else
    fail "mesa_clients/setup_apps" "tests/clients/mesa-clients.sh setup-apps failed: $(tail -n 1 "$TEST_TMP/setup-apps.log")"
    REAL_APPS=none
  fi
fi

for client in trixie backports sid; do
  version=$(bash "$CLIENTS_SH" list | awk -v c="$client" '$1 == c { print $2 }')
  if [ -z "$version" ]; then
    fail "mesa_clients/$client/made" "mesa-clients.sh list does not show $client"
    continue
  fi
  start_venusd_or_fail "mesa_clients/$client/start" || continue
  out=$TEST_TMP/$client-summary
  if VENUS_CLIENT=$client venus_summary_ok "$out" &&
    grep -q "driverInfo *= Mesa ${version%%-*}" "$out"; then
    pass "mesa_clients/$client/vulkaninfo_summary"
  else
    fail "mesa_clients/$client/vulkaninfo_summary" "${VENUS_ERR:-no 'driverInfo = Mesa ${version%%-*}'}: $(grep -m1 -E 'ERROR|driverInfo' "$out" "$out.err")"
  fi
  out=$TEST_TMP/$client-sparse
  if VENUS_CLIENT=$client venus_client "$SPARSE_APP" >"$out" 2>&1 &&
    grep -q 'sparseBinding=0 sparseResidencyBuffer=0 (features2: 0 0)' "$out"; then
    pass "mesa_clients/$client/sparse_hidden"
  else
    fail "mesa_clients/$client/sparse_hidden" "$(grep -m1 -E 'sparse|FAIL' "$out")"
  fi
  n0=$(log_line_count "$VD_LOGFILE")
  CLIENT_TIMEOUT=20 VENUS_CLIENT=$client venus_client_to_fatal "$n0" "$SPARSE_APP" --bind >"$out.bind" 2>&1
  if log_lines_since "$VD_LOGFILE" "$n0" | grep -q "vkQueueBindSparse: pBindInfo\[0\]: sparse binding is not offered on this device" &&
    ! grep -q '^OK' "$out.bind"; then
    pass "mesa_clients/$client/sparse_bind_is_fatal"
  else
    fail "mesa_clients/$client/sparse_bind_is_fatal" "client: $(tail -n 1 "$out.bind"); venusd: $(log_lines_since "$VD_LOGFILE" "$n0" | grep -m1 -E 'fatal|ERROR')"
  fi
  # ... and venusd still serves that client version afterwards.
  if VENUS_CLIENT=$client venus_summary_ok "$out.after"; then
    pass "mesa_clients/$client/serves_after_fatal"
  else
    fail "mesa_clients/$client/serves_after_fatal" "$VENUS_ERR"
  fi
  stop_venusd "mesa_clients/$client/clean_exit"
  # Full vulkaninfo against the host's native lavapipe, with this client's expected
  # differences (test_vulkaninfo_full.sh, VULKANINFO_CLIENT; apiVersion 1.4 for Mesa 26).
  if ! VULKANINFO_CLIENT=$client TEST_PREFIX="${TEST_PREFIX}" TEST_TMP= \
    bash "$LIB_DIR/test_vulkaninfo_full.sh"; then
    fail "mesa_clients/$client/vulkaninfo_full" "test_vulkaninfo_full.sh with $client failed (its FAIL lines are above)"
  fi
  if [[ " ${MESA_CLIENTS_APPS-backports sid} " == *" $client "* ]]; then
    note "the app suite with Mesa $version (test_apps.sh, VENUS_CLIENT=$client)"
    # CI time: clients in MESA_CLIENTS_SHORT_APPS (default backports: 26.1 speaks 26.2's
    # protocol) run three of the VN_PERF switches and no validation run; sid runs them all.
    short=()
    if [[ " ${MESA_CLIENTS_SHORT_APPS-backports} " == *" $client "* ]]; then
      short=(APPS_PERF="${APPS_PERF:-no_fence_feedback no_multi_ring no_cmd_batching}" APPS_VALIDATE=0)
    fi
    if ! env "${short[@]}" VENUS_CLIENT=$client TEST_PREFIX="${TEST_PREFIX}mesa-$client:" TEST_TMP= \
      bash "$LIB_DIR/test_apps.sh"; then
      fail "mesa_clients/$client/app_suite" "test_apps.sh with Mesa $version failed (its FAIL lines are above)"
    fi
  fi
  if [[ " $REAL_APPS " == *" $client "* ]]; then
    t0=$SECONDS
    note "the real apps with Mesa $version (test_real_apps.sh, VENUS_CLIENT=$client)"
    if ! VENUS_CLIENT=$client TEST_PREFIX="${TEST_PREFIX}mesa-$client:" TEST_TMP= \
      bash "$LIB_DIR/test_real_apps.sh"; then
      fail "mesa_clients/$client/real_apps" "test_real_apps.sh with Mesa $version failed (its FAIL lines are above)"
    fi
    note "real apps with Mesa $version: $((SECONDS - t0)) s"
    t0=$SECONDS
    if ! VENUS_CLIENT=$client TEST_PREFIX="${TEST_PREFIX}mesa-$client:" TEST_TMP= \
      bash "$LIB_DIR/test_present.sh"; then
      fail "mesa_clients/$client/present" "test_present.sh with Mesa $version failed (its FAIL lines are above)"
    fi
    note "presenting with Mesa $version: $((SECONDS - t0)) s"
  fi
done
test_finish
