# tests/integration/tap-results.awk — the individual results in a meson test log.
#
#   awk -v prefix=asan: -v logfile=LOGFILE -f tap-results.awk <build>/meson-logs/NAME.json
#
# Input: meson's JSON test log, one object per test ("name": "project:suite+suite / name",
# "stdout", "result", ...).  Output, one line per result, fields separated by tabs:
#   PASS <name>                   FAIL <name> <reason>          SKIP <name> <reason>
# A test in the suite 'integration' (tap.sh) gives one line per TAP result in its stdout;
# any other test gives one line for itself, named "<prefix><first suite>/<name>".  A test
# whose meson result is not OK, SKIP or a FAIL explained by a "not ok" line (TIMEOUT,
# ERROR, INTERRUPT, ...) also gives "FAIL <prefix><name>", so a crash is never lost.
# Used by tests/run-tests.sh.

# jstr(LINE, KEY) — the raw text of the JSON string KEY in LINE, with \\ and \" replaced
# by \001 and \002 (restored by unescape) so that the first '"' ends it.
function jstr(line, key,    i, s) {
   i = index(line, "\"" key "\": \"")
   if (!i)
      return ""
   s = substr(line, i + length(key) + 5)
   gsub(/\\\\/, "\001", s)
   gsub(/\\"/, "\002", s)
   i = index(s, "\"")
   return i ? substr(s, 1, i - 1) : s
}

function unescape(s) {
   gsub(/\\t/, "\t", s)
   gsub(/\\r/, "", s)
   gsub(/\002/, "\"", s)
   gsub(/\001/, "\\", s)
   return s
}

function trim(s) {
   sub(/^[ \t]+/, "", s)
   sub(/[ \t]+$/, "", s)
   return s
}

# tap_line(L) — prints L's result if L is a TAP result or bail-out line; 1 if a failure.
function tap_line(l,    ok, rest, i, name, reason) {
   if (l ~ /^Bail out!/) {
      print "FAIL\t" prefix test "\t" l
      return 1
   }
   if (l !~ /^(not )?ok /)
      return 0
   ok = l ~ /^ok /
   rest = substr(l, ok ? 4 : 8)
   sub(/^[0-9]+ */, "", rest)
   sub(/^- */, "", rest)
   i = index(rest, " # ")
   name = trim(i ? substr(rest, 1, i - 1) : rest)
   reason = i ? trim(substr(rest, i + 3)) : ""
   n_tap++
   if (ok && toupper(reason) ~ /^SKIP/) {
      sub(/^[Ss][Kk][Ii][Pp][^ ]* */, "", reason)
      print "SKIP\t" name "\t" (reason == "" ? "no reason given" : reason)
   } else if (ok) {
      print "PASS\t" name
   } else {
      print "FAIL\t" name "\t" (reason == "" ? "not ok" : reason)
      return 1
   }
   return 0
}

{
   full = jstr($0, "name")
   result = jstr($0, "result")
   test = full
   suites = ""
   if (index(full, " / ")) {
      test = substr(full, index(full, " / ") + 3)
      suites = substr(full, 1, index(full, " / ") - 1)
      sub(/^[^:]*:/, "", suites)
   }
   first = suites
   sub(/\+.*/, "", first)

   if (("+" suites "+") !~ /\+integration\+/) {
      name = prefix (first == "" ? "" : first "/") test
      if (result == "OK" || result == "EXPECTEDFAIL")
         print "PASS\t" name
      else if (result == "SKIP")
         print "SKIP\t" name "\t" "the test exited with status 77 (see " logfile ")"
      else
         print "FAIL\t" name "\t" "meson result " result " (see " logfile ")"
      next
   }

   n_tap = 0
   n_fail = 0
   count = split(jstr($0, "stdout"), lines, /\\n/)
   for (k = 1; k <= count; k++)
      n_fail += tap_line(unescape(lines[k]))
   if (n_tap == 0) {
      print "FAIL\t" prefix test "\t" "no TAP result in its output (meson result " result \
         "; see " logfile ")"
      next
   }
   if (result == "OK" || result == "SKIP" || n_fail > 0)
      next
   print "FAIL\t" prefix test "\t" "meson result " result " after " n_tap \
      " results without a failure (see " logfile ")"
}
