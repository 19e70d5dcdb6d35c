#!/usr/bin/env bash
# test_doctor.sh — `venusd doctor` finds each failure class it claims to, says what to do,
# and exits 1; on a healthy host (lavapipe) it exits 0 with one JSON document:
#   healthy                 exit 0; --json parses; protocol, loader, ICD, instance, device,
#                           memory backend, host-pointer imports at 4 KiB and 16 KiB, free
#                           socket, render-server self-test and the VN_PERF advice are there
#   healthy_text            the same as lines: ok/info only, the summary says 0 failed
#   no_icd                  VK_DRIVER_FILES=/nonexistent.json: the manifest and the instance
#                           fail, and the advice names MoltenVK's manifest
#   manifest_unparsable     a manifest that is not JSON: where it stops parsing
#   library_not_loading     a manifest whose library does not exist
#   library_not_vulkan      a manifest whose library loads but is no Vulkan driver
#   socket_in_use           a socket a live venusd listens on: its pid and name
#   socket_stale            the same socket after that venusd was SIGKILLed
#   socket_not_a_socket     a plain file at the socket path
#   host_pointer_refused    a layer (refuse_host_pointer_layer.c) makes every host-pointer
#                           import fail while the driver still lists the extension
#   host_pointer_exact_alignment  the layer refuses pointers not 16 KiB aligned: the import
#                           at the driver's 4 KiB (a pointer aligned to exactly 4 KiB) fails,
#                           the one at 16 KiB passes
#   portability_enumeration  the layer lists devices only to instances that enable
#                           portability enumeration: the doctor's instance does, and says so
#   startup_hints           venusd vtest and render-server start-up failures (no driver,
#                           socket in use) point to venusd doctor
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init doctor

LAYER_LIB=$(dirname "$VENUSD")/tests/integration/libvd_test_refuse_host_pointer.so
DOCTOR_TIMEOUT=${DOCTOR_TIMEOUT:-180}

# doctor OUT [ENV=VALUE...] -- [ARGS...] — runs venusd doctor --json with a clean Vulkan
# environment (lavapipe unless ENV says otherwise); stdout to OUT, stderr to OUT.err.
# Sets DOCTOR_RC.
doctor() {
  local out=$1 envs=()
  shift
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    envs+=("$1")
    shift
  done
  shift
  timeout -s KILL "$DOCTOR_TIMEOUT" env -u VK_ICD_FILENAMES -u VK_ADD_DRIVER_FILES \
    -u VK_INSTANCE_LAYERS -u VK_LAYER_PATH -u VTEST_SOCKET_NAME -u VENUSD_RENDER_SERVER_ARGS \
    VK_DRIVER_FILES="$LVP_ICD" "${envs[@]}" "$VENUSD" doctor "$@" >"$out" 2>"$out.err"
  DOCTOR_RC=$?
}

# expect NAME OUT RC SPEC... — PASS NAME if venusd doctor exited RC (any status when RC is
# "-") and doctor_expect.py finds every SPEC (CHECK:STATUS[|KEY=VALUE|KEY~PART...]) in OUT,
# a valid report.
expect() {
  local name=$1 out=$2 rc=$3 why
  shift 3
  if [ "$rc" != - ] && [ "$DOCTOR_RC" != "$rc" ]; then
    fail "$name" "venusd doctor exited $DOCTOR_RC, expected $rc: $(tail -n 2 "$out.err")"
    return 1
  fi
  if why=$(python3 "$LIB_DIR/doctor_expect.py" "$out" "$@" 2>&1); then
    pass "$name"
  else
    fail "$name" "${why:-doctor_expect.py failed}"
  fi
}

sock_free=$TEST_TMP/free.sock
out=$TEST_TMP/healthy.json
doctor "$out" -- --json --socket "$sock_free"
expect doctor/healthy "$out" 0 \
  'protocol:info|vk_xml_version=1.3.269|extensions=118|venus_protocol_spec=2|matches~Mesa 25.0' \
  'loader:ok|found=true' \
  "icd:ok|manifest=$LVP_ICD|loads=true" \
  'instance:ok|portability_enumeration=false' \
  'device:ok|driver=llvmpipe|name~llvmpipe|api_version~1.' \
  'memory-backend:ok|backend=host-pointer|why~VK_EXT_external_memory_host' \
  'host-pointer-import:ok|alignment=4096|ok=true' \
  'host-pointer-import:ok|alignment=16384|ok=true' \
  'socket:ok|state=free' \
  'render-server:ok|framing=seqpacket|ok=true' \
  'render-server:ok|framing=stream|ok=true' \
  'vn-perf-no-fence-feedback:info|setting=VN_PERF=no_fence_feedback|message~11.9 us'
