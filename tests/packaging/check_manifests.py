#!/usr/bin/env python3
"""Check packaging/kubernetes: every file parses, and every flag, config key, path, port and
capability the manifests use exists in the agent or on a Linux node.

usage: check_manifests.py AGENT_BINARY SOURCE_DIR
Prints one line per problem and exits 1 when there is any."""
import os
import re
import subprocess
import sys
import tempfile

import yaml

agent, src = sys.argv[1], sys.argv[2]
kdir = os.path.join(src, "packaging", "kubernetes")
problems = []


def problem(msg):
    problems.append(msg)
    print("check_manifests: " + msg)


def load_all():
    docs = {}
    for name in sorted(os.listdir(kdir)):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(kdir, name)) as f:
            try:
                docs[name] = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                problem(f"{name}: does not parse: {e}")
    return docs


def capabilities():
    """Capability names the kernel headers define (CAP_BPF -> BPF)."""
    with open("/usr/include/linux/capability.h") as f:
        return set(re.findall(r"#define CAP_([A-Z_]+)\s+\d+", f.read()))


def by_kind(docs, kind):
    return [(n, d) for n, ds in docs.items() for d in ds if d.get("kind") == kind]


def check_kustomization(docs):
    for name, d in by_kind(docs, "Kustomization"):
        for r in d.get("resources", []):
            if not os.path.exists(os.path.join(kdir, r)):
                problem(f"{name}: resource {r} does not exist")


def check_pod(name, ds, caps):
    spec = ds["spec"]["template"]["spec"]
    if not spec.get("hostPID"):
        problem(f"{name}: hostPID must be true (host pids in events and profiles)")
    if {"operator": "Exists"} not in spec.get("tolerations", []):
        problem(f"{name}: no toleration of every taint (operator: Exists)")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    (c,) = spec["containers"]
    sc = c.get("securityContext", {})
    added = sc.get("capabilities", {}).get("add", [])
    for cap in added:
        if cap not in caps:
            problem(f"{name}: {cap} is not a Linux capability")
    if sc.get("privileged"):
        problem(f"{name}: privileged; the capabilities are meant to be the narrowest")
    if "SYS_ADMIN" in added:
        problem(f"{name}: CAP_SYS_ADMIN in the default set (only sys-admin-patch.yaml adds it)")
    if sc.get("capabilities", {}).get("drop") != ["ALL"]:
        problem(f"{name}: capabilities must drop ALL first")
    # The runtimes' default seccomp profiles let bpf(2) and perf_event_open(2) through only with
    # CAP_SYS_ADMIN: left to the node (RuntimeDefault under kubelet's --seccomp-default), every
    # BPF load would fail with EPERM.
    if sc.get("seccompProfile", {}).get("type") not in ("Unconfined", "Localhost"):
        problem(f"{name}: seccompProfile must be Unconfined (or a Localhost profile allowing bpf "
                "and perf_event_open): RuntimeDefault refuses them without CAP_SYS_ADMIN")
    for k in ("requests", "limits"):
        if not c.get("resources", {}).get(k):
            problem(f"{name}: no resources.{k}")
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    for m in mounts.values():
        v = volumes.get(m["name"])
        if not v:
            problem(f"{name}: mount {m['mountPath']} names no volume {m['name']}")
            continue
        hp = v.get("hostPath")
        if hp and hp.get("type") == "Directory" and not os.path.isdir(hp["path"]):
            problem(f"{name}: hostPath {hp['path']} is not a directory on this node")
        if hp and hp["path"] in ("/", "/proc", "/sys", "/sys/fs/cgroup", "/sys/kernel/tracing"):
            if not m.get("readOnly"):
                problem(f"{name}: host {hp['path']} must be mounted read-only")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = c.get(probe, {}).get("httpGet", {})
        if g.get("path") != path:
            problem(f"{name}: {probe} must GET {path}, not {g.get('path')}")
        if g.get("port") not in ports and g.get("port") not in ports.values():
            problem(f"{name}: {probe} port {g.get('port')} is not a container port")
    ann = ds["spec"]["template"]["metadata"].get("annotations", {})
    if ann.get("prometheus.io/scrape") != "true" or int(ann.get("prometheus.io/port", 0)) not in ports.values():
        problem(f"{name}: scrape annotations missing or naming another port")
    return c, mounts, volumes, ports


