# SPDX-License-Identifier: BSD-3-Clause
"""Bad configuration or port profile at start: sluiced exits non-zero before
forwarding anything and says which file, where in it (JSON path) and what
(the error code of docs/error-codes.md)."""
import json
import os
import subprocess

import pytest
from scapy.all import wrpcap

import dphelpers as h
import slharness

N = 1


def good_lb():
    lb = h.LB("lb-cfg", N)
    lb.frontend("fe4", h.fe_addr(N, 10))
    lb.pool("p4", [h.be_addr(N, 1, 11), h.be_addr(N, 1, 12)])
    lb.rule("tcp80", "fe4", "p4", "Tcp", 80, 8080)
    return lb


def good_config():
    lb = good_lb()
    return h.make_config([h.make_vnet(N)], [lb]), h.neighbours_of([lb])


def start(d, config_text, profile, config_name="config.json"):
    """Run sluiced in directory d with the given texts; returns
    (rc, output, dir, config path, profile path)."""
    d = str(d)
    cfg = os.path.join(d, config_name)
    prof = os.path.join(d, "ports.json")
    st = os.path.join(d, "stats.json")
    if config_text is not None:
        with open(cfg, "w") as f:
            f.write(config_text)
    with open(prof, "w") as f:
        f.write(profile if isinstance(profile, str) else json.dumps(profile))
    cmd = [slharness.sluiced_path()] + slharness.eal_args() + [
        "--", "--ports", prof, "--config", cfg, "--stats-file", st, "--exit-idle-ms", "300"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    out = os.path.join(d, "out.pcap")
    assert not os.path.exists(st), "statistics written by a daemon that refused to start"
    assert not os.path.exists(out) or os.path.getsize(out) <= 24, "packets sent"
    return p.returncode, p.stdout + p.stderr, d, cfg, prof


def pcap_profile(d, **kw):
    d = str(d)
    rx = os.path.join(d, "in.pcap")
    wrpcap(rx, [h.pkt(h.client(1), h.fe_addr(N, 10), "tcp", 1000, 80)])
    return slharness.port_profile(rx, os.path.join(d, "out.pcap"), kw.pop("neighbours", {}), **kw)


def test_good_config_starts():
    """The control case of this file: the same config, unbroken, runs and forwards."""
    cfg, nb = good_config()
    r = h.run(cfg, [h.pkt(h.client(1), h.fe_addr(N, 10), "tcp", 1000, 80)], nb)
    assert r.stats["tx"] == 1


def broken_duplicate_address():
    cfg, _ = good_config()
    addrs = cfg["loadBalancers"][0]["properties"]["backendAddressPools"][0]["properties"]["loadBalancerBackendAddresses"]
    addrs[1]["properties"]["ipAddress"] = addrs[0]["properties"]["ipAddress"]
    return json.dumps(cfg, indent=1)


def broken_reference():
    cfg, _ = good_config()
    rule = cfg["loadBalancers"][0]["properties"]["loadBalancingRules"][0]
    rule["properties"]["backendAddressPool"]["id"] = h.lb_child_id("lb-cfg", "backendAddressPools", "nope")
    return json.dumps(cfg, indent=1)


def broken_floating_ports():
    cfg, _ = good_config()
    rule = cfg["loadBalancers"][0]["properties"]["loadBalancingRules"][0]
    rule["properties"]["enableFloatingIP"] = True
    return json.dumps(cfg, indent=1)


def broken_json():
    text = json.dumps(good_config()[0], indent=1)
    # drop the value of the first "name" member (line 5 of indent=1 output)
    lines = text.split("\n")
    i = next(k for k, l in enumerate(lines) if '"name": "vnet1"' in l)
    lines[i] = lines[i].replace('"vnet1"', "")
    return "\n".join(lines), i + 1


@pytest.mark.parametrize("case", ["duplicate_address", "bad_reference", "floating_ports"])
def test_invalid_config_refused(tmp_path, case):
    text, path, code = {
        "duplicate_address": (
            broken_duplicate_address(),
            "$.loadBalancers[0].properties.backendAddressPools[0].properties.loadBalancerBackendAddresses[1]",
            "DuplicateIPAddressInBackendAddressPool"),
        "bad_reference": (
            broken_reference(),
            "$.loadBalancers[0].properties.loadBalancingRules[0].properties.backendAddressPool",
            "InvalidResourceReference"),
        "floating_ports": (
            broken_floating_ports(),
            "$.loadBalancers[0].properties.loadBalancingRules[0].properties.backendPort",
            "FloatingIPRequiresSameFrontendAndBackendPort"),
    }[case]
    rc, out, d, cfg, prof = start(tmp_path, text, pcap_profile(tmp_path, neighbours=good_config()[1]))
    assert rc != 0, out
    assert cfg in out, out
    assert path in out, out
    assert code in out, out
    # one line carries all three, in the documented order file: path: code
    line = next(l for l in out.splitlines() if code in l)
    assert line.index(cfg) < line.index(path) < line.index(code), line


def test_invalid_json_refused(tmp_path):
    text, line_no = broken_json()
    rc, out, d, cfg, prof = start(tmp_path, text, pcap_profile(tmp_path))
    assert rc != 0, out
    assert cfg in out, out
    assert "InvalidJson" in out, out
    assert f"line {line_no}," in out, out


def test_missing_config_file(tmp_path):
    rc, out, d, cfg, prof = start(tmp_path, None, pcap_profile(tmp_path), config_name="absent.json")
    assert rc != 0, out
    assert cfg in out, out
    assert "ConfigFileUnreadable" in out, out


@pytest.mark.parametrize("case", ["bad_mac", "unknown_property", "bad_json", "bad_neighbour",
                                  "empty_device", "nul_in_device"])
def test_invalid_port_profile_refused(tmp_path, case):
    prof = pcap_profile(tmp_path)
    port = prof["ports"][0]
    if case == "bad_mac":
        port["macAddress"] = "02:00:5e:00:00"
        path, code = "$.ports[0].macAddress", "InvalidMacAddress"
    elif case == "unknown_property":
        port["rxQueus"] = 1
        path, code = "$.ports[0]", "UnknownProperty"
    elif case == "bad_neighbour":
        port["neighbours"] = [{"ipAddress": "10.1.1.11", "macAddress": "zz:00:00:00:00:01"}]
        path, code = "$.ports[0].neighbours[0].macAddress", "InvalidMacAddress"
    elif case == "empty_device":  # found by fuzz_profile, as "device": "<NUL>null0"
        port["device"] = ""
        path, code = "$.ports[0].device", "InvalidPortProfile"
    elif case == "nul_in_device":  # \u0000 would cut the name to ""
        port["device"] = "\u0000" + port["device"]
        path, code = "$", "InvalidJson"
    else:
        prof = json.dumps(prof)[:-3]
        path, code = "$", "InvalidJson"
    rc, out, d, cfg, pfile = start(tmp_path, json.dumps(good_config()[0]), prof)
    assert rc != 0, out
    assert pfile in out, out
    assert f"{pfile}: {path}: {code}" in out, out
    if case == "unknown_property":
        assert "rxQueus" in out
