#!/usr/bin/env python3
"""decode_profile.py FILE [NCMDS]: from a callgrind profile of venusd serving cmds_100k
(bench/decode_profile.sh), venusd's instructions per recorded command split by source file
and function, and the driver's (its vkCmdPushConstants, and the reset at
vkBeginCommandBuffer).  Nothing is asserted."""
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


def main():
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