if python3 -m json.tool "$out" >/dev/null 2>&1; then
  pass doctor/healthy_json_tool
else
  fail doctor/healthy_json_tool "python3 -m json.tool rejects $out"
fi

out=$TEST_TMP/healthy.txt
doctor "$out" -- --socket "$sock_free"
if [ "$DOCTOR_RC" = 0 ] && ! grep -qE '^(FAIL|warn) ' "$out" &&
  tail -n 1 "$out" | grep -q '^ok: 0 failed' &&
  grep -q '^ok    render-server self-test' "$out"; then
  pass doctor/healthy_text
else
  fail doctor/healthy_text \
    "exit $DOCTOR_RC: $(grep -m1 -E '^(FAIL|warn) ' "$out") $(tail -n 1 "$out")"
fi

out=$TEST_TMP/no-icd.json
doctor "$out" VK_DRIVER_FILES=/nonexistent.json -- --json --socket "$sock_free"
expect doctor/no_icd "$out" 1 \
  'icd:fail|manifest=/nonexistent.json|exists=false|fix~MoltenVK_icd.json' \
  'icd-none:fail|fix~/opt/homebrew/share/vulkan/icd.d' \
  'instance:fail|message~VK_ERROR_INCOMPATIBLE_DRIVER'

printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "libvulkan_lvp.so", }\n' \
  >"$TEST_TMP/unparsable.json"
out=$TEST_TMP/unparsable.out.json
doctor "$out" VK_DRIVER_FILES="$TEST_TMP/unparsable.json" -- --json --socket "$sock_free"
expect doctor/manifest_unparsable "$out" 1 \
  "icd:fail|manifest=$TEST_TMP/unparsable.json|parses=false" \
  'icd:fail|message~does not parse as JSON: line 1, column 80: expected a string'

manifest='{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s" } }\n'
# shellcheck disable=SC2059
printf "$manifest" "$TEST_TMP/no/libvulkan_gone.so" >"$TEST_TMP/nolib.json"
out=$TEST_TMP/nolib.out.json
doctor "$out" VK_DRIVER_FILES="$TEST_TMP/nolib.json" -- --json --socket "$sock_free"
expect doctor/library_not_loading "$out" 1 \
  "icd:fail|manifest=$TEST_TMP/nolib.json|library=$TEST_TMP/no/libvulkan_gone.so|loads=false" \
  'icd:fail|message~cannot open shared object file'

# shellcheck disable=SC2059
printf "$manifest" libm.so.6 >"$TEST_TMP/notvk.json"
out=$TEST_TMP/notvk.out.json
doctor "$out" VK_DRIVER_FILES="$TEST_TMP/notvk.json" -- --json --socket "$sock_free"
expect doctor/library_not_vulkan "$out" 1 \
  'icd:fail|library=libm.so.6|loads=true|message~exports neither vk_icdGetInstanceProcAddr'

if start_venusd_or_fail doctor/socket_in_use --worker thread; then
  out=$TEST_TMP/in-use.json
  doctor "$out" -- --json --socket "$VD_SOCK"
  expect doctor/socket_in_use "$out" 1 \
    "socket:fail|state=in-use|pid=$VD_PID|process=venusd|path=$VD_SOCK"
  kill -KILL "$VD_PID"
  wait "$VD_PID" 2>/dev/null
  VD_PID=
  out=$TEST_TMP/stale.json
  doctor "$out" -- --json --socket "$VD_SOCK"
  expect doctor/socket_stale "$out" 1 "socket:fail|state=stale|path=$VD_SOCK"
fi
: >"$TEST_TMP/plain-file"
out=$TEST_TMP/plain.json
doctor "$out" -- --json --socket "$TEST_TMP/plain-file"
expect doctor/socket_not_a_socket "$out" 1 'socket:fail|state=not-a-socket'

