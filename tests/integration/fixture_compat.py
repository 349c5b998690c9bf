#!/usr/bin/env python3
"""One node_exporter collector against the agent's on the same fixture tree.

Runs Debian's prometheus-node-exporter with only COLLECTOR enabled and --path.sysfs and
--path.procfs at the fixture, scrapes it once, runs `antimetal-agent collect NAME --sysfs ...
--procfs ... --format prom`, and compares: the same series (name and label set), the same value
(to the last bit but for float formatting: relative 1e-12), the same TYPE and HELP. Prints every
difference; exits 1 when there is one. The exporter's own series (go_*, process_*, promhttp_*,
node_scrape_collector_*, node_exporter_build_info) are left out.

Usage: fixture_compat.py AGENT_BINARY NODE_COLLECTOR AGENT_COLLECTOR SYSFS PROCFS
"""
import re
import subprocess
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from node_exporter_compat import LABEL, LINE, free_port, get, wait_up  # noqa: E402

SELF = re.compile(r"^(go_|promhttp_|process_|node_scrape_collector_|node_exporter_build_info)")


def parse(text):
    series, meta = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(None, 3)
            meta[(parts[1], parts[2])] = parts[3] if len(parts) > 3 else ""
            continue
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if SELF.match(m.group(1)):
            continue
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        series[(m.group(1), labels)] = float(m.group(4).replace("+Inf", "inf").replace("-Inf", "-inf"))
    return series, meta


def main():
    agent, node_coll, agent_coll, sysfs, procfs = sys.argv[1:6]
    port = free_port()
    node = subprocess.Popen(["prometheus-node-exporter", "--web.listen-address=127.0.0.1:%d" % port,
                             "--collector.disable-defaults", "--collector." + node_coll,
                             "--path.sysfs=" + sysfs, "--path.procfs=" + procfs],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(port, "/metrics", node, "node_exporter")
        n, nmeta = parse(get(port))
    finally:
        node.terminate()
        node.wait()
    out = subprocess.run([agent, "collect", agent_coll, "--sysfs", sysfs, "--procfs", procfs,
                          "--format", "prom"], capture_output=True, text=True, check=True).stdout
    a, ameta = parse(out)
    bad = []
    for k in sorted(set(n) | set(a), key=str):
        name, labels = k[0], dict(k[1])
        if k not in a:
            bad.append("missing in the agent: %s %s = %r" % (name, labels, n[k]))
        elif k not in n:
            bad.append("not in node_exporter: %s %s = %r" % (name, labels, a[k]))
        elif not (a[k] == n[k] or abs(a[k] - n[k]) <= 1e-12 * max(abs(a[k]), abs(n[k]))):
            bad.append("value of %s %s: agent %r, node_exporter %r" % (name, labels, a[k], n[k]))
    for name in sorted({k[0] for k in n}):
        for what in ("HELP", "TYPE"):
            if nmeta.get((what, name)) != ameta.get((what, name)):
                bad.append("%s of %s: agent %r, node_exporter %r"
                           % (what, name, ameta.get((what, name)), nmeta.get((what, name))))
    print("%s: %d node_exporter series, %d agent series, %d differences"
          % (node_coll, len(n), len(a), len(bad)))
    for b in bad:
        print("  " + b)
    return 1 if bad or not n else 0


if __name__ == "__main__":
    sys.exit(main())
