# SPDX-License-Identifier: BSD-3-Clause
"""--state-dir (docs/api.md): every committed configuration is in
DIR/state.json, written before the API answers, restored at start; a torn or
corrupt file stops sluiced (StateFileCorrupt); .tmp leftovers are not loaded."""
import json
import os
import signal

import pytest

import apihelpers as h
from apihelpers import rid

LB = rid("loadBalancers", "lb")
POOL = rid("loadBalancers", "lb", "backendAddressPools", "pool")


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def state_file(d):
    return os.path.join(d.state_dir, "state.json")


def read_state(path):
    with open(path, "rb") as f:
        raw = f.read()
    header, _, body = raw.partition(b"\n")
    return header.decode(), body


def state_text(doc):
    body = json.dumps(doc, separators=(",", ":")).encode()
    return b"sluice-state 1 %d %08x\n" % (len(body), crc32c(body)) + body


def populate(api):
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"}), status=201)
    api.ok("PUT", LB, h.lb_body(
        frontends=[h.frontend("fe", "10.0.0.10", "vnet", "sub")],
        pools=[h.pool("pool", [h.address("a1", "10.0.0.11", "vnet"),
                               h.address("a2", "10.0.0.12", "vnet")]),
               h.pool("nicpool", [])],
        rules=[h.rule("http", "lb", "fe", "pool", "Tcp", 80, 8080)]), status=201)
    api.ok("PUT", rid("loadBalancers", "lb", "probes", "hp"),
           {"properties": {"protocol": "Http", "port": 8080, "requestPath": "/health"}},
           status=201)
    api.ok("PUT", rid("networkInterfaces", "nic"), h.nic_body([("ipconfig1", {
        "subnet": h.subnet_ref("vnet", "sub"),
        "loadBalancerBackendAddressPools": [h.ref("lb", "backendAddressPools", "nicpool")]})]),
           status=201)


