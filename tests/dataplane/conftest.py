# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of the dataplane tier: sluiced on net_pcap, pcap in, pcap out.

Test modules use these as `import dphelpers` (an alias of this module set
below): a bare `import conftest` is ambiguous once several tiers with their
own conftest.py run in one pytest session.

Addressing plan used by every test (one virtual network per delivery mode,
so that a backend's Floating IP delivery is its vnet's):
  sluice's port           02:00:5e:00:00:01, 10.0.0.2, fd00::2
  vnet N (N = 1..9)       10.N.0.0/16 and fdNN::/48 (fd01::/48 ...)
  frontends of vnet N     10.N.255.x in subnet "fe4" (10.N.255.0/24),
                          fdNN:0:0:ffff::x in subnet "fe6" (fdNN:0:0:ffff::/64)
  backends                10.N.P.x, fdNN::P:x; static neighbour MACs
                          02:b0:NN:PP:XX:XX derived from the address
  clients                 198.18.0.0/15 and 2001:db8::/32
"""
import ipaddress
import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.abspath(os.path.join(HERE, "..", "tools"))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

sys.modules.setdefault("dphelpers", sys.modules[__name__])

import slharness  # noqa: E402
from scapy.all import (IP, TCP, UDP, Ether, IPv6, Raw, raw)  # noqa: E402,F401

SLUICE_MAC = slharness.SLUICE_MAC
ROUTER_MAC = slharness.ROUTER_MAC
PORT_IPV4 = slharness.PORT_IPV4
PORT_IPV6 = slharness.PORT_IPV6
CLIENT_MAC = ROUTER_MAC

ARM = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network"

# Every drop reason the stats file reports, in sl_drop.c's order.
DROP_REASONS = [
    "l2_truncated", "vlan_stacked", "not_ip", "ipv4_truncated", "ipv4_bad_version",
    "ipv4_bad_ihl", "ipv4_bad_length", "ipv4_fragment", "ipv6_truncated",
    "ipv6_bad_version", "ipv6_bad_length", "ipv6_bad_ext_header", "ipv6_mapped_address",
    "l4_unsupported",
    "l4_truncated", "tcp_bad_offset", "udp_bad_length", "no_frontend", "no_backend",
    "no_neighbour", "no_headroom", "mtu_exceeded", "tx_full", "no_snapshot",
]


# --------------------------------------------------------------------------
# The binary
# --------------------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def sluiced_binary():
    """Build sluiced when the build directory lacks it; fail (not skip) when that fails."""
    err = slharness.ensure_built()
    if err:
        pytest.fail(err, pytrace=False)
    return slharness.sluiced_path()


# --------------------------------------------------------------------------
# Addresses and MACs
# --------------------------------------------------------------------------

def is_v6(addr):
    return ":" in addr


def norm(addr):
    """Canonical text of an IP address (for comparing with the stats file)."""
    return str(ipaddress.ip_address(addr))


def vnet_prefixes(n):
    return [f"10.{n}.0.0/16", f"fd{n:02x}::/48"]


def fe_addr(n, host, v6=False):
    return f"fd{n:02x}:0:0:ffff::{host:x}" if v6 else f"10.{n}.255.{host}"


def be_addr(n, pool, host, v6=False):
    return f"fd{n:02x}::{pool:x}:{host:x}" if v6 else f"10.{n}.{pool}.{host}"


def mac_of(addr):
    """The static neighbour MAC the tests give a backend address."""
    a = ipaddress.ip_address(addr)
    b = a.packed
    fam = 0x66 if a.version == 6 else 0x44
    return "02:b0:%02x:%02x:%02x:%02x" % (fam, b[-3], b[-2], b[-1])


# --------------------------------------------------------------------------
# Configuration builder (control/sl_config.h, docs/configuration.md)
# --------------------------------------------------------------------------

def vnet_id(name):
    return f"{ARM}/virtualNetworks/{name}"


def subnet_id(vnet, subnet):
    return f"{ARM}/virtualNetworks/{vnet}/subnets/{subnet}"


def lb_child_id(lb, kind, name):
    return f"{ARM}/loadBalancers/{lb}/{kind}/{name}"


def vnet_name(n):
    return f"vnet{n}"


def make_vnet(n, mode=None, vni=None, udp_port=None):
    props = {
        "addressSpace": {"addressPrefixes": vnet_prefixes(n)},
        "subnets": [
            {"name": "fe4", "properties": {"addressPrefix": f"10.{n}.255.0/24"}},
            {"name": "fe6", "properties": {"addressPrefix": f"fd{n:02x}:0:0:ffff::/64"}},
        ],
    }
    if mode is not None:
        d = {"mode": mode}
        if vni is not None:
            d["vni"] = vni
        if udp_port is not None:
            d["udpPort"] = udp_port
        props["floatingIpDelivery"] = d
    return {"name": vnet_name(n), "id": vnet_id(vnet_name(n)), "properties": props}


class LB:
    """A load balancer in vnet n; frontends, pools and rules added by name."""

    def __init__(self, name, n):
        self.name = name
        self.n = n
        self.frontends = []
        self.pools = []
        self.rules = []
        self.neighbours = {}       # backend address -> MAC
        self.backend_names = {}    # backend address -> "<lb>/<pool>/<address name>"

    def frontend(self, name, addr):
        v6 = is_v6(addr)
        self.frontends.append({
            "name": name,
            "id": lb_child_id(self.name, "frontendIPConfigurations", name),
            "properties": {
                "privateIPAddress": addr,
                "privateIPAllocationMethod": "Static",
                "privateIPAddressVersion": "IPv6" if v6 else "IPv4",
                "subnet": {"id": subnet_id(vnet_name(self.n), "fe6" if v6 else "fe4")},
            },
        })
        return self

    def pool(self, name, addrs, weights=None, neighbours=True):
        """addrs: list of IPs (address names are "a<i>"); weights: list or None."""
        entries = []
        for i, a in enumerate(addrs):
            props = {"ipAddress": a, "virtualNetwork": {"id": vnet_id(vnet_name(self.n))}}
            if weights is not None and weights[i] is not None:
                props["weight"] = weights[i]
            aname = f"a{i}"
            entries.append({"name": aname, "properties": props})
            self.backend_names[a] = f"{self.name}/{name}/{aname}"
            if neighbours:
                self.neighbours[a] = mac_of(a)
        self.pools.append({
            "name": name,
            "id": lb_child_id(self.name, "backendAddressPools", name),
            "properties": {"loadBalancerBackendAddresses": entries},
        })
        return self

    def rule(self, name, frontend, pool, protocol, frontend_port, backend_port=None,
             floating=False, dist="Default"):
        if backend_port is None:
            backend_port = frontend_port
        self.rules.append({
            "name": name,
            "id": lb_child_id(self.name, "loadBalancingRules", name),
            "properties": {
                "frontendIPConfiguration": {"id": lb_child_id(self.name, "frontendIPConfigurations", frontend)},
                "backendAddressPool": {"id": lb_child_id(self.name, "backendAddressPools", pool)},
                "protocol": protocol,
                "frontendPort": frontend_port,
                "backendPort": backend_port,
                "enableFloatingIP": floating,
                "loadDistribution": dist,
                "idleTimeoutInMinutes": 4,
            },
        })
        return self

    def rule_name(self, name):
        return f"{self.name}/{name}"

    def to_json(self):
        return {
            "name": self.name,
            "id": f"{ARM}/loadBalancers/{self.name}",
            "sku": {"name": "Standard"},
            "properties": {
                "frontendIPConfigurations": self.frontends,
                "backendAddressPools": self.pools,
                "loadBalancingRules": self.rules,
            },
        }


def make_config(vnets, lbs, settings=None):
    cfg = {"virtualNetworks": vnets, "loadBalancers": [lb.to_json() for lb in lbs]}
    if settings:
        cfg["settings"] = settings
    return cfg


def neighbours_of(lbs):
    nb = {}
    for lb in lbs:
        nb.update(lb.neighbours)
    return nb


# --------------------------------------------------------------------------
# Running sluiced
# --------------------------------------------------------------------------

def keep_tmp():
    """SLUICE_KEEP_TMP=1 keeps every run's directory (pcaps, config, profile, stats)."""
    return bool(os.environ.get("SLUICE_KEEP_TMP"))


