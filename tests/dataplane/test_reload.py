# SPDX-License-Identifier: BSD-3-Clause
"""SIGHUP reload of the configuration file, a refused reload, and SIGTERM.

sluiced runs in the background on a net_null port (an endless source of
zero-filled frames, all dropped as not_ip) and writes its statistics file
every 0.2 s.
"""
import json
import os
import shutil
import signal
import time

import pytest

import dphelpers as h
import slharness

N = 1
NULL_PROFILE = {"ports": [{"name": "null0", "device": "net_null0", "devargs": "size=64,copy=0",
                           "macAddress": h.SLUICE_MAC, "ipv4Address": h.PORT_IPV4,
                           "neighbourDiscovery": False}]}


def config(extra_rule):
    lb = h.LB("lb-reload", N)
    lb.frontend("fe4", h.fe_addr(N, 10)).frontend("fe4b", h.fe_addr(N, 11))
    lb.pool("p4", [h.be_addr(N, 1, 11), h.be_addr(N, 1, 12)])
    lb.rule("tcp80", "fe4", "p4", "Tcp", 80, 8080)
    if extra_rule:
        lb.pool("p4b", [h.be_addr(N, 2, 11)])
        lb.rule("udp53", "fe4b", "p4b", "Udp", 53, 53)
    return h.make_config([h.make_vnet(N)], [lb])


def write(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def rule_names(s):
    return sorted(r["name"] for r in s["rules"])


def backend_names(s):
    return sorted(b["name"] for b in s["backends"])


@pytest.fixture
def daemon(tmp_path):
    path = os.path.join(str(tmp_path), "config.json")
    write(path, json.dumps(config(False), indent=1))
    dm = slharness.Daemon(NULL_PROFILE, path, lcores="0,1")
    dm.config_path = path
    yield dm
    if dm.proc.poll() is None:
        dm.proc.kill()
        dm.proc.wait()
    dm.logf.close()
    if not h.keep_tmp():
        shutil.rmtree(dm.dir, ignore_errors=True)


def wait_log(dm, text, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = dm.output()
        if text in out:
            return out
        if dm.proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the log:\n{dm.output()}")


def test_sighup_reload_refused_reload_and_sigterm(daemon):
    dm = daemon
    s = dm.wait_stats(lambda s: s.get("generation") == 1 and s["rx"] > 0)
    assert rule_names(s) == ["lb-reload/tcp80"]
    assert backend_names(s) == ["lb-reload/p4/a0", "lb-reload/p4/a1"]
    # net_null sends zero-filled frames: EtherType 0, all not_ip
    assert s["dropped"] == s["drops"]["not_ip"]
    assert s["tx"] == 0

    # 1. a valid change: one more rule and pool
    write(dm.config_path, json.dumps(config(True), indent=1))
    dm.signal(signal.SIGHUP)
    s = dm.wait_stats(lambda s: s.get("generation") != 1)
    assert s["generation"] == 2
    assert rule_names(s) == ["lb-reload/tcp80", "lb-reload/udp53"]
    assert backend_names(s) == ["lb-reload/p4/a0", "lb-reload/p4/a1", "lb-reload/p4b/a0"]
    wait_log(dm, "generation 2")

    # 2. invalid JSON: refused, the running configuration stays
    write(dm.config_path, '{"virtualNetworks": [ {"name": ')
    dm.signal(signal.SIGHUP)
    out = wait_log(dm, "InvalidJson")
    assert dm.config_path in out
    assert "refused" in out[out.index("InvalidJson") - 400:]

    # 3. a semantically invalid change: refused with its code and JSON path
    bad = config(True)
    addrs = bad["loadBalancers"][0]["properties"]["backendAddressPools"][0]["properties"]["loadBalancerBackendAddresses"]
    addrs[1]["properties"]["ipAddress"] = addrs[0]["properties"]["ipAddress"]
    write(dm.config_path, json.dumps(bad, indent=1))
    dm.signal(signal.SIGHUP)
    out = wait_log(dm, "DuplicateIPAddressInBackendAddressPool")
    line = next(l for l in out.splitlines() if "DuplicateIPAddressInBackendAddressPool" in l)
    assert "refused" in line
    assert dm.config_path in line
    assert "$.loadBalancers[0].properties.backendAddressPools[0].properties.loadBalancerBackendAddresses[1]" in line

    # still generation 2, still both rules, still running and receiving
    t_refused = dm.read_stats()["elapsedSeconds"]
    rx_before = s["rx"]
    s = dm.wait_stats(lambda s: s["rx"] > rx_before and s["elapsedSeconds"] > t_refused + 0.3)
    assert s["generation"] == 2
    assert rule_names(s) == ["lb-reload/tcp80", "lb-reload/udp53"]
    assert dm.proc.poll() is None

    # 4. SIGTERM: clean exit with the final summary
    dm.signal(signal.SIGTERM)
    rc = dm.proc.wait(20)
    out = dm.output()
    assert rc == 0, out
    assert "=== sluiced statistics" in out
    assert "rule lb-reload/udp53" in out
    assert "pool lb-reload/p4b" in out
    final = dm.read_stats()
    assert final["generation"] == 2
    assert final["rx"] == final["tx"] + final["dropped"]

