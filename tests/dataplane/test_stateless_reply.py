# SPDX-License-Identifier: BSD-3-Clause
"""Stateless reverse DNAT, and identical backend choices across sluiced runs.

A DNAT backend's reply that no reply entry knows (its request went through
another sluice host behind ECMP, or came before a restart: every run here is
a fresh sluiced) is translated from the reply index: the rule whose backend
port and pool the reply's source matches. It leaves from the frontend's
address and port, TTL decremented, checksums updated, to the MAC of the
port's gateway, counted paths.reply_stateless. A backend:port behind two
frontends is ambiguous: not translated, counted paths.reply_ambiguous, and
dropped as a miss is (reply_no_flow). So are replies to an address on the
port's own segment and frames not addressed to the port's MAC. A reply the
reply table knows still goes where its request came from (paths.reply).

Two sluiced runs with the same configuration send every flow to the same
backend, whatever order (or part) of the flows each run sees: what a host
that just restarted, behind ECMP, needs to agree with its peers.
"""
import pytest
from scapy.all import IP, TCP, UDP, Ether, IPv6, Raw, raw

import dphelpers as h

N = 1
GW_MAC = "02:00:5e:00:00:99"
GATEWAY = {"ipv4": "10.0.0.1", "ipv6": "fd00::1"}
FE = {4: h.fe_addr(N, 30), 6: h.fe_addr(N, 30, v6=True)}
FE_X = {4: h.fe_addr(N, 31), 6: h.fe_addr(N, 31, v6=True)}
POOL = {fam: [h.be_addr(N, 2, x, v6=fam == 6) for x in (11, 12, 13)] for fam in (4, 6)}
FPORT = {"tcp": 80, "udp": 53}
BPORT = {(4, "tcp"): 8080, (4, "udp"): 5353, (6, "tcp"): 8081, (6, "udp"): 5354}
L4 = {"tcp": TCP, "udp": UDP}
TTL = 50


def build():
    lb = h.LB("lb-sr", N)
    lb.frontend("fe4", FE[4]).frontend("fe6", FE[6]).frontend("fx4", FE_X[4]).frontend("fx6", FE_X[6])
    lb.pool("p4", POOL[4]).pool("p6", POOL[6])
    # the first backend of each family also serves another frontend on one of the ports
    lb.pool("px4", POOL[4][:1]).pool("px6", POOL[6][:1])
    for (fam, proto), bport in BPORT.items():
        lb.rule(f"{proto}{fam}", f"fe{fam}", f"p{fam}", proto.capitalize(), FPORT[proto], bport)
    lb.rule("x4", "fx4", "px4", "Tcp", 80, BPORT[(4, "tcp")])
    lb.rule("x6", "fx6", "px6", "Udp", 53, BPORT[(6, "udp")])
    nb = h.neighbours_of([lb])
    nb[GATEWAY["ipv4"]] = GW_MAC
    nb[GATEWAY["ipv6"]] = GW_MAC
    return h.make_config([h.make_vnet(N)], [lb]), nb, lb


CONFIG, NEIGHBOURS, LBX = build()

# (marker, family, protocol, backend index, client index): translated statelessly
UNIQUE = [
    ("tcp4", 4, "tcp", 1, 1), ("udp4", 4, "udp", 1, 2), ("tcp6", 6, "tcp", 1, 3),
    ("udp6", 6, "udp", 1, 4),
    # the shared backend on the ports no other frontend uses
    ("shared-udp4", 4, "udp", 0, 5), ("shared-tcp6", 6, "tcp", 0, 6),
]
# its ports that two frontends use: ambiguous
AMBIGUOUS = [("amb4", 4, "tcp", 0, 7), ("amb6", 6, "udp", 0, 8)]
ONLINK_CLIENT = "10.0.0.77"  # on the port's segment (10.0.0.2/24)
OTHER_MAC = "02:00:5e:00:00:42"


def reply(marker, fam, proto, bi, client, cport, dst_mac=h.SLUICE_MAC):
    be = POOL[fam][bi]
    ip = IPv6(src=be, dst=client, hlim=TTL) if fam == 6 else IP(src=be, dst=client, ttl=TTL)
    l4 = TCP(sport=BPORT[(fam, proto)], dport=cport, flags="PA", seq=5, ack=9) if proto == "tcp" \
        else UDP(sport=BPORT[(fam, proto)], dport=cport)
    return Ether(raw(Ether(src=h.mac_of(be), dst=dst_mac) / ip / l4 / Raw(f"<{marker}>".encode())))


def cport(ci):
    return 40000 + ci


def packets():
    pkts = []
    for marker, fam, proto, bi, ci in UNIQUE + AMBIGUOUS:
        pkts.append(reply(marker, fam, proto, bi, h.client(ci, v6=fam == 6), cport(ci)))
    pkts.append(reply("onlink", 4, "tcp", 1, ONLINK_CLIENT, 40100))
    pkts.append(reply("othermac", 4, "tcp", 1, h.client(9), 40101, dst_mac=OTHER_MAC))
    # a request, then its backend's reply: the reply table knows it
    c = h.client(10)
    pkts.append(Ether(raw(Ether(src="02:c1:00:00:00:0a", dst=h.SLUICE_MAC) /
                          IP(src=c, dst=FE[4], ttl=64) / TCP(sport=40200, dport=80, flags="S") /
                          Raw(b"request"))))
    return pkts


