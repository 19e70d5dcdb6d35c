#!/usr/bin/env bash
# test_preload.sh — the server loads the Vulkan loader and the drivers' libraries before it
# forks process workers, so that they share the relocated pages (src/vk/preload.c):
#   default/log           the server logs the preloaded libraries, naming lavapipe's
#   default/server_maps   before any client, the server maps the loader and the library
#                         named by lavapipe's manifest
#   default/shared        a worker holding a device shares that library's written
#                         (relocated) pages with the server: Shared_Dirty > 0 in its smaps
#   default/client        vk_compute_smoke through venusd matches native
#   default/one_thread    after the client's device came and went, the server process has
#                         one thread: no driver instance or device was made there
#   no_preload/*          --no-preload: no log line, neither library in the server, the
#                         worker's copy of the driver library is all its own (Shared_Dirty
#                         0: what default/shared would see without preloading), the client
#                         matches native
#   manifests/*           VK_DRIVER_FILES naming a directory with a manifest whose
#                         library_path is relative to it and one naming a missing library:
#                         the first is preloaded, the second skipped (the log says so), and
#                         a client works
#   thread/no_preload     thread workers share the libraries anyway: no preload line
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init preload

BUILD=$(dirname "$VENUSD")
for app in vk_compute_smoke vk_idle; do
  if [ ! -x "$BUILD/tests/apps/$app" ]; then
    fail "preload/build" "$BUILD/tests/apps/$app missing (scripts/setup-deps.sh installs what it needs)"
    test_finish
  fi
