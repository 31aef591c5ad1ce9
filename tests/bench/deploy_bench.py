#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""deploy_bench.py: how long an ARM template deployment of 1,000 backend
addresses takes, from the PUT to the workers using it, beside a plain PUT of
the same load balancer.

sluiced runs on a net_null port (vdevs, no NIC) with a state directory.
A template whose load balancer's two pools are filled by property copy
loops (--addresses entries in all, ARM caps one loop at 800; the addresses
computed by expressions) is deployed --runs times, alternating between two
address sets so that every run changes the pools; then the load balancer
itself is PUT with the same two sets as many times. For each: the PUT's round trip (the answer comes after
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


POOLS = 2  # ARM caps a copy loop at 800: 1,000 addresses are two pools' loops


def template(pools=POOLS):
    """vnet + LB with a frontend and `pools` pools of parameters('count') / pools
    addresses each, from property copy loops; address i (from parameters('first'))
    is 10.x.y.z by div and mod."""
    vnet_id = "[resourceId('Microsoft.Network/virtualNetworks', 'bench-vnet')]"
    lb_id = "resourceId('Microsoft.Network/loadBalancers', 'bench-lb')"

    def pool(k):
        per = f"div(parameters('count'), {pools})"
        i = (f"add(parameters('first'), add(mul({k}, {per}), "
             "copyIndex('loadBalancerBackendAddresses')))")
        return {"name": f"pool{k}", "properties": {"copy": [{
            "name": "loadBalancerBackendAddresses", "count": f"[{per}]",
            "input": {
                "name": f"[concat('a', string({i}))]",
                "properties": {
                    "ipAddress": f"[concat('10.', string(add(1, div({i}, 62500))), '.', "
                                 f"string(mod(div({i}, 250), 250)), '.', "
                                 f"string(add(1, mod({i}, 250))))]",
                    "virtualNetwork": {"id": vnet_id}}}}]}}

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
                 "backendAddressPools": [pool(k) for k in range(pools)],
                 "loadBalancingRules": [{"name": f"web{k}", "properties": {
                     "frontendIPConfiguration": {
                         "id": f"[concat({lb_id}, '/frontendIPConfigurations/fe')]"},
                     "backendAddressPool": {
                         "id": f"[concat({lb_id}, '/backendAddressPools/pool{k}')]"},
                     "protocol": "Tcp", "frontendPort": 80 + k, "backendPort": 80}}
                     for k in range(pools)]}}]}


def lb_body(n, first, pools=POOLS):
    """The load balancer the template makes, for the plain PUT."""
    vnet = f"{NET}/virtualNetworks/bench-vnet"
    lb = f"{NET}/loadBalancers/bench-lb"
    per = n // pools

    def address(i):
        return {"name": f"a{i}", "properties": {
            "ipAddress": f"10.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}",
            "virtualNetwork": {"id": vnet}}}

    return {"location": "eastus", "sku": {"name": "Standard"}, "properties": {
        "frontendIPConfigurations": [{"name": "fe", "properties": {
            "privateIPAddress": "10.0.0.10", "subnet": {"id": vnet + "/subnets/fe"}}}],
        "backendAddressPools": [{"name": f"pool{k}", "properties": {
            "loadBalancerBackendAddresses": [
                address(first + k * per + j) for j in range(per)]}} for k in range(pools)],
        "loadBalancingRules": [{"name": f"web{k}", "properties": {
            "frontendIPConfiguration": {"id": lb + "/frontendIPConfigurations/fe"},
            "backendAddressPool": {"id": lb + f"/backendAddressPools/pool{k}"},
            "protocol": "Tcp", "frontendPort": 80 + k, "backendPort": 80}}
            for k in range(pools)]}}


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
    rows = {"deployment PUT": [], "LB PUT": []}
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
        lb = f"{NET}/loadBalancers/bench-lb{API}"
        for i in range(a.runs):
            rows["LB PUT"].append(timed(sock, "PUT", lb, lb_body(a.addresses, (i + 1) % 2)))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        log.close()
    print(f"{a.addresses} backend addresses ({POOLS} pools), {a.runs} runs each, "
          "median microseconds")
    print(f"{'':<18}{'round trip':>12}{'request to publication':>26}")
    for name, v in rows.items():
        print(f"{name:<18}{statistics.median(x[0] for x in v):>12.0f}"
              f"{statistics.median(x[1] for x in v):>26.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
