# SPDX-License-Identifier: BSD-3-Clause
"""--state-dir (docs/api.md, docs/operations.md): every committed configuration
is durable in DIR before the API answers -- a generation (a whole document) or
a journal record after one -- and restored at start. A damaged generation is
renamed aside and the previous one started from, said in the log and in
GET /sluice/status; sluiced refuses to start (StateFileCorrupt) only when no
state file loads. A format-1 DIR/state.json (earlier versions) is read as the
oldest generation. kill -9 at any moment of a stream of changes: after the
restart the state is the last acknowledged change or the one in flight."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

import apihelpers as h
from apihelpers import rid

LB = rid("loadBalancers", "lb")
POOL = rid("loadBalancers", "lb", "backendAddressPools", "pool")
PROBE = rid("loadBalancers", "lb", "probes", "hp")
EMPTY = {"virtualNetworks": [], "networkInterfaces": [], "loadBalancers": []}


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def generations(state_dir):
    """The numbers of DIR's generation files, oldest first."""
    return sorted(int(m.group(1)) for m in
                  (re.fullmatch(r"generation-(\d+)", n) for n in os.listdir(state_dir)) if m)


def gen_name(n):
    return "generation-%010d" % n


def newest(d):
    return os.path.join(d.state_dir, gen_name(generations(d.state_dir)[-1]))


def read_generation(path):
    """(header fields, JSON bytes) of a generation file."""
    with open(path, "rb") as f:
        raw = f.read()
    header, _, body = raw.partition(b"\n")
    return header.decode().split(), body


def generation_text(n, seq, doc):
    body = json.dumps(doc, separators=(",", ":")).encode()
    return b"sluice-generation 2 %d %d %d %08x\n" % (n, seq, len(body), crc32c(body)) + body


def record_text(seq, change):
    """One journal record: "<crc> <seq> <length>\n<JSON>\n", the CRC over what follows it."""
    payload = json.dumps(change, separators=(",", ":")).encode()
    rest = b" %d %d\n" % (seq, len(payload)) + payload + b"\n"
    return b"%08x" % crc32c(rest) + rest


def state_text(doc):
    """A format-1 state.json, as earlier versions wrote it."""
    body = json.dumps(doc, separators=(",", ":")).encode()
    return b"sluice-state 1 %d %08x\n" % (len(body), crc32c(body)) + body


def dir_contents(state_dir):
    """{name: (bytes, mtime)} of the state directory."""
    out = {}
    for n in sorted(os.listdir(state_dir)):
        p = os.path.join(state_dir, n)
        with open(p, "rb") as f:
            out[n] = (f.read(), os.stat(p).st_mtime_ns)
    return out


def probe_body(port):
    """A change of the probe takes the whole path: a new generation each
    (a pool's or a rule's is a journal record)."""
    return {"properties": {"protocol": "Http", "port": port, "requestPath": "/health"}}


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
    fields, body = read_generation(newest(d))
    magic, version, n, seq, length, crc = fields
    assert (magic, version) == ("sluice-generation", "2")
    assert os.path.basename(newest(d)) == gen_name(int(n))
    assert int(length) == len(body)
    assert int(crc, 16) == crc32c(body)
    assert h.names(json.loads(body)["loadBalancers"]) == ["lb"]
    st = d.api.status()["state"]
    assert st["generation"] == int(n) and st["sequence"] == int(seq)
    assert st["formatVersion"] == 2
    assert st["recovery"] == {"damaged": False, "loaded": "", "replayedRecords": 0,
                              "skipped": [], "cut": None}
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
    assert st["state"]["recovery"]["loaded"] == gen_name(int(n))
    assert st["state"]["recovery"]["damaged"] is False
    # and the restored configuration goes on: a change and a deletion
    d2.api.ok("DELETE", rid("loadBalancers", "lb", "probes", "hp"), status=200)
    snap2 = d2.api.snapshot()
    assert d2.stop() == 0
    d3 = daemons.start(workdir=d.workdir)
    assert d3.api.snapshot() == snap2
    # three generations are kept once known good (those older than the one loaded
    # stay until three newer ones are written)
    d3.api.ok("PUT", PROBE, probe_body(8080))
    assert len(generations(d3.state_dir)) == 3


