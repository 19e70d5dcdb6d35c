#!/usr/bin/env python3
"""decode_profile.py FILE [NCMDS]: from a callgrind profile of venusd serving cmds_100k
(bench/decode_profile.sh), venusd's instructions per recorded command split by source file
and function, and the driver's (its vkCmdPushConstants, and the reset at
vkBeginCommandBuffer).  decode_profile.py --mix FILE NROUNDS: for cmds_mix, the process's
instructions and, per call, each handler's (inclusive).  Nothing is asserted."""
import re
import subprocess
import sys


def table(path, inclusive):
    """{file:function: instructions} from callgrind_annotate."""
    args = ["callgrind_annotate", "--threshold=100"]
    if inclusive:
        args.append("--inclusive=yes")
    out = subprocess.run(args + [path], capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+)", line)
        if m and m.group(2) != "PROGRAM":
            rows.setdefault(m.group(2), int(m.group(1).replace(",", "")))
    return rows


def find(rows, fn):
    return next((v for k, v in rows.items() if k.endswith(":" + fn)), 0)


def mix(path, n):
    incl = table(path, True)
    out = subprocess.run(["callgrind_annotate", path], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+PROGRAM TOTALS", out, re.M)
    total = int(m.group(1).replace(",", "")) if m else 0
    print("venusd process: %.0f M instructions" % (total / 1e6))
    for fn in ("vkUpdateDescriptorSets", "vkCmdBindDescriptorSets", "vkCmdPushConstants",
               "vkCmdPipelineBarrier"):
        print("%-26s %7.0f instructions a call (inclusive)" % (fn, find(incl, "vd_handle_" + fn) / n))
    print("%-26s %7.1f M instructions (10k sets, once)" %
          ("vkAllocateDescriptorSets", find(incl, "vd_handle_vkAllocateDescriptorSets") / 1e6))


def main():
    if sys.argv[1] == "--mix":
        mix(sys.argv[2], int(sys.argv[3]))
        return
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 800000
    incl, own = table(path, True), table(path, False)
    streams = find(incl, "vd_handle_vkExecuteCommandStreamsMESA")
    begin = find(incl, "vd_handle_vkBeginCommandBuffer")
    driver = find(incl, "vd_handle_vkCmdPushConstants") - find(own, "vd_handle_vkCmdPushConstants")
    print("venusd per command: %.1f instructions; driver record: %.1f; driver reset at "
          "vkBeginCommandBuffer: %.1f" % ((streams - begin - driver) / n, driver / n, begin / n))
    for k, v in sorted(own.items(), key=lambda kv: -kv[1]):
        if "/src/" in k and "/usr/" not in k and v / n >= 0.5:
            print("%7.1f  %s" % (v / n, re.sub(r".*?/src/", "", k)))


if __name__ == "__main__":
    main()