done
# lavapipe's library: its manifest's library_path, a path or (Debian) a name that the
# dynamic linker finds in its search path.
DRIVER_LIB=$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$LVP_ICD" | head -n 1)
case $DRIVER_LIB in
  */*) DRIVER_REAL=$(readlink -f "$DRIVER_LIB") ;;
  *) DRIVER_REAL=$(ldconfig -p | awk -v n="$DRIVER_LIB" '$1 == n { print $NF; exit }') ;;
esac
DRIVER_REAL=$(readlink -f "$DRIVER_REAL")
if [ -z "$DRIVER_LIB" ] || [ ! -f "$DRIVER_REAL" ]; then
  fail "preload/driver" "no library_path in $LVP_ICD, or its library '$DRIVER_LIB' was not found ('$DRIVER_REAL')"
  test_finish
fi
DRIVER_NAME=$(basename "$DRIVER_LIB")
native_client "$BUILD/tests/apps/vk_compute_smoke" >"$TEST_TMP/compute.native" 2>&1

# maps_has PID FILE — PID maps FILE (a real path).
maps_has() { grep -qF " $2" "/proc/$1/maps" 2>/dev/null; }
maps_loader() { grep -qE '/libvulkan\.so(\.[0-9]+)*$' "/proc/$1/maps" 2>/dev/null; }

# shared_dirty PID FILE — kB of PID's mappings of FILE written and shared with another
# process (Shared_Dirty, summed over smaps).
shared_dirty() {
  awk -v f="$2" '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 == f) } m && /^Shared_Dirty:/ { s += $2 }
    END { print s + 0 }' "/proc/$1/smaps" 2>/dev/null
}

# idle_worker SECONDS — starts vk_idle through venusd and, once it idles (its device
# exists), sets WORKER to its worker process (venusd's child).
idle_worker() {
  local out=$TEST_TMP/idle-$VD_N.out
  venus_client "$BUILD/tests/apps/vk_idle" "$1" >"$out" 2>&1 &
  IDLE_PID=$!
  for _ in $(seq 600); do grep -q '^idle' "$out" 2>/dev/null && break; sleep 0.1; done
  WORKER=$(pgrep -P "$VD_PID" | head -n 1)
}

client_matches() {
  local name=$1 out=$TEST_TMP/compute-$VD_N.venus
  if venus_client "$BUILD/tests/apps/vk_compute_smoke" >"$out" 2>&1 &&
    diff -q "$TEST_TMP/compute.native" "$out" >/dev/null; then
    pass "$name"
  else
    fail "$name" "output differs from native or the client failed: $(tail -n 1 "$out")"
    show_file "$VD_LOGFILE" 10
  fi
}

# 1. the default.
if start_venusd_or_fail "preload/default/start" --worker process; then
  if grep -q "preloaded the Vulkan loader and 1 driver library ($DRIVER_NAME)" "$VD_LOGFILE"; then
    pass preload/default/log
  else
    fail preload/default/log "no 'preloaded the Vulkan loader and 1 driver library ($DRIVER_NAME)' line in $VD_LOGFILE"
  fi
  if maps_loader "$VD_PID" && maps_has "$VD_PID" "$DRIVER_REAL"; then
    pass preload/default/server_maps
  else
    fail preload/default/server_maps "server pid $VD_PID does not map libvulkan.so.* and $DRIVER_REAL"
  fi
  idle_worker 3
  sd=$(shared_dirty "${WORKER:-0}" "$DRIVER_REAL")
  if [ -n "$WORKER" ] && [ "$sd" -gt 0 ]; then
    pass preload/default/shared
  else
    fail preload/default/shared "worker '${WORKER:-none}' shares ${sd:-no} kB of written $DRIVER_NAME pages with the server (want > 0)"
  fi
  wait "$IDLE_PID" 2>/dev/null
  client_matches preload/default/client
  threads=$(count_threads "$VD_PID")
  if [ "$threads" = 1 ]; then
    pass preload/default/one_thread
  else
    fail preload/default/one_thread "the server process has $threads threads (want 1): $(list_threads "$VD_PID" | tr '\n' ' ')"
  fi
  stop_venusd preload/default/clean_exit
fi

# 2. --no-preload: the same checks, the other way round.
if start_venusd_or_fail "preload/no_preload/start" --worker process --no-preload; then
  if grep -q "preloaded" "$VD_LOGFILE"; then
    fail preload/no_preload/log "--no-preload, yet: $(grep -m1 preloaded "$VD_LOGFILE")"
  else
    pass preload/no_preload/log
  fi
  if maps_loader "$VD_PID" || maps_has "$VD_PID" "$DRIVER_REAL"; then
    fail preload/no_preload/server_maps "--no-preload, yet the server maps the loader or $DRIVER_REAL"
  else
    pass preload/no_preload/server_maps
  fi
  idle_worker 3
  sd=$(shared_dirty "${WORKER:-0}" "$DRIVER_REAL")
  if [ -n "$WORKER" ] && [ "$sd" = 0 ]; then
    pass preload/no_preload/private
  else
    fail preload/no_preload/private "worker '${WORKER:-none}': ${sd:-no} kB of $DRIVER_NAME shared dirty (want 0 without preloading)"
  fi
  wait "$IDLE_PID" 2>/dev/null
  client_matches preload/no_preload/client
  stop_venusd preload/no_preload/clean_exit
fi

# 3. manifests: a library_path relative to its manifest's directory, and a missing library.
icd=$TEST_TMP/icd.d
mkdir -p "$icd/lib"
ln -s "$DRIVER_REAL" "$icd/lib/$DRIVER_NAME"
api=$(sed -n 's/.*"api_version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$LVP_ICD" | head -n 1)
printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "lib/%s", "api_version": "%s" } }\n' \
  "$DRIVER_NAME" "${api:-1.3.0}" >"$icd/a_relative.json"
printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' \
  "$TEST_TMP/no-such-driver.so" >"$icd/b_missing.json"
if LVP_ICD=$icd start_venusd_or_fail "preload/manifests/start" --worker process; then
  if grep -q "preloaded the Vulkan loader and 1 driver library ($DRIVER_NAME).*skipped" "$VD_LOGFILE"; then
    pass preload/manifests/log
  else
    fail preload/manifests/log "want 'preloaded ... 1 driver library ($DRIVER_NAME) ... skipped' in $VD_LOGFILE: $(grep -m1 preload "$VD_LOGFILE")"
  fi
  if maps_has "$VD_PID" "$DRIVER_REAL"; then
    pass preload/manifests/server_maps
  else
    fail preload/manifests/server_maps "the server does not map $DRIVER_REAL (from $icd/a_relative.json)"
  fi
  client_matches preload/manifests/client
  stop_venusd preload/manifests/clean_exit
fi

# 4. thread workers.
if start_venusd_or_fail "preload/thread/start" --worker thread; then
  if grep -q "preloaded" "$VD_LOGFILE"; then
    fail preload/thread/no_preload "thread workers, yet: $(grep -m1 preloaded "$VD_LOGFILE")"
  else
    pass preload/thread/no_preload
  fi
  stop_venusd preload/thread/clean_exit
fi

test_finish