@pytest.fixture(scope="module")
def run():
    return h.run(CONFIG, packets(), NEIGHBOURS, gateway=GATEWAY, ipv4="10.0.0.2/24",
                 ipv6="fd00::2/64")


@pytest.fixture(scope="module")
def with_request():
    """The request and, after it, the chosen backend's reply (found by a first run:
    Maglev is deterministic, as the second test below checks)."""
    first = h.run(CONFIG, packets()[-1:], NEIGHBOURS, gateway=GATEWAY, ipv4="10.0.0.2/24",
                  ipv6="fd00::2/64")
    req = [f for f in first.out if b"request" in raw(f)]
    assert len(req) == 1
    be = req[0][IP].dst
    c = h.client(10)
    rep = Ether(raw(Ether(src=h.mac_of(be), dst=h.SLUICE_MAC) / IP(src=be, dst=c, ttl=TTL) /
                    TCP(sport=BPORT[(4, "tcp")], dport=40200, flags="SA") / Raw(b"<known>")))
    return h.run(CONFIG, packets()[-1:] + [rep], NEIGHBOURS, gateway=GATEWAY,
                 ipv4="10.0.0.2/24", ipv6="fd00::2/64")


def with_marker(out, marker):
    return [f for f in out if f"<{marker}>".encode() in raw(f)]


def test_counters(run):
    assert run.stats["paths"]["reply_stateless"] == len(UNIQUE)
    assert run.stats["paths"]["reply_ambiguous"] == len(AMBIGUOUS)
    assert run.stats["paths"]["reply"] == 0
    # ambiguous, on-link client, not our MAC: dropped as a miss
    assert h.drops_nonzero(run.stats) == {"reply_no_flow": len(AMBIGUOUS) + 2}
    assert run.stats["tx"] == len(UNIQUE) + 1  # + the request
    rules = h.rule_counters(run.stats)
    want = {"tcp4": 1 + 1, "udp4": 2, "tcp6": 2, "udp6": 1, "x4": 0, "x6": 0}
    for name, n in want.items():
        assert rules[LBX.rule_name(name)]["packets"] == n, name


@pytest.mark.parametrize("case", UNIQUE, ids=[c[0] for c in UNIQUE])
def test_translated_to_frontend_via_gateway(run, case):
    marker, fam, proto, bi, ci = case
    got = with_marker(run.out, marker)
    assert len(got) == 1, f"{len(got)} frames carry {marker}"
    f = got[0]
    assert f.dst == GW_MAC, "not sent to the gateway's MAC"
    assert f.src == h.SLUICE_MAC
    ip = h.check_checksums(h.ip_bytes(f), allow_zero_udp_v4=False)
    assert ip.src == h.norm(FE[fam]) and ip.dst == h.norm(h.client(ci, v6=fam == 6))
    assert ip[L4[proto]].sport == FPORT[proto] and ip[L4[proto]].dport == cport(ci)
    assert (ip.hlim if fam == 6 else ip.ttl) == TTL - 1
    assert raw(ip[L4[proto]].payload) == f"<{marker}>".encode()


@pytest.mark.parametrize("marker", [c[0] for c in AMBIGUOUS] + ["onlink", "othermac"])
def test_not_translated(run, marker):
    assert not with_marker(run.out, marker)


def test_reply_table_first(with_request):
    """A reply whose request this sluiced forwarded goes where the request came from."""
    st = with_request.stats["paths"]
    assert st["reply"] == 1 and st["reply_stateless"] == 0
    got = with_marker(with_request.out, "known")
    assert len(got) == 1
    assert got[0].dst == "02:c1:00:00:00:0a"
    assert got[0][IP].src == h.norm(FE[4]) and got[0][TCP].sport == 80


# --------------------------------------------------------------------------
# Identical choices: two runs, the same configuration, the flows in another order
# --------------------------------------------------------------------------

S_N = 2
S_FE = h.fe_addr(S_N, 40)
S_POOL = [h.be_addr(S_N, 3, x) for x in range(11, 16)]
S_FLOWS = 300


def same_choice_build():
    lb = h.LB("lb-same", S_N)
    lb.frontend("fe", S_FE).pool("p", S_POOL).rule("web", "fe", "p", "Tcp", 80, 8080)
    return h.make_config([h.make_vnet(S_N)], [lb], settings={"hashSeed": 7}), h.neighbours_of([lb])


def choices(out):
    """(client, client port) -> backend, from the forwarded frames."""
    got = {}
    for f in out:
        ip = f[IP]
        key = (ip.src, ip[TCP].sport)
        assert got.get(key, ip.dst) == ip.dst, f"flow {key} went to two backends"
        got[key] = ip.dst
    return got