def expand_env(c):
    """The container's args with $(VAR) expanded as the kubelet does, and the env it knows:
    a fieldRef stands for a sample value. A $(VAR) the env lacks stays literal (kubelet's rule)."""
    env = {}
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        env[e["name"]] = e.get("value", f"<{ref}>" if ref else "")
    return [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), a)
            for a in c["args"]], env


def check_agent_config(c, mounts, volumes, ports, cm):
    args, env = expand_env(c)
    for a in args:
        if "$(" in a:
            problem(f"arg '{a}' names a variable the container's env does not set")
    if "--hostname" not in args or args[args.index("--hostname") + 1] != "<spec.nodeName>":
        problem("--hostname must be the node's name (env from fieldRef spec.nodeName): "
                "the pod's own host name would name every event after the pod")
    if args[0] != "run":
        problem(f"container runs '{args[0]}', not 'run'")
    text = cm["data"]["config.yaml"]
    cfg = yaml.safe_load(text)
    cfgpath = args[args.index("--config") + 1] if "--config" in args else None
    if not cfgpath or os.path.dirname(cfgpath) not in mounts:
        problem(f"--config {cfgpath} is not in a mounted directory")
    elif volumes[mounts[os.path.dirname(cfgpath)]["name"]].get("configMap", {}).get("name") != cm["metadata"]["name"]:
        problem(f"{os.path.dirname(cfgpath)} is not the ConfigMap's volume")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        run_args = [a if a != cfgpath else f.name for a in args]
        r = subprocess.run([agent] + run_args + ["--check-config"], capture_output=True, text=True)
        if r.returncode != 0:
            problem(f"the agent refuses the manifest's flags or config: {r.stderr.strip()}")
    finally:
        os.unlink(f.name)
    rootfs = cfg.get("paths", {}).get("rootfs")
    if rootfs not in mounts or not mounts[rootfs].get("readOnly"):
        problem(f"paths.rootfs {rootfs} is not the read-only host root mount")
    elif volumes[mounts[rootfs]["name"]].get("hostPath", {}).get("path") != "/":
        problem(f"paths.rootfs {rootfs} is not the node's /")
    if cfg.get("http", {}).get("port") not in ports.values():
        problem(f"http.port {cfg.get('http', {}).get('port')} is not the container port")
    if cfg.get("http", {}).get("address") not in ("0.0.0.0", "::"):
        problem("http.address must listen on the pod's address for scrapes")
    out = cfg.get("profiler", {}).get("output_dir")
    if cfg.get("profiler", {}).get("enabled", True) and (out not in mounts or mounts[out].get("readOnly")):
        problem(f"profiler.output_dir {out} is not a writable mount (the root file system is read-only)")


def check_service(docs, ports):
    for name, svc in by_kind(docs, "Service"):
        for p in svc["spec"]["ports"]:
            if p.get("targetPort") not in ports and p.get("targetPort") not in ports.values():
                problem(f"{name}: targetPort {p.get('targetPort')} is not a container port")
        names = {p["name"] for p in svc["spec"]["ports"]}
        for mname, sm in by_kind(docs, "ServiceMonitor"):
            for e in sm["spec"]["endpoints"]:
                if e.get("port") not in names:
                    problem(f"{mname}: endpoint port {e.get('port')} is not a Service port")
            if sm["spec"]["selector"]["matchLabels"].items() > svc["metadata"]["labels"].items():
                problem(f"{mname}: selector does not match the Service's labels")


def main():
    docs = load_all()
    for name, ds in docs.items():
        for d in ds:
            if "kind" not in d:
                continue
            if d["kind"] != "Kustomization" and not d.get("metadata", {}).get("name") and name != "sys-admin-patch.yaml":
                problem(f"{name}: {d['kind']} without metadata.name")
    check_kustomization(docs)
    (dsname, ds), = by_kind(docs, "DaemonSet")
    (_, cm), = by_kind(docs, "ConfigMap")
    c, mounts, volumes, ports = check_pod(dsname, ds, capabilities())
    check_agent_config(c, mounts, volumes, ports, cm)
    check_service(docs, ports)
    print(f"check_manifests: {sum(len(d) for d in docs.values())} documents in {len(docs)} files, "
          f"{len(problems)} problems")
    return 1 if problems else 0


sys.exit(main())