def test_refused_change_leaves_the_state_directory(daemons):
    d = daemons.start()
    populate(d.api)
    before = dir_contents(d.state_dir)
    d.api.refused("PUT", POOL, {"properties": {"loadBalancerBackendAddresses": [
        h.address("a1", "10.0.0.11", "vnet"), h.address("a2", "10.0.0.11", "vnet")]}}, 400,
        "DuplicateIPAddressInBackendAddressPool")
    d.api.refused("DELETE", POOL, None, 400, "InUseResourceCannotBeDeleted")
    assert dir_contents(d.state_dir) == before


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


EXTRA = rid("loadBalancers", "lb", "backendAddressPools", "extra")
NIC = rid("networkInterfaces", "nic")


def _stream_state(api):
    """What the change stream below changes: the pool's addresses, whether the
    extra pool exists, the NIC's tag."""
    pool = api.get(POOL).json
    nic = api.get(NIC).json
    return (tuple(a["properties"]["ipAddress"]
                  for a in pool["properties"]["loadBalancerBackendAddresses"]),
            api.get(EXTRA).status == 200, (nic.get("tags") or {}).get("k"))


def _stream_change(k, state, nic_body):
    """Change k of the stream (a pool replaced, a pool created or deleted, a
    top-level NIC replaced): (method, path, body, the state after it)."""
    addrs, extra, tag = state
    if k % 3 == 0:
        ips = tuple(f"10.0.{2 + (k >> 8) % 200}.{k % 256}" for _ in range(1))
        return ("PUT", POOL, {"properties": {"loadBalancerBackendAddresses": [
            h.address("s", ips[0], "vnet")]}}, (ips, extra, tag))
    if k % 3 == 1:
        if extra:
            return ("DELETE", EXTRA, None, (addrs, False, tag))
        return ("PUT", EXTRA, {"properties": {}}, (addrs, True, tag))
    body = dict(nic_body, tags={"k": str(k)})
    return ("PUT", NIC, body, (addrs, extra, str(k)))


