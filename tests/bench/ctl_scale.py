#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ctl_scale.py: what a one-pool change costs as the configuration grows to
Azure Standard's limits on one load balancer.

The configuration (one virtual network, --lbs load balancers) scales with
--addresses A per load balancer: at A = 18,000 a load balancer has 600
frontends, 1,500 Floating IP rules and 300 pools of 60 addresses (Azure
Standard's limits); smaller A keeps 60 addresses a pool and shrinks the
pools, rules and frontends in proportion (at least one of each). sluiced
starts from it on a net_null port with --state-dir (the changes are
durable), then one pool of 60 addresses is replaced through the REST API
--changes times (alternating member sets, so every change is real). Per
change:
  round trip             the PUT's, on a kept-open connection
  request to publication GET /sluice/status lastCommitMicroseconds
  validate / compile / persist / publish
A configuration file holds at most 16 MiB (four such load balancers): with
more, the others are PUT one by one after the start, and the start-up time
is that of the file's. Also: start-up to the API answering with the
configuration published,
resident memory before and after the configuration, per configured address.

  ctl_scale.py [--addresses 18000[,10,...]] [--lbs 1] [--changes 200] [--csv out.csv]
  ctl_scale.py --write-config FILE [--addresses 18000] [--lbs 1]

--write-config writes the configuration of the first --addresses to FILE
and runs nothing (tests/bench/compile_delta times the compilation of its
one-pool changes without sluiced).
"""
import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import slharness  # noqa: E402

SUB, RG = "bench", "bench"
ARM = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
API = "?api-version=2020-05-01"
PER_POOL = 60
FILE_MAX = 16 << 20  # SL_CONFIG_MAX_FILE_SIZE


def shape(addresses):
    """(frontends, rules, pools) for `addresses` on one load balancer."""
    pools = max(1, addresses // PER_POOL)
    rules = max(1, pools * 5)
    frontends = max(1, pools * 2)
    return frontends, rules, pools


def addr(lb, i):
    n = lb * 262144 + i
    return f"10.{64 + n // 65536}.{(n // 256) % 256}.{n % 256}"


def vip(lb, i):
    n = lb * 4096 + i + 1
    return f"10.{8 + n // 65536}.{(n // 256) % 256}.{n % 256}"


def pool_addresses(lb, p, size, shift):
    vnet = f"{ARM}/virtualNetworks/vnet"
    return [{"name": f"a{j}", "properties": {
        "ipAddress": addr(lb, p * (PER_POOL + 2) + j + shift), "virtualNetwork": {"id": vnet}}}
        for j in range(size)]


def config(addresses, lbs):
    fes, rules, pools = shape(addresses)
    size = min(PER_POOL, addresses)
    doc = {"virtualNetworks": [{"name": "vnet", "id": f"{ARM}/virtualNetworks/vnet", "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/8"]},
        "floatingIpDelivery": {"mode": "IPinIP"}}}],
        "loadBalancers": []}
    if addresses * lbs > 20000:
        doc["settings"] = {"maxAddressesPerLoadBalancer": max(20000, addresses)}
    for lb in range(lbs):
        lid = f"{ARM}/loadBalancers/lb{lb}"
        doc["loadBalancers"].append({"name": f"lb{lb}", "id": lid, "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": f"fe{i}", "properties": {"privateIPAddress": vip(lb, i)}}
                                         for i in range(fes)],
            "backendAddressPools": [{"name": f"pool{p}", "properties": {
                "loadBalancerBackendAddresses": pool_addresses(lb, p, size, 0)}} for p in range(pools)],
            "loadBalancingRules": [{"name": f"rule{r}", "properties": {
                "frontendIPConfiguration": {"id": f"{lid}/frontendIPConfigurations/fe{r % fes}"},
                "backendAddressPool": {"id": f"{lid}/backendAddressPools/pool{r % pools}"},
                "protocol": "Tcp", "frontendPort": 1000 + r // fes, "backendPort": 1000 + r // fes,
                "enableFloatingIP": True}} for r in range(rules)]}})
    return doc


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100.0 * (len(v) - 1))))]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(work, cfg_path):
    prof = os.path.join(work, "ports.json")
    with open(prof, "w") as f:
        json.dump({"ports": [{"name": "null0", "device": "net_null0", "rxQueues": 1,
                              "neighbourDiscovery": False, "macAddress": slharness.SLUICE_MAC,
                              "ipv4Address": "10.0.0.2", "gateway": {"ipv4": "10.0.0.1"},
                              "neighbours": [{"ipAddress": "10.0.0.1",
                                              "macAddress": slharness.ROUTER_MAC}]}]}, f)
    sock = os.path.join(work, "api.sock")
    mem = shlex.split(os.environ.get("SL_EAL_MEM", "--no-huge -m 1024"))
    cmd = ([slharness.sluiced_path(), "-l", "0,1", "--no-pci", "--no-telemetry",
            "--log-level=lib.eal:error", f"--file-prefix=slscale{os.getpid()}"] + mem +
           ["--", "--ports", prof, "--api-socket", sock, "--state-dir", os.path.join(work, "state")] +
           (["--config", cfg_path] if cfg_path else []))
    log = open(os.path.join(work, "sluiced.log"), "a")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while True:
        if proc.poll() is not None or time.time() > deadline:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise SystemExit("sluiced did not start; see " + log.name)
        if os.path.exists(sock):
            try:
                st, _, body = slharness.api_request(sock, "GET", "/sluice/status")
                if st == 200 and json.loads(body).get("commits", 0) >= 1:
                    break
            except OSError:
                pass
        time.sleep(0.01)
    return proc, sock, log, time.perf_counter() - t0


def stop(proc, log):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def run_one(addresses, lbs, changes):
    work = tempfile.mkdtemp(prefix="sluice-scale-")
    # Empty first: the resident memory of sluiced without a configuration.
    proc, sock, log, _ = start(work, None)
    empty_rss = rss_kib(proc.pid)
    stop(proc, log)
    os.system(f"rm -rf {shlex.quote(os.path.join(work, 'state'))}")
    cfg = os.path.join(work, "config.json")
    doc = config(addresses, lbs)
    # A configuration file holds at most 16 MiB and a request body 4 MiB: the
    # load balancers past what the file holds are PUT one by one after the start.
    in_file, rest = doc["loadBalancers"], []
    while len(json.dumps(dict(doc, loadBalancers=in_file))) > FILE_MAX and len(in_file) > 1:
        in_file, rest = in_file[:-1], [in_file[-1]] + rest
    with open(cfg, "w") as f:
        json.dump(dict(doc, loadBalancers=in_file), f)
    proc, sock, log, startup = start(work, cfg)
    try:
        conn = slharness.UnixHTTPConnection(sock, timeout=120)
        for res in rest:
            conn.request("PUT", res["id"] + API, body=json.dumps(res),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            text = r.read()
            if r.status not in (200, 201):
                raise SystemExit(f"PUT {res['name']}: {r.status} {text[:300]}")
        full_rss = rss_kib(proc.pid)
        pools = shape(addresses)[2]
        size = min(PER_POOL, addresses)
        rows, last = [], {}
        for i in range(changes):
            lb, p = i % lbs, (i // lbs) % pools
            obj = {"properties": {"loadBalancerBackendAddresses": pool_addresses(lb, p, size, 1 + (i // (lbs * pools)) % 2)}}
            last[(lb, p)] = (lb, p, obj)
            body = json.dumps(obj)
            path = f"{ARM}/loadBalancers/lb{lb}/backendAddressPools/pool{p}{API}"
            t0 = time.perf_counter()
            conn.request("PUT", path, body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            rtt = (time.perf_counter() - t0) * 1e6
            if r.status not in (200, 201):
                raise SystemExit(f"PUT {i}: {r.status}")
            conn.request("GET", "/sluice/status")
            r = conn.getresponse()
            lc = json.loads(r.read())["lastCommitMicroseconds"]
            rows.append((i, rtt, lc["requestToPublish"], lc["validate"], lc["compile"],
                         lc["persist"], lc["publish"]))
        # What the changes left: the last PUT of each pool is what a GET gives, and
        # every change took the incremental path (the benchmark is of that path).
        for lb, p, body in last.values():
            conn.request("GET", f"{ARM}/loadBalancers/lb{lb}/backendAddressPools/pool{p}{API}")
            r = conn.getresponse()
            got = json.loads(r.read())["properties"]["loadBalancerBackendAddresses"]
            want = body["properties"]["loadBalancerBackendAddresses"]
            if [(x["name"], x["properties"]["ipAddress"]) for x in got] != \
                    [(x["name"], x["properties"]["ipAddress"]) for x in want]:
                raise SystemExit(f"pool{p} of lb{lb} is not what its last PUT sent")
        conn.request("GET", "/sluice/status")
        r = conn.getresponse()
        st = json.loads(r.read())
        inc = st.get("incrementalCommits", 0)
        if inc != changes:
            raise SystemExit(f"{changes - inc} of {changes} changes did not take the incremental path")
        conn.close()
    finally:
        stop(proc, log)
    return {"addresses": addresses * lbs, "lbs": lbs, "startup_s": startup, "empty_rss_kib": empty_rss,
            "rss_kib": full_rss, "rows": rows}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--addresses", default="18000", help="addresses per load balancer, comma-separated")
    ap.add_argument("--lbs", type=int, default=1)
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--csv")
    ap.add_argument("--write-config", metavar="FILE")
    a = ap.parse_args(argv)
    if a.write_config:
        with open(a.write_config, "w") as f:
            json.dump(config(int(a.addresses.split(",")[0]), a.lbs), f)
        return 0
    err = slharness.ensure_built()
    if err:
        raise SystemExit(err)
    cols = ["round trip", "request to publication", "validate", "compile", "persist", "publish"]
    csv = []
    for n in [int(x) for x in a.addresses.split(",")]:
        res = run_one(n, a.lbs, a.changes)
        fes, rules, pools = shape(n)
        per = (res["rss_kib"] - res["empty_rss_kib"]) * 1024 / max(1, res["addresses"])
        print(f"{res['addresses']} addresses ({a.lbs} load balancer(s) of {fes} frontends, {rules} rules, "
              f"{pools} pools); start-up {res['startup_s']:.2f} s; resident "
              f"{res['empty_rss_kib'] / 1024:.0f} -> {res['rss_kib'] / 1024:.0f} MiB, "
              f"{per:.0f} bytes an address")
        print(f"  {a.changes} one-pool PUTs, microseconds {'p50':>9}{'p99':>9}{'max':>9}")
        for k, name in enumerate(cols, start=1):
            v = [r[k] for r in res["rows"]]
            print(f"  {name:<34}{pct(v, 50):>9.0f}{pct(v, 99):>9.0f}{max(v):>9.0f}")
            csv.append((res["addresses"], name, pct(v, 50), pct(v, 99), max(v)))
        csv.append((res["addresses"], "startup_s", res["startup_s"], 0, 0))
        csv.append((res["addresses"], "bytes_per_address", per, 0, 0))
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("addresses,figure,p50,p99,max\n")
            for r in csv:
                f.write(f"{r[0]},{r[1]},{r[2]:.1f},{r[3]:.1f},{r[4]:.1f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
