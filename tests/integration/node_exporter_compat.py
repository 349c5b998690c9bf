#!/usr/bin/env python3
"""Series-by-series comparison of the agent's /metrics with Debian's prometheus-node-exporter.

Runs both on loopback ports, scrapes node_exporter (n0), waits, scrapes the agent (a) and
node_exporter again (n1), then for every node_exporter series asks: does the agent serve the
same name and label set, and does the value agree?

  info metrics (value 1, facts in labels) .... equal
  counters (TYPE counter, *_total, netstat/vmstat untyped counters)
                                              .... n0 - slack <= a <= n1 + slack: the agent's
                                                   collection fell between the two node scrapes
  gauges ..................................... within [min(n0,n1) - tol, max(n0,n1) + tol],
                                               tol = max(REL_TOL * |n|, ABS_TOL[family])
  self and scrape meta (process_*, node_scrape_collector_*) ... presence only: they describe
                                               two different programs

Prints a coverage table per collector and every mismatch; exits 1 when fewer than TARGET of
node_exporter's default-collector series match (process_*, node_scrape_collector_*, go_*,
promhttp_* and node_exporter_build_info are reported but not counted: they describe the
exporter, not the host).

Usage: node_exporter_compat.py AGENT_BINARY [--keep DIR]
"""
import math
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

TARGET = 0.95
REL_TOL = 0.05
# Absolute tolerances for gauges that move on their own between two scrapes.
ABS_TOL = [
    (r"^node_time_seconds$", 10.0),
    (r"^node_load", 1.0),
    (r"^node_procs_(running|blocked)$", 8.0),
    (r"^node_filefd_allocated$", 200.0),
    (r"^node_sockstat_", 20.0),
    (r"^node_memory_", 64 << 20),
    (r"^node_nf_conntrack_entries$", 50.0),
    (r"^node_netstat_Tcp_CurrEstab$", 10.0),
    (r"^node_udp_queues$", 1 << 20),
    (r"^node_disk_io_now$", 8.0),
    (r"^node_entropy_available_bits$", 4096.0),
    (r"^node_arp_entries$", 4.0),
    (r"^node_timex_", 1e-3),
    (r"", 2.0),
]
# Counters node_exporter declares untyped or gauge.
COUNTER_LIKE = re.compile(r"(_total$|^node_netstat_(?!.*CurrEstab|Ip_Forwarding)|^node_vmstat_"
                          r"|^node_nf_conntrack_stat_)")
NOT_COUNTED = re.compile(r"^(go_|promhttp_|process_|node_scrape_collector_|node_exporter_build_info)")
PRESENCE_ONLY = re.compile(r"^(process_|node_scrape_collector_)")

# Which node_exporter collector a metric name belongs to (for the table).
COLLECTOR_OF = [
    (r"^node_cpu_", "cpu"), (r"^node_(boot_time|context_switches|forks|intr|procs)_", "stat"),
    (r"^node_load", "loadavg"), (r"^node_memory_", "meminfo"), (r"^node_vmstat_", "vmstat"),
    (r"^node_disk_", "diskstats"), (r"^node_filesystem_", "filesystem"),
    (r"^node_network_(receive|transmit)_(bytes|packets|errs|drop|fifo|frame|compressed|multicast"
     r"|colls|carrier|nohandler)", "netdev"),
    (r"^node_network_", "netclass"), (r"^node_netstat_", "netstat"),
    (r"^node_sockstat_", "sockstat"), (r"^node_pressure_", "pressure"),
    (r"^node_(time|timex)_", None), (r"^node_nf_conntrack", "conntrack"),
    (r"^node_softnet_", "softnet"), (r"^node_udp_", "udp_queues"), (r"^node_arp_", "arp"),
    (r"^node_filefd_", "filefd"), (r"^node_entropy_", "entropy"), (r"^node_uname_", "uname"),
    (r"^node_os_", "os"), (r"^node_selinux_", "selinux"), (r"^node_textfile_", "textfile"),
    (r"^node_hwmon_", "hwmon"), (r"^node_thermal_zone_", "thermal_zone"),
    (r"^node_edac_", "edac"), (r"^node_scrape_", "scrape meta"), (r"^process_", "process self"),
    (r"^node_exporter_", "exporter self"), (r"^(go|promhttp)_", "go runtime"),
]


