# SPDX-License-Identifier: BSD-3-Clause
"""Inbound NAT rules forward traffic (docs/configuration.md, inboundNatRules).

An inbound NAT rule maps (frontend IP, protocol, frontendPort) to the one NIC
ipConfiguration that lists it in loadBalancerInboundNatRules. Without Floating
IP the destination becomes the ipConfiguration's address and backendPort
(DNAT); with Floating IP the packet keeps its destination and is delivered the
way the NIC's virtual network delivers (L2 here, and IPinIP).

One sluiced run carries every case, in this order; a dropped input has no
output, so the outputs are matched to the inputs that should be forwarded:
  lb-nat (vnet 1, DNAT): ssh-vm1 Tcp 2201 -> vm1:22, ssh-vm2 Tcp 2202 -> vm2:22,
      dns-vm1 Udp 5353 -> vm1:53, ssh6-vm1 (IPv6) Tcp 2201 -> vm1:22,
      all-vm2 All 3000 -> vm2:3001, ssh-none Tcp 2299 (listed by no
      ipConfiguration), and a load-balancing rule http Tcp 80 -> pool web
  lb-l2 (vnet 2, Floating IP by L2): ssh-vm3 Tcp 2222 -> vm3
  lb-ipip (vnet 3, Floating IP by IPinIP): ssh-vm4 Tcp 2222 -> vm4
"""
import copy

import pytest
from scapy.all import IP, TCP, UDP, Ether, raw

import dphelpers as h

N_NAT, N_L2, N_IPIP = 1, 2, 3
FE4 = h.fe_addr(N_NAT, 10)
FE6 = h.fe_addr(N_NAT, 10, v6=True)
FE_L2 = h.fe_addr(N_L2, 10)
FE_IPIP = h.fe_addr(N_IPIP, 10)
VM1 = h.be_addr(N_NAT, 1, 11)
VM1_V6 = h.be_addr(N_NAT, 1, 11, v6=True)
VM2 = h.be_addr(N_NAT, 1, 12)
VM3 = h.be_addr(N_L2, 1, 13)
VM4 = h.be_addr(N_IPIP, 1, 14)
WEB = h.be_addr(N_NAT, 2, 11)


def vnet(n, mode=None):
    """dphelpers' vnet n with a subnet "vms" (10.n.1.0/24, fdNN::1:0/112) for the NICs."""
    v = h.make_vnet(n, mode=mode)
    v["properties"]["subnets"] += [
        {"name": "vms", "properties": {"addressPrefix": f"10.{n}.1.0/24"}},
        {"name": "vms6", "properties": {"addressPrefix": f"fd{n:02x}::1:0/112"}},
    ]
    return v


def nat_rule(lb, name, frontend, protocol, frontend_port, backend_port=None, floating=False):
    props = {
        "frontendIPConfiguration": {"id": h.lb_child_id(lb, "frontendIPConfigurations", frontend)},
        "protocol": protocol,
        "frontendPort": frontend_port,
        "enableFloatingIP": floating,
        "idleTimeoutInMinutes": 4,
    }
    if backend_port is not None:
        props["backendPort"] = backend_port
    return {"name": name, "id": h.lb_child_id(lb, "inboundNatRules", name), "properties": props}


def ipconfig(name, addr, n, nats, primary=False):
    """An ipConfiguration in subnet vms/vms6 of vnet n listing the NAT rules nats ((lb, rule) pairs)."""
    sub = "vms6" if h.is_v6(addr) else "vms"
    return {"name": name, "properties": {
        "privateIPAddress": addr,
        "privateIPAllocationMethod": "Static",
        "primary": primary,
        "subnet": {"id": h.subnet_id(h.vnet_name(n), sub)},
        "loadBalancerInboundNatRules": [
            {"id": h.lb_child_id(lb, "inboundNatRules", r)} for lb, r in nats],
    }}


def nic(name, ipconfigs):
    return {"name": name, "id": f"{h.ARM}/networkInterfaces/{name}",
            "properties": {"ipConfigurations": ipconfigs}}