def test_restart_restores_everything(daemons):
    d = daemons.start()
    populate(d.api)
    snap = d.api.snapshot()
    nic = d.api.get(rid("networkInterfaces", "nic")).json
    dyn = nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
    header, body = read_state(state_file(d))
    magic, version, length, crc = header.split()
    assert (magic, version) == ("sluice-state", "1")
    assert int(length) == len(body)
    assert int(crc, 16) == crc32c(body)
    assert d.stop() == 0

    d2 = daemons.start(workdir=d.workdir)
    assert d2.api.snapshot() == snap
    # the dynamic address stays the NIC's
    nic2 = d2.api.get(rid("networkInterfaces", "nic")).json
    assert nic2["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] == dyn
    assert d2.api.get(rid("loadBalancers", "lb", "backendAddressPools", "nicpool")).json[
        "properties"]["backendIPConfigurations"] == [
        {"id": rid("networkInterfaces", "nic", "ipConfigurations", "ipconfig1")}]
    st = d2.api.status()
    assert st["stateDirectory"] == d2.state_dir
    assert st["configFile"] == ""
    # and the restored configuration goes on: a change and a deletion
    d2.api.ok("DELETE", rid("loadBalancers", "lb", "probes", "hp"), status=200)
    snap2 = d2.api.snapshot()
    assert d2.stop() == 0
    d3 = daemons.start(workdir=d.workdir)
    assert d3.api.snapshot() == snap2


def test_refused_change_leaves_the_state_file(daemons):
    d = daemons.start()
    populate(d.api)
    with open(state_file(d), "rb") as f:
        before = f.read()
    mtime = os.stat(state_file(d)).st_mtime_ns
    d.api.refused("PUT", POOL, {"properties": {"loadBalancerBackendAddresses": [
        h.address("a1", "10.0.0.11", "vnet"), h.address("a2", "10.0.0.11", "vnet")]}}, 400,
        "DuplicateIPAddressInBackendAddressPool")
    d.api.refused("DELETE", POOL, None, 400, "InUseResourceCannotBeDeleted")
    with open(state_file(d), "rb") as f:
        assert f.read() == before
    assert os.stat(state_file(d)).st_mtime_ns == mtime


@pytest.mark.parametrize("what", ["put", "delete"])
def test_kill_9_right_after_the_answer(daemons, what):
    d = daemons.start()
    populate(d.api)
    if what == "put":
        r = d.api.put(POOL, {"properties": {"loadBalancerBackendAddresses": [
            h.address("a3", "10.0.0.13", "vnet")]}})
        assert r.status == 200, r
    else:
        r = d.api.delete(rid("networkInterfaces", "nic"))
        assert r.status == 200, r
    os.kill(d.proc.pid, signal.SIGKILL)
    d.kill()
    d2 = daemons.start(workdir=d.workdir)
    if what == "put":
        p = d2.api.get(POOL).json
        assert [a["properties"]["ipAddress"]
                for a in p["properties"]["loadBalancerBackendAddresses"]] == ["10.0.0.13"]
    else:
        assert d2.api.get(rid("networkInterfaces", "nic")).status == 404
        assert d2.api.get(LB).status == 200


def test_kill_9_after_a_burst(daemons):
    """Each answered PUT is on disk: 20 quick changes, kill -9, the last is there."""
    d = daemons.start()
    populate(d.api)
    for i in range(20):
        r = d.api.put(POOL, {"properties": {"loadBalancerBackendAddresses": [
            h.address("a", f"10.0.1.{i + 1}", "vnet")]}})
        assert r.status == 200, r
    d.kill()
    d2 = daemons.start(workdir=d.workdir)
    p = d2.api.get(POOL).json
    assert p["properties"]["loadBalancerBackendAddresses"][0]["properties"]["ipAddress"] == \
        "10.0.1.20"


def _corrupt(path, how):
    with open(path, "rb") as f:
        raw = f.read()
    nl = raw.index(b"\n")
    if how == "flip-json":
        # a digit of an address inside the JSON: still JSON, the CRC disagrees
        i = raw.index(b"10.0.0.11", nl) + 8
        raw = raw[:i] + (b"2" if raw[i:i + 1] != b"2" else b"3") + raw[i + 1:]
    elif how == "flip-bit":
        i = nl + 1 + (len(raw) - nl) // 2
        raw = raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1:]
    elif how == "truncate":
        raw = raw[:nl + 1 + (len(raw) - nl) // 2]
    elif how == "truncate-header":
        raw = raw[:nl // 2]
    elif how == "empty":
        raw = b""
    elif how == "extra":
        raw = raw + b"\n"
    elif how == "header":
        raw = b"sluice-state 9" + raw[len(b"sluice-state 1"):]
    elif how == "not-json":
        body = b"{not json"
        raw = b"sluice-state 1 %d %08x\n" % (len(body), crc32c(body)) + body
    with open(path, "wb") as f:
        f.write(raw)


@pytest.fixture(scope="module")
def good_state(module_daemons):
    """The state.json of a populated sluiced (bytes), for the corruption cases."""
    d = module_daemons.start()
    populate(d.api)
    assert d.stop() == 0
    with open(state_file(d), "rb") as f:
        return f.read()


@pytest.mark.parametrize("how", ["flip-json", "flip-bit", "truncate", "truncate-header", "empty",
                                 "extra", "header", "not-json"])
def test_corrupt_state_file_stops_sluiced(daemons, good_state, tmp_path, how):
    workdir = str(tmp_path)
    os.makedirs(os.path.join(workdir, "state"))
    path = os.path.join(workdir, "state", "state.json")
    with open(path, "wb") as f:
        f.write(good_state)
    _corrupt(path, how)
    d = daemons.spawn(workdir=workdir)
    rc = d.wait_exit(20)
    out = d.output()
    assert rc != 0, out
    assert "StateFileCorrupt" in out, out
    assert path in out, out
    assert not os.path.exists(d.sock)
    # moved away, sluiced starts (empty)
    os.rename(path, path + ".bad")
    d2 = daemons.start(workdir=workdir)
    assert d2.api.snapshot() == {"virtualNetworks": [], "networkInterfaces": [],
                                 "loadBalancers": []}


def test_good_state_file_as_written_loads(daemons, good_state, tmp_path):
    """The same bytes, uncorrupted, load (so the refusals above are the corruption's)."""
    workdir = str(tmp_path)
    os.makedirs(os.path.join(workdir, "state"))
    with open(os.path.join(workdir, "state", "state.json"), "wb") as f:
        f.write(good_state)
    d = daemons.start(workdir=workdir)
    assert h.names(d.api.snapshot()["loadBalancers"]) == ["lb"]


def test_tmp_leftovers_are_not_loaded(daemons):
    d = daemons.start()
    populate(d.api)
    snap = d.api.snapshot()
    assert d.stop() == 0
    path = state_file(d)
    other = {"virtualNetworks": [{"name": "tmpvnet", "properties": {
        "addressSpace": {"addressPrefixes": ["10.7.0.0/16"]}}}],
        "networkInterfaces": [], "loadBalancers": []}
    # a valid-looking but never renamed state.json.tmp, and a torn one
    with open(path + ".tmp", "wb") as f:
        f.write(state_text(other))
    d2 = daemons.start(workdir=d.workdir)
    assert d2.api.snapshot() == snap
    assert d2.api.get(rid("virtualNetworks", "tmpvnet")).status == 404
    assert d2.stop() == 0
    with open(path + ".tmp", "wb") as f:
        f.write(state_text(other)[:30])
    d3 = daemons.start(workdir=d.workdir)
    assert d3.api.snapshot() == snap
    # a .tmp alone (the first commit was torn before its rename): an empty start
    d3.stop()
    os.unlink(path)
    with open(path + ".tmp", "wb") as f:
        f.write(state_text(other))
    d4 = daemons.start(workdir=d.workdir)
    assert d4.api.snapshot() == {"virtualNetworks": [], "networkInterfaces": [],
                                 "loadBalancers": []}


def test_crafted_state_file_is_loaded(daemons):
    """The format is what docs/api.md says: a header line with the length and the
    CRC32-C of the JSON that follows (checked by writing one by hand)."""
    first = daemons.start()
    first.stop()
    doc = {"virtualNetworks": [{"name": "handmade", "properties": {
        "addressSpace": {"addressPrefixes": ["10.6.0.0/16"]}}}],
        "networkInterfaces": [], "loadBalancers": []}
    with open(state_file(first), "wb") as f:
        f.write(state_text(doc))
    d2 = daemons.start(workdir=first.workdir)
    v = d2.api.get(rid("virtualNetworks", "handmade"))
    assert v.status == 200, v
    assert v.json["properties"]["addressSpace"]["addressPrefixes"] == ["10.6.0.0/16"]


def test_state_then_config_file(daemons, tmp_path):
    """At start the state is restored first, then the file applied over it: the
    file's resources win, the API's others stay."""
    cfg = str(tmp_path / "c.json")
    with open(cfg, "w") as f:
        json.dump({"virtualNetworks": [{"name": "vnet", "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16", "10.50.0.0/16"]},
            "subnets": [{"name": "sub", "properties": {"addressPrefix": "10.0.0.0/24"}}]}}]}, f)
    d = daemons.start()
    populate(d.api)
    lb = d.api.get(LB).json
    assert d.stop() == 0
    d2 = daemons.start(workdir=d.workdir, config=cfg)
    v = d2.api.get(rid("virtualNetworks", "vnet")).json
    assert v["properties"]["addressSpace"]["addressPrefixes"] == ["10.0.0.0/16", "10.50.0.0/16"]
    assert d2.api.get(LB).json == lb
    # and the merged configuration is what is persisted now
    d2.stop()
    d3 = daemons.start(workdir=d.workdir)
    v = d3.api.get(rid("virtualNetworks", "vnet")).json
    assert v["properties"]["addressSpace"]["addressPrefixes"] == ["10.0.0.0/16", "10.50.0.0/16"]