def collector_of(name):
    for pat, col in COLLECTOR_OF:
        if re.search(pat, name):
            if col is None:
                return "timex" if name.startswith("node_timex_") else "time"
            return col
    return "other"


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value}, {name: type}"""
    series, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(None, 3)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            raise ValueError("unparsable line: " + line)
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        v = m.group(4)
        series[(m.group(1), labels)] = float(v.replace("+Inf", "inf").replace("-Inf", "-inf"))
    return series, types


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path="/metrics", timeout=10):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.read().decode()


def wait_up(port, path, proc, what, deadline_s=20):
    end = time.time() + deadline_s
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit("%s exited with %s" % (what, proc.returncode))
        try:
            get(port, path, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("%s did not answer on port %d" % (what, port))


def abs_tol(name):
    for pat, tol in ABS_TOL:
        if re.search(pat, name):
            return tol
    return 0.0


def judge(name, typ, n0, n1, a):
    """None when the values agree, else the reason."""
    if PRESENCE_ONLY.search(name):
        return None
    if math.isnan(n0) or math.isnan(n1):
        return None if math.isnan(a) else "node_exporter NaN, agent %g" % a
    lo, hi = min(n0, n1), max(n0, n1)
    if typ == "counter" or COUNTER_LIKE.search(name):
        # Seconds counted in ticks or ms round differently: one tick of slack.
        slack = 0.011 if name.endswith("seconds_total") else 0.0
        if lo - slack <= a <= hi + slack:
            return None
        return "counter %g outside node_exporter's [%g, %g]" % (a, lo, hi)
    tol = max(REL_TOL * max(abs(lo), abs(hi)), abs_tol(name))
    if lo - tol <= a <= hi + tol:
        return None
    return "gauge %g vs node_exporter %g..%g (tolerance %g)" % (a, lo, hi, tol)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    agent_bin = sys.argv[1]
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    nport, aport = free_port(), free_port()
    devnull = subprocess.DEVNULL
    node = subprocess.Popen(["prometheus-node-exporter",
                             "--web.listen-address=127.0.0.1:%d" % nport],
                            stdout=devnull, stderr=devnull)
    agent = subprocess.Popen([agent_bin, "run", "--listen", "127.0.0.1:%d" % aport, "--config",
                              "/dev/null", "--interval", "1s", "--no-execsnoop",
                              "--no-profiler"], stdout=devnull, stderr=devnull)
    try:
        wait_up(nport, "/metrics", node, "prometheus-node-exporter")
        wait_up(aport, "/healthz", agent, "antimetal-agent")
        time.sleep(2.5)  # two collections: rates and every collector have run
        t0 = time.time()
        n0_text = get(nport)
        # The agent serves its last collection (<= 1 s old): make that collection come
        # after the first node scrape.
        time.sleep(1.2)
        a_text = get(aport)
        n1_text = get(nport)
        t1 = time.time()
    finally:
        for p in (agent, node):
            p.terminate()
        for p in (agent, node):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    if keep:
        for fname, text in (("node0.prom", n0_text), ("agent.prom", a_text),
                            ("node1.prom", n1_text)):
            with open(os.path.join(keep, fname), "w") as f:
                f.write(text)
    n0, types = parse(n0_text)
    n1, _ = parse(n1_text)
    a, atypes = parse(a_text)

    table = {}
    mismatches = []
    for key, v0 in sorted(n0.items()):
        name, labels = key
        col = collector_of(name)
        row = table.setdefault(col, [0, 0, 0, not NOT_COUNTED.search(name)])
        row[0] += 1
        if key not in a:
            same_name = [lbl for (nm, lbl) in a if nm == name]
            why = "absent" if not same_name else "no series with these labels (agent has %d)" % len(same_name)
            mismatches.append((col, name, labels, why))
            continue
        row[1] += 1
        v1 = n1.get(key, v0)
        why = judge(name, types.get(name, "untyped"), v0, v1, a[key])
        if why:
            mismatches.append((col, name, labels, why))
            continue
        tn, ta = types.get(name, "untyped"), atypes.get(name, "untyped")
        if tn != ta:
            mismatches.append((col, name, labels, "TYPE %s, node_exporter %s" % (ta, tn)))
            continue
        row[2] += 1

    print("node_exporter vs agent, scrapes %.1f s apart" % (t1 - t0))
    print("%-16s %8s %8s %8s %8s" % ("collector", "node", "present", "agree", "counted"))
    tot = [0, 0, 0]
    for col in sorted(table):
        n, p, ok, counted = table[col]
        print("%-16s %8d %8d %8d %8s" % (col, n, p, ok, "yes" if counted else "no"))
        if counted:
            tot[0] += n
            tot[1] += p
            tot[2] += ok
    ratio = tot[2] / tot[0] if tot[0] else 0
    print("%-16s %8d %8d %8d   %.1f%% matched (target %.0f%%)" % ("counted total", tot[0], tot[1],
                                                                tot[2], 100 * ratio, 100 * TARGET))
    print("\nmismatches (%d):" % len(mismatches))
    for col, name, labels, why in mismatches:
        lbl = ",".join('%s="%s"' % kv for kv in sorted(labels))
        print("  [%s] %s{%s}: %s" % (col, name, lbl, why))
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