def build():
    lb = h.LB("lb-nat", N_NAT)
    lb.frontend("fe4", FE4).frontend("fe6", FE6)
    lb.pool("web", [WEB]).rule("http", "fe4", "web", "Tcp", 80)
    lbj = lb.to_json()
    lbj["properties"]["inboundNatRules"] = [
        nat_rule("lb-nat", "ssh-vm1", "fe4", "Tcp", 2201, 22),
        nat_rule("lb-nat", "ssh-vm2", "fe4", "Tcp", 2202, 22),
        nat_rule("lb-nat", "dns-vm1", "fe4", "Udp", 5353, 53),
        nat_rule("lb-nat", "ssh6-vm1", "fe6", "Tcp", 2201, 22),
        nat_rule("lb-nat", "all-vm2", "fe4", "All", 3000, 3001),
        nat_rule("lb-nat", "ssh-none", "fe4", "Tcp", 2299, 22),
    ]
    lbs = [lbj]
    for n, name, rule in ((N_L2, "lb-l2", "ssh-vm3"), (N_IPIP, "lb-ipip", "ssh-vm4")):
        f = h.LB(name, n).frontend("fe4", h.fe_addr(n, 10)).to_json()
        f["properties"]["inboundNatRules"] = [
            nat_rule(name, rule, "fe4", "Tcp", 2222, floating=True)]
        lbs.append(f)
    nics = [
        nic("vm1-nic", [ipconfig("ipc1", VM1, N_NAT, [("lb-nat", "ssh-vm1"), ("lb-nat", "dns-vm1")],
                                 primary=True),
                        ipconfig("ipc6", VM1_V6, N_NAT, [("lb-nat", "ssh6-vm1")])]),
        nic("vm2-nic", [ipconfig("ipc1", VM2, N_NAT, [("lb-nat", "ssh-vm2"), ("lb-nat", "all-vm2")])]),
        nic("vm3-nic", [ipconfig("ipc1", VM3, N_L2, [("lb-l2", "ssh-vm3")])]),
        nic("vm4-nic", [ipconfig("ipc1", VM4, N_IPIP, [("lb-ipip", "ssh-vm4")])]),
    ]
    cfg = {"virtualNetworks": [vnet(N_NAT), vnet(N_L2, "L2"), vnet(N_IPIP, "IPinIP")],
           "loadBalancers": lbs, "networkInterfaces": nics}
    neighbours = {a: h.mac_of(a) for a in (VM1, VM1_V6, VM2, VM3, VM4, WEB)}
    return cfg, neighbours


CONFIG, NEIGHBOURS = build()
PAYLOAD = bytes(range(256))

# (name, packet, expected): expected is None for a drop, else
# (kind, rule, backend name, backend address, backend port), kind "dnat", "l2" or "ipip".
SSH1 = ("dnat", "lb-nat/ssh-vm1", "lb-nat/ssh-vm1/vm1-nic/ipc1", VM1, 22)
SSH2 = ("dnat", "lb-nat/ssh-vm2", "lb-nat/ssh-vm2/vm2-nic/ipc1", VM2, 22)
DNS1 = ("dnat", "lb-nat/dns-vm1", "lb-nat/dns-vm1/vm1-nic/ipc1", VM1, 53)
SSH6 = ("dnat", "lb-nat/ssh6-vm1", "lb-nat/ssh6-vm1/vm1-nic/ipc6", VM1_V6, 22)
ALL_T = ("dnat", "lb-nat/all-vm2/Tcp", "lb-nat/all-vm2/vm2-nic/ipc1", VM2, 3001)
ALL_U = ("dnat", "lb-nat/all-vm2/Udp", "lb-nat/all-vm2/vm2-nic/ipc1", VM2, 3001)
HTTP = ("dnat", "lb-nat/http", "lb-nat/web/a0", WEB, 80)
FIP_L2 = ("l2", "lb-l2/ssh-vm3", "lb-l2/ssh-vm3/vm3-nic/ipc1", VM3, 2222)
FIP_IPIP = ("ipip", "lb-ipip/ssh-vm4", "lb-ipip/ssh-vm4/vm4-nic/ipc1", VM4, 2222)