def run(config, packets, neighbours, **kw):
    """slharness.run_pcap, failing the test with sluiced's output when it does not
    exit 0. The run's directory is removed once read, unless the run failed."""
    r = slharness.run_pcap(config, packets, neighbours, **kw)
    where = f"(files in {r.workdir})"
    assert r.rc == 0, f"sluiced exited {r.rc} {where}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert r.stats, f"no statistics file {where}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    if not keep_tmp():
        shutil.rmtree(r.workdir, ignore_errors=True)
    return r


def drops_nonzero(stats):
    return {k: v for k, v in stats.get("drops", {}).items() if v}


def rule_counters(stats):
    return {r["name"]: r for r in stats["rules"]}


def backend_counters(stats):
    return {b["name"]: b for b in stats["backends"]}


# --------------------------------------------------------------------------
# Packets
# --------------------------------------------------------------------------

def client(i, v6=False):
    if v6:
        return str(ipaddress.IPv6Address(0x20010DB8_0000_0000_0000_0000_0000_0000 + 0x10000 + i))
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("198.18.0.0")) + 1 + i))


def pkt(src, dst, proto, sport, dport, payload=b"", flags="A", seq=1000, ttl=64,
        dst_mac=SLUICE_MAC, src_mac=CLIENT_MAC, udp_chksum=None):
    l3 = IPv6(src=src, dst=dst, hlim=ttl) if is_v6(dst) else IP(src=src, dst=dst, ttl=ttl, id=0x1234)
    if proto == "tcp":
        l4 = TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=77, window=65535)
    else:
        l4 = UDP(sport=sport, dport=dport)
        if udp_chksum is not None:
            l4.chksum = udp_chksum
    p = Ether(dst=dst_mac, src=src_mac) / l3 / l4
    if payload:
        p = p / Raw(payload)
    return Ether(raw(p))


