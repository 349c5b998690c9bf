#!/usr/bin/python3
"""Compare the agent's /metrics with what a remote_write receiver stored (test_remote_write).

usage: remote_write_compare.py METRICS_FILE QUERY_JSON INSTANCE JOB [REL_TOL]

METRICS_FILE is a /metrics body; QUERY_JSON the answer of the receiver's /api/v1/query for
{instance="INSTANCE"} (every series it holds from this agent, with its latest value). Checks:
the two hold exactly the same series (names and labels: /metrics' with empty labels dropped,
plus instance and job), and every value is equal, except the agent's own counters that move
with each push (antimetal_agent_*, antimetal_export_*, antimetal_remote_write_*), which are
only checked to be there. The test runs it while no collector collects (a one-hour interval),
so each value on /metrics is the one that was pushed. Values must be equal, or within REL_TOL
(relative) when given: VictoriaMetrics keeps about 12 significant decimal digits of a float
(its documented lossy compression), Prometheus every bit. Prints a summary; exits 1 on a
mismatch.
"""
import json
import math
import sys

MOVING = ("antimetal_agent_", "antimetal_export_", "antimetal_remote_write_")


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_labels(text, i):
    """Labels from TEXT[i] (just after '{') to the closing '}': (dict, index after '}')."""
    labels = {}
    while text[i] != "}":
        eq = text.index("=", i)
        name = text[i:eq].strip().lstrip(",").strip()
        j = eq + 2  # past ="
        val = []
        while text[j] != '"':
            if text[j] == "\\":
                val.append(text[j : j + 2])
                j += 2
            else:
                val.append(text[j])
                j += 1
        labels[name] = unescape("".join(val))
        i = j + 1
        if text[i] == ",":
            i += 1
    return labels, i + 1


def parse_metrics(path, instance, job):
    series = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            brace = line.find("{")
            space = line.find(" ")
            if brace != -1 and brace < space:
                name = line[:brace]
                labels, end = parse_labels(line, brace + 1)
                value = line[end:].strip()
            else:
                name, value = line[:space], line[space + 1 :]
                labels = {}
            labels = {k: v for k, v in labels.items() if v}
            labels.setdefault("instance", instance)
            labels.setdefault("job", job)
            labels["__name__"] = name
            key = tuple(sorted(labels.items()))
            # A scrape keeps the first of duplicates; so does the encoder.
            series.setdefault(key, float(value))
    return series


def parse_query(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("status") != "success":
        sys.exit("receiver query failed: %s" % json.dumps(doc)[:500])
    return {
        tuple(sorted(r["metric"].items())): float(r["value"][1])
        for r in doc["data"]["result"]
    }


def show(key):
    d = dict(key)
    name = d.pop("__name__", "?")
    return name + "{" + ",".join('%s="%s"' % kv for kv in sorted(d.items())) + "}"


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    tol = float(sys.argv[5]) if len(sys.argv) == 6 else 0.0
    agent = parse_metrics(sys.argv[1], sys.argv[3], sys.argv[4])
    stored = parse_query(sys.argv[2])
    missing = sorted(set(agent) - set(stored))
    extra = sorted(set(stored) - set(agent))
    differ = []
    compared = 0
    for key, v in agent.items():
        if key not in stored or dict(key)["__name__"].startswith(MOVING):
            continue
        w = stored[key]
        compared += 1
        if not (
            v == w
            or (math.isnan(v) and math.isnan(w))
            or abs(v - w) <= tol * max(abs(v), abs(w))
        ):
            differ.append("%s: /metrics %r, receiver %r" % (show(key), v, w))
    print(
        "series: /metrics %d, receiver %d; values compared %d, differing %d"
        % (len(agent), len(stored), compared, len(differ))
    )
    for k in missing[:20]:
        print("not in the receiver: " + show(k))
    for k in extra[:20]:
        print("not on /metrics: " + show(k))
    for d in differ[:20]:
        print("value differs: " + d)
    if missing or extra or differ or compared < 100:
        sys.exit(1)


if __name__ == "__main__":
    main()