C1, C2, C3 = h.client(1), h.client(2), h.client(3)
C6 = h.client(6, v6=True)
CASES = [
    ("ssh1-syn", h.pkt(C1, FE4, "tcp", 40001, 2201, flags="S"), SSH1),
    ("ssh1-data", h.pkt(C1, FE4, "tcp", 40001, 2201, PAYLOAD[:100]), SSH1),
    ("ssh2-syn", h.pkt(C1, FE4, "tcp", 40002, 2202, flags="S"), SSH2),
    ("no-rule-port", h.pkt(C2, FE4, "tcp", 40003, 2203, flags="S"), None),
    ("ssh2-data", h.pkt(C2, FE4, "tcp", 40004, 2202, PAYLOAD[:77]), SSH2),
    ("dns1", h.pkt(C2, FE4, "udp", 50001, 5353, PAYLOAD[:33]), DNS1),
    ("dns1-nochecksum", h.pkt(C3, FE4, "udp", 50002, 5353, b"zero", udp_chksum=0), DNS1),
    ("udp-to-tcp-rule", h.pkt(C2, FE4, "udp", 50003, 2201, b"x"), None),
    ("ssh6", h.pkt(C6, FE6, "tcp", 40005, 2201, PAYLOAD[:64]), SSH6),
    ("all-tcp", h.pkt(C3, FE4, "tcp", 40006, 3000, PAYLOAD[:10]), ALL_T),
    ("all-udp", h.pkt(C3, FE4, "udp", 40006, 3000, PAYLOAD[:11]), ALL_U),
    ("detached", h.pkt(C1, FE4, "tcp", 40007, 2299, flags="S"), None),
    ("http", h.pkt(C1, FE4, "tcp", 40008, 80, PAYLOAD[:20]), HTTP),
    ("fip-l2", h.pkt(C1, FE_L2, "tcp", 40009, 2222, PAYLOAD[:50]), FIP_L2),
    ("fip-ipip", h.pkt(C1, FE_IPIP, "tcp", 40010, 2222, PAYLOAD[:51]), FIP_IPIP),
    ("no-rule-v6", h.pkt(C6, FE6, "tcp", 40011, 2202, flags="S"), None),
]
FORWARDED = [c for c in CASES if c[2] is not None]


@pytest.fixture(scope="module")
def result():
    r = h.run(CONFIG, [p for _, p, _ in CASES], NEIGHBOURS)
    assert len(r.out) == len(FORWARDED), (
        f"{len(FORWARDED)} packets expected out, {len(r.out)} out; "
        f"drops {h.drops_nonzero(r.stats)}\n{r.stdout}")
    return r


def outputs(result, kind=None):
    return [(name, p_in, exp, p_out) for (name, p_in, exp), p_out in zip(FORWARDED, result.out)
            if kind is None or exp[0] == kind]


def l4_of(pkt):
    return pkt[TCP] if TCP in pkt else pkt[UDP]


def test_dnat_rewrites_destination_with_good_checksums(result):
    seen = 0
    for name, p_in, (_, _, _, addr, port), p_out in outputs(result, "dnat"):
        assert p_out[Ether].src == h.SLUICE_MAC, name
        assert p_out[Ether].dst == h.mac_of(addr), name
        ip_in = h.ip_class(h.ip_bytes(p_in))(h.ip_bytes(p_in))
        got = h.check_checksums(h.ip_bytes(p_out))
        assert got.dst == h.norm(addr), name
        assert got.src == ip_in.src, name
        L4 = TCP if TCP in got else UDP
        assert got[L4].dport == port, name
        assert got[L4].sport == ip_in[L4].sport, name
        assert bytes(got[L4].payload) == bytes(ip_in[L4].payload), name
        # the whole IP packet is what scapy builds from the rewritten fields
        # (DNAT routes: the TTL / hop limit goes down by one)
        exp = h.ip_class(h.ip_bytes(p_in))(h.ip_bytes(p_in))
        exp.dst = addr
        exp[L4].dport = port
        if not (L4 is UDP and IP in exp and exp[UDP].chksum == 0):
            exp[L4].chksum = None  # a zero UDP checksum (none) stays zero
        if IP in exp:
            exp.ttl -= 1
            exp.chksum = None
        else:
            exp.hlim -= 1
        assert h.ip_bytes(p_out) == raw(exp), name
        seen += 1
    assert seen == len([c for c in FORWARDED if c[2][0] == "dnat"])