def test_kill_9_at_random_moments(daemons):
    """kill -9 at a random moment of a stream of changes, again and again: after each
    restart the state is the last acknowledged change or the one in flight, and no
    generation was damaged (a torn journal record may be cut). SLUICE_KILL_TRIALS
    sets the trials (20), SLUICE_KILL_SEED the random seed."""
    trials = int(os.environ.get("SLUICE_KILL_TRIALS", "20"))
    seed = int(os.environ.get("SLUICE_KILL_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print(f"SLUICE_KILL_SEED={seed}")
    d = daemons.start()
    populate(d.api)
    nic_body = d.api.get(NIC).json
    nic_body = {"location": nic_body.get("location"), "properties": nic_body["properties"]}
    candidates = [_stream_state(d.api)]
    k = 0
    tally = {"acknowledged": 0, "in flight": 0, "cut": 0}
    for trial in range(trials):
        if trial > 0:
            d = daemons.start(workdir=d.workdir)
        got = _stream_state(d.api)
        assert got in candidates, f"trial {trial} (seed {seed}): {got} not in {candidates}"
        if trial > 0:
            tally["acknowledged" if got == candidates[0] else "in flight"] += 1
        rec = d.api.status()["state"]["recovery"]
        assert rec["skipped"] == [], rec
        assert rec["cut"] is None or "cut short" in rec["cut"]["reason"], rec
        tally["cut"] += rec["cut"] is not None
        state, inflight = got, None
        killer = threading.Timer(rng.uniform(0.0, 0.4), os.kill, (d.proc.pid, signal.SIGKILL))
        killer.start()
        while True:
            k += 1
            method, path, body, after = _stream_change(k, state, nic_body)
            inflight = after
            try:
                r = d.api.request(method, path, body, timeout=10)
            except Exception:  # the connection died with sluiced
                break
            if r.status not in (200, 201):
                assert d.proc.poll() is not None, r
                break
            state = after
        killer.join()
        d.kill()
        print(f"trial {trial}: killed at change {k}, acknowledged {state}")
        candidates = [state, inflight]
    d = daemons.start(workdir=d.workdir)
    got = _stream_state(d.api)
    assert got in candidates
    tally["acknowledged" if got == candidates[0] else "in flight"] += 1
    tally["cut"] += d.api.status()["state"]["recovery"]["cut"] is not None
    print(f"{trials} trials, {k} changes (seed {seed}): restarted on the last acknowledged "
          f"change {tally['acknowledged']} times, on the one in flight {tally['in flight']} "
          f"times; a torn journal record was cut {tally['cut']} times; no generation damaged")


def _corrupt(path, how, magic=b"sluice-state 1"):
    with open(path, "rb") as f:
        raw = f.read()
    nl = raw.index(b"\n")
    if how == "flip-json":
        # a digit of an address inside the JSON: still JSON, the CRC disagrees
        i = raw.index(b"10.0.0.1", nl) + 8
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
        # a newer format version
        raw = magic[:-1] + b"9" + raw[len(magic):]
    elif how == "not-json":
        body = b"{not json"
        raw = raw[:raw.rindex(b" ", 0, nl)].replace(raw.split()[-2], b"%d" % len(body)) + \
            b" %08x\n" % crc32c(body) + body
    with open(path, "wb") as f:
        f.write(raw)


@pytest.fixture(scope="module")
def good_state(module_daemons):
    """A format-1 state.json (bytes) of a populated sluiced's configuration, for the
    upgrade and the corruption cases."""
    d = module_daemons.start()
    populate(d.api)
    _fields, body = read_generation(newest(d))
    assert d.stop() == 0
    return state_text(json.loads(body))


HOWS = ["flip-json", "flip-bit", "truncate", "truncate-header", "empty", "extra", "header",
        "not-json"]


@pytest.mark.parametrize("how", HOWS)
def test_corrupt_state_file_alone_stops_sluiced(daemons, good_state, tmp_path, how):
    """state.json the only state file, damaged: nothing loads, sluiced refuses."""
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
    assert os.listdir(os.path.join(workdir, "state")) == ["state.json"]  # nothing moved
    # moved away, sluiced starts (empty)
    os.rename(path, path + ".bad")
    d2 = daemons.start(workdir=workdir)
    assert d2.api.snapshot() == EMPTY


def test_good_state_file_as_written_loads(daemons, good_state, tmp_path):
    """The same bytes, uncorrupted, load (so the refusals above are the corruption's):
    a host upgraded in place starts from its state.json, the oldest generation."""
    workdir = str(tmp_path)
    os.makedirs(os.path.join(workdir, "state"))
    with open(os.path.join(workdir, "state", "state.json"), "wb") as f:
        f.write(good_state)
    d = daemons.start(workdir=workdir)
    assert h.names(d.api.snapshot()["loadBalancers"]) == ["lb"]
    st = d.api.status()["state"]
    assert st["recovery"]["loaded"] == "state.json"
    assert st["recovery"]["damaged"] is False
    assert os.path.exists(os.path.join(d.state_dir, "state.json"))
    # once three newer generations are written, state.json goes with the older ones
    for i in range(3):
        d.api.ok("PUT", PROBE, probe_body(8081 + i))
    assert not os.path.exists(os.path.join(d.state_dir, "state.json"))
    assert len(generations(d.state_dir)) == 3


def _two_generations(daemons):
    """A populated sluiced stopped after one more change (of the whole path); the
    snapshots before and after that change (the newest two generations)."""
    d = daemons.start()
    populate(d.api)
    before = d.api.snapshot()
    d.api.ok("PUT", PROBE, probe_body(8081))
    after = d.api.snapshot()
    assert d.stop() == 0
    return d, before, after


@pytest.mark.parametrize("how", ["flip-json", "flip-bit", "truncate", "empty", "header"])
def test_damaged_newest_generation_starts_from_the_previous(daemons, how):
    d, before, after = _two_generations(daemons)
    gens = generations(d.state_dir)
    path = newest(d)
    _corrupt(path, how, magic=b"sluice-generation 2")
    d2 = daemons.start(workdir=d.workdir)
    assert d2.api.snapshot() == before
    out = d2.output()
    assert re.search(r"ERR sluice\.state: .*%s does not load \(" % gen_name(gens[-1]), out), out
    assert "DAMAGE FOUND" in out, out
    rec = d2.api.status()["state"]["recovery"]
    assert rec["damaged"] is True
    assert rec["loaded"] == gen_name(gens[-2])
    [sk] = rec["skipped"]
    assert sk["file"] == gen_name(gens[-1])
    assert sk["renamedTo"].startswith(gen_name(gens[-1]) + ".damaged-")
    # set aside, never deleted; the next generation numbered past it
    assert os.path.exists(os.path.join(d.state_dir, sk["renamedTo"]))
    assert d2.api.status()["state"]["generation"] > gens[-1]
    # the lost change made again, and a clean restart says nothing of damage
    d2.api.ok("PUT", PROBE, probe_body(8081))
    assert d2.api.snapshot() == after
    assert d2.stop() == 0
    d3 = daemons.start(workdir=d.workdir)
    assert d3.api.snapshot() == after
    assert d3.api.status()["state"]["recovery"]["damaged"] is False


def test_damaged_fold_is_replayed_from_the_journal(daemons):
    """A pool change is a journal record after the newest generation; a clean
    stop folds it into a generation of its own. Should that one be damaged, the
    previous generation and its journal (kept with it) still hold the change."""
    d = daemons.start()
    populate(d.api)
    r = d.api.put(POOL, {"properties": {"loadBalancerBackendAddresses": [
        h.address("a3", "10.0.0.13", "vnet")]}})
    assert r.status == 200, r
    assert d.api.status()["state"]["journalRecords"] == 1
    after = d.api.snapshot()
    assert d.stop() == 0
    gens = generations(d.state_dir)
    _corrupt(newest(d), "flip-json", magic=b"sluice-generation 2")
    d2 = daemons.start(workdir=d.workdir)
    assert d2.api.snapshot() == after
    rec = d2.api.status()["state"]["recovery"]
    assert (rec["damaged"], rec["loaded"], rec["replayedRecords"]) == (True, gen_name(gens[-2]), 1)


def test_every_generation_damaged_stops_sluiced(daemons):
    d, _before, _after = _two_generations(daemons)
    names = sorted(os.listdir(d.state_dir))
    for i, n in enumerate(generations(d.state_dir)):
        _corrupt(os.path.join(d.state_dir, gen_name(n)), HOWS[i % len(HOWS)],
                 magic=b"sluice-generation 2")
    d2 = daemons.spawn(workdir=d.workdir)
    assert d2.wait_exit(20) != 0
    out = d2.output()
    assert "StateFileCorrupt" in out, out
    for n in generations(d.state_dir):
        assert gen_name(n) + ": " in out, out
    assert sorted(os.listdir(d.state_dir)) == names  # nothing renamed
    # moved away, sluiced starts (empty)
    for n in names:
        os.rename(os.path.join(d.state_dir, n), os.path.join(d.workdir, n))
    d3 = daemons.start(workdir=d.workdir)
    assert d3.api.snapshot() == EMPTY


def test_tmp_leftovers_are_not_loaded(daemons):
    d = daemons.start()
    populate(d.api)
    snap = d.api.snapshot()
    assert d.stop() == 0
    top = generations(d.state_dir)[-1]
    other = {"virtualNetworks": [{"name": "tmpvnet", "properties": {
        "addressSpace": {"addressPrefixes": ["10.7.0.0/16"]}}}],
        "networkInterfaces": [], "loadBalancers": []}
    # a valid-looking but never renamed next generation, and a torn one
    tmp = os.path.join(d.state_dir, gen_name(top + 1) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(generation_text(top + 1, 0, other))
    d2 = daemons.start(workdir=d.workdir)
    assert d2.api.snapshot() == snap
    assert d2.api.get(rid("virtualNetworks", "tmpvnet")).status == 404
    assert d2.stop() == 0
    with open(tmp, "wb") as f:
        f.write(generation_text(top + 1, 0, other)[:30])
    d3 = daemons.start(workdir=d.workdir)
    assert d3.api.snapshot() == snap
    assert d3.api.status()["state"]["recovery"]["damaged"] is False
    # a .tmp alone (the first generation was torn before its rename): an empty start
    d3.stop()
    for n in os.listdir(d.state_dir):
        os.unlink(os.path.join(d.state_dir, n))
    with open(os.path.join(d.state_dir, gen_name(1) + ".tmp"), "wb") as f:
        f.write(generation_text(1, 0, other))
    with open(os.path.join(d.state_dir, "state.json.tmp"), "wb") as f:
        f.write(state_text(other))
    d4 = daemons.start(workdir=d.workdir)
    assert d4.api.snapshot() == EMPTY


def test_crafted_generation_and_journal_are_loaded(daemons, tmp_path):
    """The format is what docs/operations.md says: a generation file with a header
    line (number, sequence, length, CRC32-C of the JSON), and its journal of
    checksummed records replayed in order (checked by writing them by hand)."""
    state = tmp_path / "state"
    state.mkdir()
    doc = {"virtualNetworks": [{"name": "handmade", "properties": {
        "addressSpace": {"addressPrefixes": ["10.6.0.0/16"]}}}],
        "networkInterfaces": [], "loadBalancers": []}
    (state / gen_name(41)).write_bytes(generation_text(41, 100, doc))
    vnet2 = rid("virtualNetworks", "second")
    (state / "journal-0000000041").write_bytes(
        b"sluice-journal 2 41 100\n" +
        record_text(101, {"op": "put", "id": vnet2, "value": {"name": "second", "properties": {
            "addressSpace": {"addressPrefixes": ["10.8.0.0/16"]}}}}) +
        record_text(102, {"op": "delete", "id": rid("virtualNetworks", "handmade")}) +
        record_text(103, {"op": "put", "id": rid("virtualNetworks", "third"),
                          "value": {"properties": {}}})[:-5])  # torn
    d = daemons.start(workdir=str(tmp_path))
    assert d.api.get(rid("virtualNetworks", "handmade")).status == 404
    assert d.api.get(rid("virtualNetworks", "third")).status == 404
    v = d.api.get(vnet2)
    assert v.status == 200, v
    assert v.json["properties"]["addressSpace"]["addressPrefixes"] == ["10.8.0.0/16"]
    st = d.api.status()["state"]
    assert st["recovery"]["loaded"] == gen_name(41)
    assert st["recovery"]["replayedRecords"] == 2
    assert st["recovery"]["cut"]["file"] == "journal-0000000041"
    assert "cut short" in st["recovery"]["cut"]["reason"]
    assert st["generation"] > 41 and st["sequence"] == 102


def test_crafted_state_file_is_loaded(daemons, tmp_path):
    """A format-1 state.json, written by hand, alone in the directory."""
    state = tmp_path / "state"
    state.mkdir()
    doc = {"virtualNetworks": [{"name": "handmade", "properties": {
        "addressSpace": {"addressPrefixes": ["10.6.0.0/16"]}}}],
        "networkInterfaces": [], "loadBalancers": []}
    (state / "state.json").write_bytes(state_text(doc))
    d2 = daemons.start(workdir=str(tmp_path))
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


def chattr_immutable(path, on):
    subprocess.run(["chattr", "+i" if on else "-i", path], check=True, capture_output=True)


def immutable_or_skip(workdir):
    """Skip unless chattr +i works here and fails a write through a descriptor
    opened before it (root with CAP_LINUX_IMMUTABLE, on ext4, XFS, Btrfs...)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr (e2fsprogs) is not installed")
    probe = os.path.join(workdir, "immutable-probe")
    with open(probe, "wb") as f:
        f.write(b"x")
    fd = os.open(probe, os.O_WRONLY | os.O_APPEND)
    try:
        r = subprocess.run(["chattr", "+i", probe], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip("chattr +i is refused here (it needs root and a file system with "
                        f"the immutable flag): {r.stderr.strip()}")
        try:
            os.write(fd, b"y")
            failed = False
        except OSError:
            failed = True
        chattr_immutable(probe, False)
        if not failed:
            pytest.skip("a write to an immutable file through an open descriptor "
                        "succeeds on this file system")
    finally:
        os.close(fd)
        os.unlink(probe)


def test_state_write_failure_refuses_the_change(daemons):
    """When the state cannot be written the change is refused (docs/api.md:
    persisted before the answer), on either path: a load balancer PUT (a new
    generation) and a pool PUT (a journal record, appended to the journal
    sluiced holds open). The previous configuration is published again, so
    the dataplane runs what the API shows (a new generation with the old
    backends), and the error is the server's (500). The writes fail for
    real: the state directory and its journal made immutable (chattr +i),
    which fails a write even through a descriptor already open."""
    d = daemons.start()
    immutable_or_skip(d.workdir)
    populate(d.api)
    journal = os.path.join(d.state_dir, "journal-%010d" % d.api.status()["state"]["generation"])
    assert os.path.exists(journal)
    pool_body = {"properties": {"loadBalancerBackendAddresses": [
        h.address("a9", "10.0.0.19", "vnet")]}}
    lb_body = d.api.get(LB).json
    pools = lb_body["properties"]["backendAddressPools"]
    h.child(lb_body, "backendAddressPools", "pool")["properties"][
        "loadBalancerBackendAddresses"] = [h.address("a8", "10.0.0.18", "vnet")]
    pools.append(h.pool("extra", [h.address("e1", "10.0.0.21", "vnet")]))

    def refused(path, body):
        snap, st = d.api.snapshot(), d.api.status()
        files = {n: b for n, (b, _) in dir_contents(d.state_dir).items()}
        before = d.api.request("GET", "/sluice/stats", api_version=None).json
        r = d.api.put(path, body)
        assert r.status == 500, r
        assert r.error["code"] == "StateWriteFailed", r
        assert d.api.snapshot() == snap
        st2 = d.api.status()
        assert (st2["commits"], st2["incrementalCommits"]) == (
            st["commits"], st["incrementalCommits"])
        after = d.api.request("GET", "/sluice/stats", api_version=None).json
        assert after["generation"] == before["generation"] + 2  # the change, then the previous
        assert [b["name"] for b in after["backends"]] == [b["name"] for b in before["backends"]]
        assert {n: b for n, (b, _) in dir_contents(d.state_dir).items()} == files

    chattr_immutable(journal, True)
    try:
        chattr_immutable(d.state_dir, True)
        try:
            refused(POOL, pool_body)  # the journal append fails (and cannot be cut back)
            refused(LB, lb_body)      # the generation cannot be created
            refused(POOL, pool_body)  # appends refused since: a generation instead, which fails
            assert d.api.status()["state"]["appendsRefused"] is True
        finally:
            chattr_immutable(d.state_dir, False)
    finally:
        chattr_immutable(journal, False)
    st = d.api.status()
    assert d.api.put(POOL, pool_body).status == 200  # a new generation: appends were refused
    st2 = d.api.status()
    assert st2["incrementalCommits"] == st["incrementalCommits"] + 1
    assert st2["state"]["generation"] > st["state"]["generation"]
    assert (st2["state"]["appendsRefused"], st2["state"]["journalRecords"]) == (False, 0)
    lb_body["properties"]["backendAddressPools"] = [
        p for p in lb_body["properties"]["backendAddressPools"] if p["name"] != "pool"]
    lb_body["properties"]["backendAddressPools"].append(d.api.get(POOL).json)
    assert d.api.put(LB, lb_body).status == 200
    pool_body["properties"]["loadBalancerBackendAddresses"].append(
        h.address("a10", "10.0.0.20", "vnet"))
    assert d.api.put(POOL, pool_body).status == 200  # a journal record again
    st3 = d.api.status()
    assert st3["incrementalCommits"] == st["incrementalCommits"] + 2
    assert st3["state"]["journalRecords"] == 1
    snap = d.api.snapshot()
    d.kill()
    d2 = daemons.start(workdir=d.workdir)
    assert d2.api.snapshot() == snap
    assert [a["name"] for a in d2.api.get(POOL).json["properties"][
        "loadBalancerBackendAddresses"]] == ["a9", "a10"]
    assert d2.api.get(rid("loadBalancers", "lb", "backendAddressPools", "extra")).status == 200