def test_two_runs_choose_the_same_backends():
    cfg, nb = same_choice_build()
    flows = [(h.client(i % 50), 30000 + i) for i in range(S_FLOWS)]

    def syn(c, p, flags="S"):
        return Ether(raw(Ether(src=h.ROUTER_MAC, dst=h.SLUICE_MAC) / IP(src=c, dst=S_FE) /
                         TCP(sport=p, dport=80, flags=flags)))
    # one host sees every flow from its first packet; the other, restarted, sees the
    # flows' later packets only, in the opposite order, and a part of them twice
    a = h.run(cfg, [syn(c, p) for c, p in flows], nb)
    later = list(reversed(flows))
    b = h.run(cfg, [syn(c, p, "A") for c, p in later] + [syn(c, p, "A") for c, p in later[::3]], nb)
    ca, cb = choices(a.out), choices(b.out)
    assert len(ca) == S_FLOWS and len(cb) == S_FLOWS
    assert ca == cb
    # and the choice is a real one: the flows spread over the pool
    assert set(ca.values()) == {h.norm(x) for x in S_POOL}


# --------------------------------------------------------------------------
# Untracked SYNs (a flood larger than the flow table) and their replies
# --------------------------------------------------------------------------

U_N = 3
U_FE = h.fe_addr(U_N, 50)
U_POOL = [h.be_addr(U_N, 4, x) for x in (11, 12, 13)]
U_SYNS = 40
# 2 buckets of 8 ways: most of the SYNs find no room and go untracked
U_ARGS = ["--flow-table-size", "8", "--reply-table-size", "256"]


def untracked_build():
    lb = h.LB("lb-u", U_N)
    lb.frontend("fe", U_FE).pool("p", U_POOL).rule("web", "fe", "p", "Tcp", 80, 8080)
    nb = h.neighbours_of([lb])
    nb[GATEWAY["ipv4"]] = GW_MAC
    return h.make_config([h.make_vnet(U_N)], [lb]), nb


U_CONFIG, U_NEIGHBOURS = untracked_build()


def untracked_run(src_mac, replies_to=None):
    """U_SYNS SYNs to U_FE's rule from src_mac; with replies_to (client port ->
    backend, from a first run), each backend's SYN-ACK after them."""
    pkts = [Ether(raw(Ether(src=src_mac, dst=h.SLUICE_MAC) /
                      IP(src=h.client(20 + i), dst=U_FE, ttl=64) /
                      TCP(sport=41000 + i, dport=80, flags="S") / Raw(b"syn"))) for i in range(U_SYNS)]
    for cp, be in sorted((replies_to or {}).items()):
        i = cp - 41000
        pkts.append(Ether(raw(Ether(src=h.mac_of(be), dst=h.SLUICE_MAC) /
                              IP(src=be, dst=h.client(20 + i), ttl=TTL) /
                              TCP(sport=8080, dport=cp, flags="SA") /
                              Raw(f"<u{i}>".encode()))))
    return h.run(U_CONFIG, pkts, U_NEIGHBOURS, gateway=GATEWAY, ipv4="10.0.0.2/24",
                 ipv6="fd00::2/64", extra_args=U_ARGS)


def backends_of(r):
    return {f[TCP].sport: f[IP].dst for f in r.out if b"syn" in raw(f)}


@pytest.mark.parametrize("src_mac,needless", [(GW_MAC, True), ("02:c1:00:00:00:0b", False)],
                         ids=["from the gateway", "from a host of the segment"])
def test_untracked_syn_reply_entry(src_mac, needless):
    """An untracked SYN from the gateway's MAC, whose backend:port the reply index
    maps back to its rule alone, leaves no reply entry (paths.syn_no_reply_entry):
    its reply is translated statelessly, to the same gateway. From any other MAC it
    leaves one, and its reply goes back to that MAC."""
    first = untracked_run(src_mac)
    chosen = backends_of(first)
    assert len(chosen) == U_SYNS
    untracked = first.stats["flows"]["tableFull"]
    assert 0 < untracked < U_SYNS
    assert first.stats["paths"]["syn_no_reply_entry"] == (untracked if needless else 0)
    r = untracked_run(src_mac, chosen)
    assert backends_of(r) == chosen
    paths = r.stats["paths"]
    assert paths["syn_no_reply_entry"] == (untracked if needless else 0)
    assert paths["reply_table_full"] == 0
    # tracked SYNs left their entry; untracked ones did only when needed
    assert paths["reply"] == (U_SYNS - untracked if needless else U_SYNS)
    assert paths["reply_stateless"] == (untracked if needless else 0)
    assert h.drops_nonzero(r.stats) == {}
    for cp in chosen:
        i = cp - 41000
        got = with_marker(r.out, f"u{i}")
        assert len(got) == 1, f"the reply to client port {cp} was not sent"
        f = got[0]
        assert f.dst == src_mac
        assert f[IP].src == h.norm(U_FE) and f[IP].dst == h.norm(h.client(20 + i))
        assert f[TCP].sport == 80 and f[TCP].dport == cp and f[IP].ttl == TTL - 1