mkdir -p "$TEST_TMP/layer"
cat >"$TEST_TMP/layer/refuse.json" <<JSON
{ "file_format_version": "1.1.2",
  "layer": { "name": "VK_LAYER_VENUSD_test_refuse_host_pointer", "type": "GLOBAL",
             "library_path": "$LAYER_LIB", "api_version": "1.3.0",
             "implementation_version": "1",
             "description": "venusd test: refuses host-pointer imports" } }
JSON
layer_env=(VK_LAYER_PATH="$TEST_TMP/layer"
  VK_INSTANCE_LAYERS=VK_LAYER_VENUSD_test_refuse_host_pointer)
if [ ! -f "$LAYER_LIB" ]; then
  fail doctor/host_pointer_refused "the test layer $LAYER_LIB was not built"
else
  out=$TEST_TMP/refused.json
  doctor "$out" "${layer_env[@]}" -- --json --socket "$sock_free"
  expect doctor/host_pointer_refused "$out" 1 \
    'memory-backend:ok|backend=host-pointer' \
    'host-pointer-import:fail|alignment=4096|error~VK_ERROR_INVALID_EXTERNAL_HANDLE' \
    'host-pointer-import:fail|alignment=4096|ok=false|fix~--memory export' \
    'host-pointer-import:fail|alignment=16384|ok=false'
  out=$TEST_TMP/exact.json
  doctor "$out" "${layer_env[@]}" VD_TEST_HOST_POINTER_ALIGN=16384 -- --json --socket "$sock_free"
  expect doctor/host_pointer_exact_alignment "$out" 1 \
    'host-pointer-import:fail|alignment=4096|ok=false' \
    'host-pointer-import:ok|alignment=16384|ok=true'
  # Mesa's implicit device_select layer (bookworm's 25.0.7) crashes when the layers below
  # it list no device, as this one does to the first instance: leave it out here.  The
  # exit status is not checked: whether venusd's own start-up check (vk/probe.c) enables
  # portability enumeration decides the render-server self-test.
  out=$TEST_TMP/portability.json
  doctor "$out" "${layer_env[@]}" VD_TEST_HOST_POINTER_ALIGN=1 VD_TEST_PORTABILITY_ONLY=1 \
    NODEVICE_SELECT=1 -- --json --socket "$sock_free"
  expect doctor/portability_enumeration "$out" - \
    'instance:ok|portability_enumeration=true|message~with portability enumeration' \
    'device:ok|driver=llvmpipe' 'host-pointer-import:ok|alignment=4096'
fi

# Start-up failures point to the doctor.
out=$TEST_TMP/vtest-nodriver.out
timeout -s KILL 60 env VK_DRIVER_FILES=/nonexistent.json \
  "$VENUSD" vtest --socket "$TEST_TMP/nd.sock" >"$out" 2>&1 </dev/null
rc=$?
out2=$TEST_TMP/rs-nodriver.out
timeout -s KILL 60 env VK_DRIVER_FILES=/nonexistent.json "$VENUSD" render-server --socket-fd 0 \
  >"$out2" 2>&1 </dev/null
rc2=$?
out3=$TEST_TMP/vtest-in-use.out
rc3=skipped
if start_venusd_or_fail doctor/startup_hints --worker thread; then
  timeout -s KILL 60 env VK_DRIVER_FILES="$LVP_ICD" \
    "$VENUSD" vtest --socket "$VD_SOCK" >"$out3" 2>&1 </dev/null
  rc3=$?
  stop_venusd doctor/startup_hints_clean_exit
fi
if [ "$rc" = 1 ] && grep -q "'venusd doctor' checks" "$out" && [ "$rc2" = 1 ] &&
  grep -q "'venusd doctor' (with the VMM's environment)" "$out2" && [ "$rc3" = 1 ] &&
  grep -q "'venusd doctor --socket $VD_SOCK' checks the socket" "$out3"; then
  pass doctor/startup_hints
else
  fail doctor/startup_hints "vtest without a driver exit $rc: $(tail -n 1 "$out") |
    render-server exit $rc2: $(tail -n 1 "$out2") |
    vtest on a socket in use exit $rc3: $(tail -n 1 "$out3" 2>/dev/null)"
fi
test_finish