def test_state_write_failure_refuses_the_change(daemons):
    """When state.json cannot be written the change is refused (docs/api.md:
    persisted before the answer): the previous configuration is published
    again, so the dataplane runs what the API shows (a new generation with
    the old backends), and the error is the server's (500)."""
    import shutil
    d = daemons.start()
    populate(d.api)
    snap, commits = d.api.snapshot(), d.api.commits()
    before = d.api.request("GET", "/sluice/stats", api_version=None).json
    gen = before["generation"]
    saved = d.state_dir + ".saved"
    shutil.move(d.state_dir, saved)
    try:
        r = d.api.put(POOL, {"properties": {"loadBalancerBackendAddresses": [
            h.address("a9", "10.0.0.19", "vnet")]}})
        assert r.status == 500, r
        assert r.error["code"] == "StateWriteFailed", r
        assert d.api.snapshot() == snap
        assert d.api.commits() == commits
        after = d.api.request("GET", "/sluice/stats", api_version=None).json
        assert after["generation"] == gen + 2  # the change, then the previous one again
        assert [b["name"] for b in after["backends"]] == [b["name"] for b in before["backends"]]
    finally:
        shutil.move(saved, d.state_dir)
    r = d.api.put(POOL, {"properties": {"loadBalancerBackendAddresses": [
        h.address("a9", "10.0.0.19", "vnet")]}})
    assert r.status == 200, r
    d.kill()
    d2 = daemons.start(workdir=d.workdir)
    assert [a["name"] for a in d2.api.get(POOL).json["properties"][
        "loadBalancerBackendAddresses"]] == ["a9"]
