#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""deploy_bench.py: how long an ARM template deployment of a 1,000-address
pool takes, from the PUT to the workers using it, beside a plain pool PUT of
the same addresses.

sluiced runs on a net_null port (vdevs, no NIC) with a state directory.
A template whose load balancer's pool is filled by a property copy loop
(--addresses entries, the addresses computed by expressions) is deployed
--runs times, alternating between two address sets so that every run
changes the pool; then the pool itself is PUT with the same two sets as
many times. For each: the PUT's round trip (the answer comes after
publication, whose grace period means every worker uses the new snapshot,
and after the state file is written) and request to publication
(lastCommitMicroseconds.requestToPublish of GET /sluice/status: body parse,
template expansion, mapping, validation, compile, publication). Medians
are printed.

  deploy_bench.py [--runs 5] [--addresses 1000]
"""
import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import slharness  # noqa: E402

SUB, RG = "bench", "bench"
NET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
DEPLOY = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Resources/"
          "deployments/bench")
API = "?api-version=2020-05-01"


def template():
    """vnet + LB with a frontend and a pool of parameters('count') addresses; the
    addresses start at parameters('first') (10.x.y.z by div and mod)."""
    vnet_id = "[resourceId('Microsoft.Network/virtualNetworks', 'bench-vnet')]"
    i = "add(parameters('first'), copyIndex('loadBalancerBackendAddresses'))"
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                   "deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"count": {"type": "int"}, "first": {"type": "int"}},
        "resources": [
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2020-05-01",
             "name": "bench-vnet", "location": "eastus",
             "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/8"]},
                            "subnets": [{"name": "fe", "properties": {
                                "addressPrefix": "10.0.0.0/24"}}]}},
            {"type": "Microsoft.Network/loadBalancers", "apiVersion": "2020-05-01",
             "name": "bench-lb", "location": "eastus", "sku": {"name": "Standard"},
             "dependsOn": [vnet_id],
             "properties": {
                 "frontendIPConfigurations": [{"name": "fe", "properties": {
                     "privateIPAddress": "10.0.0.10",
                     "subnet": {"id": f"[concat({vnet_id[1:-1]}, '/subnets/fe')]"}}}],
                 "backendAddressPools": [{"name": "pool", "properties": {"copy": [{
                     "name": "loadBalancerBackendAddresses",
                     "count": "[parameters('count')]",
                     "input": {
                         "name": f"[concat('a', {i})]",
                         "properties": {
                             "ipAddress": f"[concat('10.', string(add(1, div({i}, 62500))), "
                                          f"'.', string(mod(div({i}, 250), 250)), '.', "
                                          f"string(add(1, mod({i}, 250))))]",
                             "virtualNetwork": {"id": vnet_id}}}}]}}],
                 "loadBalancingRules": [{"name": "web", "properties": {
                     "frontendIPConfiguration": {"id": "[concat(resourceId("
                         "'Microsoft.Network/loadBalancers', 'bench-lb'), "
                         "'/frontendIPConfigurations/fe')]"},
                     "backendAddressPool": {"id": "[concat(resourceId("
                         "'Microsoft.Network/loadBalancers', 'bench-lb'), "
                         "'/backendAddressPools/pool')]"},
                     "protocol": "Tcp", "frontendPort": 80, "backendPort": 80}}]}}]}


def addresses(n, first):
    """What the template's copy loop computes, for the plain pool PUT."""
    vnet = f"{NET}/virtualNetworks/bench-vnet"
    return {"properties": {"loadBalancerBackendAddresses": [
        {"name": f"a{i}", "properties": {
            "ipAddress": f"10.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}",
            "virtualNetwork": {"id": vnet}}} for i in range(first, first + n)]}}


def timed(sock, method, path, body):
    t0 = time.perf_counter()
    status, _, data = slharness.api_request(sock, method, path, body, timeout=60)
    rtt = (time.perf_counter() - t0) * 1e6
    if status not in (200, 201):
        raise SystemExit(f"{method} {path}: {status} {data[:2000]!r}")
    _, _, st = slharness.api_request(sock, "GET", "/sluice/status")
    return rtt, json.loads(st)["lastCommitMicroseconds"]["requestToPublish"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--addresses", type=int, default=1000)
    a = ap.parse_args(argv)

    work = tempfile.mkdtemp(prefix="sluice-deploy-bench-")
    prof = os.path.join(work, "ports.json")
    with open(prof, "w") as f:
        json.dump({"ports": [{"name": "null0", "device": "net_null0",
                              "devargs": "size=64,copy=0", "macAddress": slharness.SLUICE_MAC,
                              "ipv4Address": "10.0.0.2"}]}, f)
    sock = os.path.join(work, "api.sock")
    mem = shlex.split(os.environ.get("SL_EAL_MEM", "--no-huge -m 1024"))
    cmd = ([slharness.sluiced_path(), "-l", "0,1", "--no-pci", "--no-telemetry",
            "--log-level=lib.eal:error", f"--file-prefix=sldep{os.getpid()}"] + mem +
           ["--", "--ports", prof, "--api-socket", sock, "--state-dir",
            os.path.join(work, "state")])
    log = open(os.path.join(work, "sluiced.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    rows = {"deployment PUT": [], "pool PUT": []}
    try:
        deadline = time.time() + 30
        while not os.path.exists(sock):
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit("sluiced did not start; see " + log.name)
            time.sleep(0.05)
        time.sleep(0.2)
        for i in range(a.runs + 1):  # the first makes the resources: not counted
            body = {"properties": {"mode": "Incremental", "template": template(),
                                   "parameters": {"count": {"value": a.addresses},
                                                  "first": {"value": i % 2}}}}
            r = timed(sock, "PUT", DEPLOY + API, body)
            if i > 0:
                rows["deployment PUT"].append(r)
        pool = f"{NET}/loadBalancers/bench-lb/backendAddressPools/pool{API}"
        for i in range(a.runs):
            rows["pool PUT"].append(timed(sock, "PUT", pool, addresses(a.addresses, i % 2)))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        log.close()
    print(f"{a.addresses}-address pool, {a.runs} runs each, median microseconds")
    print(f"{'':<18}{'round trip':>12}{'request to publication':>26}")
    for name, v in rows.items():
        print(f"{name:<18}{statistics.median(x[0] for x in v):>12.0f}"
              f"{statistics.median(x[1] for x in v):>26.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
