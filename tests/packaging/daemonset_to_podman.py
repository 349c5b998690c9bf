#!/usr/bin/env python3
"""The `podman run` arguments that run packaging/kubernetes's DaemonSet container as the kubelet
would, taken from the manifests themselves so the image test cannot drift from them.

usage: daemonset_to_podman.py SOURCE_DIR STATE_DIR NODE_NAME HOST_PORT|host [IMAGE]
Prints one argument per line: the options, the image (IMAGE, else the DaemonSet's), then the
container's args. STATE_DIR receives the ConfigMap's files and stands in for hostPaths the pod writes to
(type DirectoryOrCreate), so the test leaves the node's own paths alone. HOST_PORT publishes the
container port on 127.0.0.1 (the pod network); `host` shares the host's network instead.
Anything in the pod spec this mapping does not know is an error, not silently dropped."""
import os
import re
import sys

import yaml

src, state, node, port = sys.argv[1:5]
image = sys.argv[5] if len(sys.argv) > 5 else None
kdir = os.path.join(src, "packaging", "kubernetes")


def fail(msg):
    sys.exit(f"daemonset_to_podman: {msg}")


def docs_of(kind):
    out = []
    for name in sorted(os.listdir(kdir)):
        if name.endswith(".yaml") and name != "sys-admin-patch.yaml":
            with open(os.path.join(kdir, name)) as f:
                out += [d for d in yaml.safe_load_all(f) if d and d.get("kind") == kind]
    return out


def cpu_milli(q):
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


def mem_bytes(q):
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 1000, "M": 10**6, "G": 10**9}
    m = re.fullmatch(r"(\d+)([A-Za-z]*)", q)
    if not m or (m[2] and m[2] not in units):
        fail(f"quantity {q} not understood")
    return int(m[1]) * units.get(m[2], 1)


(ds,) = docs_of("DaemonSet")
configmaps = {c["metadata"]["name"]: c for c in docs_of("ConfigMap")}
pod = ds["spec"]["template"]["spec"]
(c,) = pod["containers"]
args = []
if pod.get("hostPID"):
    args.append("--pid=host")
if pod.get("hostNetwork") or port == "host":
    args.append("--network=host")
else:
    (p,) = c["ports"]
    args.append(f"--publish=127.0.0.1:{port}:{p['containerPort']}")
args.append(f"--stop-timeout={pod.get('terminationGracePeriodSeconds', 30)}")

sc = c.get("securityContext", {})
if sc.get("privileged"):
    fail("privileged containers are not mapped")
if "runAsUser" in sc:
    args.append(f"--user={sc['runAsUser']}")
if sc.get("readOnlyRootFilesystem"):
    args.append("--read-only")
if sc.get("allowPrivilegeEscalation") is False:
    args.append("--security-opt=no-new-privileges")
seccomp = sc.get("seccompProfile", {}).get("type", "RuntimeDefault")
if seccomp == "Unconfined":
    args.append("--security-opt=seccomp=unconfined")
elif seccomp != "RuntimeDefault":
    fail(f"seccompProfile {seccomp} is not mapped")
caps = sc.get("capabilities", {})
for cap in caps.get("drop", []):
    args.append(f"--cap-drop={cap.lower()}")
if caps.get("add"):
    args.append("--cap-add=" + ",".join(caps["add"]))

res = c.get("resources", {})
if "cpu" in res.get("limits", {}):
    args.append(f"--cpus={cpu_milli(res['limits']['cpu']) / 1000:g}")
if "memory" in res.get("limits", {}):
    args.append(f"--memory={mem_bytes(res['limits']['memory'])}")
if "cpu" in res.get("requests", {}):
    # The kubelet's shares for a CPU request (milli-CPUs * 1024 / 1000, at least 2).
    args.append(f"--cpu-shares={max(2, cpu_milli(res['requests']['cpu']) * 1024 // 1000)}")

env = {}
for e in c.get("env", []):
    ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    if ref == "spec.nodeName":
        env[e["name"]] = node
    elif "value" in e:
        env[e["name"]] = e["value"]
    else:
        fail(f"env {e['name']}: only values and fieldRef spec.nodeName are mapped")
    args.append(f"--env={e['name']}={env[e['name']]}")

volumes = {v["name"]: v for v in pod.get("volumes", [])}
for m in c.get("volumeMounts", []):
    v = volumes[m["name"]]
    ro = m.get("readOnly", False)
    if "hostPath" in v:
        hp = v["hostPath"]
        path = hp["path"]
        if hp.get("type") == "DirectoryOrCreate":
            path = os.path.join(state, "hostpath-" + v["name"])
            os.makedirs(path, exist_ok=True)
        opts = ["ro" if ro else "rw"]
        prop = m.get("mountPropagation")
        if prop == "HostToContainer":
            opts.append("rslave")
        elif prop not in (None, "None"):
            fail(f"mountPropagation {prop} is not mapped")
        args.append(f"--volume={path}:{m['mountPath']}:{','.join(opts)}")
    elif "configMap" in v:
        cm = configmaps[v["configMap"]["name"]]
        d = os.path.join(state, "configmap-" + v["name"])
        os.makedirs(d, exist_ok=True)
        for key, text in cm["data"].items():
            with open(os.path.join(d, key), "w") as f:
                f.write(text)
        args.append(f"--volume={d}:{m['mountPath']}:ro")
    elif "emptyDir" in v:
        size = v["emptyDir"].get("sizeLimit")
        args.append(f"--tmpfs={m['mountPath']}:rw" + (f",size={mem_bytes(size)}" if size else ""))
    else:
        fail(f"volume {v['name']}: only hostPath, configMap and emptyDir are mapped")

args.append(image or c["image"])
for a in c.get("args", []):
    args.append(re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), a))
print("\n".join(args))