def test_udp_zero_checksum_stays_zero(result):
    (_, _, _, p_out), = [o for o in outputs(result) if o[0] == "dns1-nochecksum"]
    got = IP(h.ip_bytes(p_out))
    assert got[UDP].dport == 53 and got.dst == VM1
    assert got[UDP].chksum == 0


def test_two_rules_one_frontend_two_vms(result):
    by_name = {name: IP(h.ip_bytes(p_out)) for name, _, _, p_out in outputs(result)
               if name.startswith(("ssh1", "ssh2"))}
    assert {by_name["ssh1-syn"].dst, by_name["ssh1-data"].dst} == {VM1}
    assert {by_name["ssh2-syn"].dst, by_name["ssh2-data"].dst} == {VM2}
    assert all(p[TCP].dport == 22 for p in by_name.values())


def test_floating_ip_l2_keeps_destination(result):
    (name, p_in, _, p_out), = outputs(result, "l2")
    assert p_out[Ether].dst == h.mac_of(VM3)
    assert p_out[Ether].src == h.SLUICE_MAC
    # the IP packet is the client's, byte for byte
    assert h.ip_bytes(p_out) == h.ip_bytes(p_in)
    got = h.check_checksums(h.ip_bytes(p_out))
    assert got.dst == FE_L2 and got[TCP].dport == 2222


def test_floating_ip_ipip_keeps_destination(result):
    (name, p_in, _, p_out), = outputs(result, "ipip")
    assert p_out[Ether].dst == h.mac_of(VM4)
    outer = h.check_checksums(h.ip_bytes(p_out))
    assert outer.proto == 4
    assert outer.src == h.PORT_IPV4 and outer.dst == VM4
    assert raw(outer.payload) == h.ip_bytes(p_in)
    assert outer[IP].payload.dst == FE_IPIP


def test_drops(result):
    s = result.stats
    assert s["rx"] == len(CASES)
    assert s["tx"] == len(FORWARDED)
    # two ports without a rule (one per family) and Udp to a Tcp-only NAT rule
    assert h.drops_nonzero(s) == {"no_frontend": 3, "no_backend": 1}


def test_rule_and_backend_counters(result):
    rules = h.rule_counters(result.stats)
    backends = h.backend_counters(result.stats)
    exp_rules, exp_bes = {}, {}
    for _, p_in, (_, rule, be, _, _) in FORWARDED:
        ln = len(h.ip_bytes(p_in))
        for d, k in ((exp_rules, rule), (exp_bes, be)):
            c = d.setdefault(k, [0, 0])
            c[0] += 1
            c[1] += ln
    exp_rules["lb-nat/ssh-none"] = [0, 0]  # dropped as no_backend: nothing forwarded
    assert {k: [v["packets"], v["bytes"]] for k, v in rules.items()} == exp_rules
    assert {k: [v["packets"], v["bytes"]] for k, v in backends.items()} == exp_bes
    # each NAT backend is the NIC ipConfiguration's address
    for _, _, (_, _, be, addr, _) in FORWARDED:
        assert backends[be]["address"] == h.norm(addr)


def test_stats_text_names_nat_rules(result):
    # the text summary sluiced prints at exit lists the rules and their pools
    out = result.stdout + result.stderr
    assert "lb-nat/ssh-vm1" in out
    assert "pool lb-nat/ssh-none (0 backends" in out
    assert "pool lb-nat/ssh-vm2 (1 backends" in out


def test_floating_ip_requires_equal_ports():
    """With Floating IP, backendPort must equal frontendPort (validation, not compiled)."""
    cfg = copy.deepcopy(CONFIG)
    cfg["loadBalancers"][1]["properties"]["inboundNatRules"][0]["properties"]["backendPort"] = 22
    r = h.slharness.run_pcap(cfg, [h.pkt(C1, FE_L2, "tcp", 1, 2222)], NEIGHBOURS, timeout=30)
    assert r.rc != 0
    assert "FloatingIPRequiresSameFrontendAndBackendPort" in r.stdout + r.stderr