def ip_bytes(frame):
    """The IP packet of an Ethernet frame (untagged or one 802.1Q tag), without padding."""
    b = raw(frame)
    off = 14
    etype = int.from_bytes(b[12:14], "big")
    if etype == 0x8100:
        off = 18
        etype = int.from_bytes(b[16:18], "big")
    ip = b[off:]
    if etype == 0x0800:
        return ip[:int.from_bytes(ip[2:4], "big")]
    if etype == 0x86DD:
        return ip[:40 + int.from_bytes(ip[4:6], "big")]
    raise AssertionError(f"not an IP frame: EtherType {etype:#06x}")


def ip_class(b):
    return IPv6 if (b[0] >> 4) == 6 else IP


def check_checksums(ip_raw, allow_zero_udp_v4=True):
    """Every checksum of an IP packet (and what scapy dissects inside it) equals
    what scapy computes when the field is deleted and the packet rebuilt.
    Returns the dissected packet."""
    cls = ip_class(ip_raw)
    got = cls(ip_raw)
    fresh = cls(ip_raw)
    layer, glayer = fresh, got
    while layer and not isinstance(layer, Raw) and layer.name != "NoPayload":
        if "chksum" in layer.fields:
            v4_outer = isinstance(layer, UDP) and isinstance(layer.underlayer, IP)
            if not (v4_outer and allow_zero_udp_v4 and glayer.chksum == 0):
                layer.chksum = None
        layer, glayer = layer.payload, glayer.payload
    rebuilt = cls(raw(fresh))
    layer, glayer = rebuilt, got
    while layer and not isinstance(layer, Raw) and layer.name != "NoPayload":
        if "chksum" in layer.fields:
            assert glayer.chksum == layer.chksum, (
                f"{layer.name} checksum on the wire {glayer.chksum:#06x}, "
                f"recomputed {layer.chksum:#06x}")
        layer, glayer = layer.payload, glayer.payload
    return got
