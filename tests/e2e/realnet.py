# SPDX-License-Identifier: BSD-3-Clause
"""realnet.py: a routed test bed for sluice on a real network, in namespaces.

    client 10.66.1.2 / fd66:1::2
       |  (segment A)
    router 10.66.1.1 / fd66:1::1  --  10.66.2.1 / fd66:2::1
       |  (segment B: a bridge; optionally every host on it uses VLAN `vlan`)
       +-- lb: lb0, sluice on net_af_packet, 10.66.2.2/24 fd66:2::2/64
       |        (and, for the exception-path test, a TAP the kernel owns)
       +-- backend1 10.66.2.11 / fd66:2::11   default route via sluice (DNAT)
       +-- backend2 10.66.2.12 / fd66:2::12   default route via sluice (DNAT)
       +-- backend3 10.66.2.13 / fd66:2::13   default route via the router
                  VIP_L2 / VIP_L2_6 on lo (Floating IP, L2 delivery),
                  VIP_VXLAN behind a kernel vxlan device over IPv4 (vx0),
                  VIP_VXLAN_6 behind one over IPv6 (vx1)

Nothing is static: the client and the router find sluice's frontends by ARP
and ND (sluice answers), sluice finds the backends and the router the same
way, the backends find their gateway (sluice's port address) by ARP/ND.
Frontends are addresses of segment B that no host holds. Every name carries
a prefix unique to the run (netns.PREFIX), like netns.py.
"""
import os
import subprocess
import sys

from netns import PREFIX, delete_namespace, sh, sysctl

LB_MAC = "02:66:00:00:00:02"
LB_MAC_A = "02:66:00:00:01:01"    # two-armed: the client-facing port
LB_V4, LB_V6 = "10.66.2.2", "fd66:2::2"
ROUTER_A = ("10.66.1.1", "fd66:1::1")
ROUTER_B = ("10.66.2.1", "fd66:2::1")
CLIENT = ("10.66.1.2", "fd66:1::2")
BACKENDS = {
    "backend1": ("10.66.2.11", "fd66:2::11", "02:66:00:00:00:11"),
    "backend2": ("10.66.2.12", "fd66:2::12", "02:66:00:00:00:12"),
    "backend3": ("10.66.2.13", "fd66:2::13", "02:66:00:00:00:13"),
}
VIP_DNAT = ("10.66.2.10", "fd66:2::10")
VIP_L2 = "10.66.2.20"
VIP_VXLAN = "10.66.2.30"
VIP_L2_6 = "fd66:2::20"
VIP_VXLAN_6 = "fd66:2::30"
VNI = 6600
SHORT = {"client": "c", "router": "r", "bridge": "s", "lb": "l", "backend1": "b1",
         "backend2": "b2", "backend3": "b3"}


class RealNet:
    def __init__(self, tag, vlan=0, two_armed=False):
        self.vlan = vlan
        self.two_armed = two_armed
        self.relay = None
        self.short = SHORT
        # segment A: the client's and the router's (IPv4, IPv6); the router's leg on B
        self.seg_a = {"client": CLIENT, "router": ROUTER_A, "router_b": ROUTER_B}
        self.ns = {h: f"{PREFIX}{os.getpid()}-{tag}{s}" for h, s in SHORT.items()}
        self.created = []

    def _ns(self, host):
        name = self.ns[host]
        sh(["ip", "netns", "add", name])
        self.created.append(name)
        sh(["ip", "-n", name, "link", "set", "lo", "up"])
        sysctl(name, **{"net.ipv4.conf.all.rp_filter": 0,
                        "net.ipv4.conf.default.rp_filter": 0,
                        "net.ipv6.conf.all.accept_dad": 0,
                        "net.ipv6.conf.default.accept_dad": 0,
                        "net.ipv6.conf.all.accept_ra": 0,
                        "net.ipv6.conf.default.accept_ra": 0})

    def _seg_b_port(self, host, ifname, mac):
        """host's interface on segment B: a veth into the bridge. With vlan,
        sluice's port is a trunk: its veth ends at a relay (vlanrelay.py) that
        tags what goes to sluice and untags what comes from it, the way a
        switch's trunk port does (this kernel has no VLAN devices)."""
        br, ns = self.ns["bridge"], self.ns[host]
        port = "p-" + self.short[host]
        sh(["ip", "-n", br, "link", "add", port, "type", "veth", "peer", "name", ifname,
            "netns", ns])
        sh(["ip", "-n", ns, "link", "set", ifname, "address", mac, "up"])
        # complete checksums in the frames sluice reads through af_packet
        sh(["ethtool", "-K", ifname, "tx", "off"], ns=ns)
        if self.vlan and host == "lb":
            sh(["ip", "-n", br, "link", "set", port, "up"])
            sh(["ip", "-n", br, "link", "add", "t-a", "type", "veth", "peer", "name", "t-b"])
            sh(["ip", "-n", br, "link", "set", "t-a", "master", "br0", "up"])
            sh(["ip", "-n", br, "link", "set", "t-b", "up"])
            for dev in (port, "t-a", "t-b"):
                sh(["ethtool", "-K", dev, "tx", "off", "rxvlan", "off", "txvlan", "off"],
                   ns=br, check=False)
            self.relay = subprocess.Popen(
                ["ip", "netns", "exec", br, sys.executable,
                 os.path.join(os.path.dirname(os.path.abspath(__file__)), "vlanrelay.py"),
                 port, "t-b", str(self.vlan)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return ifname
        sh(["ip", "-n", br, "link", "set", port, "master", "br0", "up"])
        return ifname

    def _addr(self, host, dev, v4, v6):
        ns = self.ns[host]
        sh(["ip", "-n", ns, "addr", "add", v4 + "/24", "dev", dev])
        sh(["ip", "-n", ns, "-6", "addr", "add", v6 + "/64", "dev", dev, "nodad"])

    def up(self):
        try:
            self._ns("bridge")
            br = self.ns["bridge"]
            sh(["ip", "-n", br, "link", "add", "br0", "type", "bridge", "stp_state", "0",
                "mcast_snooping", "0", "forward_delay", "0"])
            sh(["ip", "-n", br, "link", "set", "br0", "up"])
            self._ns("client")
            self._ns("lb")
            if self.two_armed:
                self._segment_a_sluice()
            else:
                self._segment_a_router()
            self._segment_b()
        except Exception:
            self.down()
            raise
        return self

    def _segment_a_router(self):
        """Segment A: client <-> router, a plain veth pair; the router's other
        leg is on segment B."""
        self._ns("router")
        c, r = self.ns["client"], self.ns["router"]
        sh(["ip", "-n", c, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
            "netns", r])
        for ns in (c, r):
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
            sh(["ethtool", "-K", "eth0", "tx", "off"], ns=ns)
        router_a = self.seg_a["router"]
        self._addr("client", "eth0", *self.seg_a["client"])
        self._addr("router", "eth0", *router_a)
        sh(["ip", "-n", c, "route", "add", "default", "via", router_a[0]])
        sh(["ip", "-n", c, "-6", "route", "add", "default", "via", router_a[1]])
        sysctl(r, **{"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1})
        dev = self._seg_b_port("router", "eth1", "02:66:00:00:00:01")
        self._addr("router", dev, *self.seg_a["router_b"])

    def _segment_a_sluice(self):
        """Two-armed: segment A is sluice's client-facing port, client <-> lbA;
        the client's default route is sluice's port A address (ROUTER_A)."""
        c, lb = self.ns["client"], self.ns["lb"]
        sh(["ip", "-n", c, "link", "add", "eth0", "type", "veth", "peer", "name", "lbA",
            "netns", lb])
        sh(["ip", "-n", c, "link", "set", "eth0", "up"])
        sh(["ethtool", "-K", "eth0", "tx", "off"], ns=c)
        sh(["ip", "-n", lb, "link", "set", "lbA", "address", LB_MAC_A, "up"])
        sh(["ethtool", "-K", "lbA", "tx", "off"], ns=lb)
        sysctl(lb, **{"net.ipv6.conf.lbA.disable_ipv6": 1})
        self._addr("client", "eth0", *CLIENT)
        sh(["ip", "-n", c, "route", "add", "default", "via", ROUTER_A[0]])
        sh(["ip", "-n", c, "-6", "route", "add", "default", "via", ROUTER_A[1]])

    def _segment_b(self):
        """Segment B: sluice's port (no kernel address), the backends."""
        self._seg_b_port("lb", "lb0", LB_MAC)
        sysctl(self.ns["lb"], **{"net.ipv6.conf.lb0.disable_ipv6": 1})
        for name, (v4, v6, mac) in BACKENDS.items():
            self._ns(name)
            dev = self._seg_b_port(name, "eth0", mac)
            self._addr(name, dev, v4, v6)
            ns = self.ns[name]
            gw = (LB_V4, LB_V6) if name != "backend3" or self.two_armed else ROUTER_B
            sh(["ip", "-n", ns, "route", "add", "default", "via", gw[0]])
            sh(["ip", "-n", ns, "-6", "route", "add", "default", "via", gw[1]])
        b3 = self.ns["backend3"]
        sysctl(b3, **{"net.ipv4.conf.all.arp_ignore": 1, "net.ipv4.conf.all.arp_announce": 2})
        sh(["ip", "-n", b3, "addr", "add", VIP_L2 + "/32", "dev", "lo"])
        sh(["ip", "-n", b3, "-6", "addr", "add", VIP_L2_6 + "/128", "dev", "lo", "nodad"])
        v4, _, mac = BACKENDS["backend3"]
        sh(["ip", "-n", b3, "link", "add", "vx0", "type", "vxlan", "id", str(VNI), "local",
            v4, "dstport", "4789", "nolearning"])
        sh(["ip", "-n", b3, "link", "set", "vx0", "address", mac, "up"])
        sh(["ip", "-n", b3, "addr", "add", VIP_VXLAN + "/32", "dev", "vx0"])
        # VXLAN over IPv6 (an IPv6 backend address is the tunnel endpoint): vx1
        v6 = BACKENDS["backend3"][1]
        sh(["ip", "-n", b3, "link", "add", "vx1", "type", "vxlan", "id", str(VNI), "local",
            v6, "dstport", "4789", "nolearning"])
        sh(["ip", "-n", b3, "link", "set", "vx1", "address", mac, "up"])
        sh(["ip", "-n", b3, "-6", "addr", "add", VIP_VXLAN_6 + "/128", "dev", "vx1", "nodad"])
        sysctl(b3, **{"net.ipv4.conf.vx0.rp_filter": 0})

    def down(self):
        if self.relay is not None:
            self.relay.terminate()
            self.relay.wait(5)
            self.relay = None
        for name in reversed(self.created):
            delete_namespace(name)
        self.created = []

    def run(self, host, args, timeout=10, check=True):
        return sh(args, ns=self.ns[host], timeout=timeout, check=check)


def port_profile(vlan=0, tap=None, queues=1):
    """sluice's port: net_af_packet on lb0 (queues queue pairs: the kernel
    spreads flows over them by hash, PACKET_FANOUT_HASH), its addresses with
    their prefixes, the router as gateway, no static neighbour."""
    port = {
        "name": "segB", "device": "net_af_packet0",
        "devargs": f"iface=lb0,qpairs={queues},blocksz=4096,framesz=2048,framecnt=512",
        "rxQueues": queues, "rxDescriptors": 512, "txDescriptors": 512,
        "macAddress": LB_MAC, "promiscuous": True,
        "ipv4Address": LB_V4 + "/24", "ipv6Address": LB_V6 + "/64",
        "gateway": {"ipv4": ROUTER_B[0], "ipv6": ROUTER_B[1]},
    }
    if vlan:
        port["vlanId"] = vlan
    if tap:
        port["exceptionPath"] = {"tap": tap}
    return {"ports": [port]}


def two_armed_profile():
    """Two ports: segA faces the client (sluice is its router, 10.66.1.1),
    segB the backends (10.66.2.2, the backends' gateway). A backend leaves by
    the port whose prefix holds it; its reply comes back on segB and leaves by
    segA, where the request came from."""
    prof = port_profile()
    a = {
        "name": "segA", "device": "net_af_packet1",
        "devargs": "iface=lbA,qpairs=1,blocksz=4096,framesz=2048,framecnt=512",
        "rxQueues": 1, "rxDescriptors": 512, "txDescriptors": 512,
        "macAddress": LB_MAC_A, "promiscuous": True,
        "ipv4Address": ROUTER_A[0] + "/24", "ipv6Address": ROUTER_A[1] + "/64",
    }
    return {"ports": [a] + prof["ports"]}


# -- configuration ------------------------------------------------------------
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sluice-realnet"
NET = SUB + "/providers/Microsoft.Network"
HTTP_PORT = 80
UDP_PORT = 5353


def _vnet(name, prefixes, delivery=None):
    props = {"addressSpace": {"addressPrefixes": prefixes},
             "subnets": [{"name": f"s{i}", "properties": {"addressPrefix": p}}
                         for i, p in enumerate(prefixes)]}
    if delivery:
        props["floatingIpDelivery"] = delivery
    return {"name": name, "id": f"{NET}/virtualNetworks/{name}", "properties": props}


def _lb(lb, frontends, pools, rules, backends=None):
    """A load balancer: frontends [(name, addr, vnet)], pools [(name, members, vnet, family)],
    rules [(name, frontend, pool, protocol, port, floating)]; backends: name ->
    (IPv4, IPv6, ...), BACKENDS by default. A frontend is in its network's
    first IPv4 subnet (s0) or its second (s1, IPv6)."""
    backends = BACKENDS if backends is None else backends
    lb_id = f"{NET}/loadBalancers/{lb}"
    return {"name": lb, "id": lb_id, "sku": {"name": "Standard"}, "properties": {
        "frontendIPConfigurations": [
            {"name": n, "id": f"{lb_id}/frontendIPConfigurations/{n}",
             "properties": {"privateIPAddress": a, "privateIPAllocationMethod": "Static",
                            "subnet": {"id": f"{NET}/virtualNetworks/{v}/subnets/s"
                                             f"{1 if ':' in a else 0}"}}}
            for n, a, v in frontends],
        "backendAddressPools": [
            {"name": n, "id": f"{lb_id}/backendAddressPools/{n}",
             "properties": {"loadBalancerBackendAddresses": [
                 {"name": m, "properties": {
                     "ipAddress": backends[m][0 if fam == 4 else 1],
                     "virtualNetwork": {"id": f"{NET}/virtualNetworks/{v}"}}}
                 for m in members]}}
            for n, members, v, fam in pools],
        "loadBalancingRules": [
            {"name": n, "id": f"{lb_id}/loadBalancingRules/{n}",
             "properties": {
                 "frontendIPConfiguration": {"id": f"{lb_id}/frontendIPConfigurations/{f}"},
                 "backendAddressPool": {"id": f"{lb_id}/backendAddressPools/{pl}"},
                 "protocol": proto, "frontendPort": port, "backendPort": port,
                 "enableFloatingIP": floating, "idleTimeoutInMinutes": 4,
                 "loadDistribution": "Default"}}
            for n, f, pl, proto, port, floating in rules],
    }}


def config(vxlan=True):
    """DNAT frontends (v4 and v6; TCP 80 and UDP 5353) on backend1 and
    backend2; Floating IP frontends on backend3: L2 delivery (VIP_L2) and,
    in a second load balancer on a VXLAN network, VIP_VXLAN."""
    vb, vx = "vnet-b", "vnet-vx"
    lbs = [_lb("lb-real",
               [("dnat4", VIP_DNAT[0], vb), ("dnat6", VIP_DNAT[1], vb), ("l2", VIP_L2, vb),
                ("l2v6", VIP_L2_6, vb)],
               [("web4", ["backend1", "backend2"], vb, 4),
                ("web6", ["backend1", "backend2"], vb, 6), ("l2", ["backend3"], vb, 4),
                ("l2v6", ["backend3"], vb, 6)],
               [("http4", "dnat4", "web4", "Tcp", HTTP_PORT, False),
                ("http6", "dnat6", "web6", "Tcp", HTTP_PORT, False),
                ("udp4", "dnat4", "web4", "Udp", UDP_PORT, False),
                ("udp6", "dnat6", "web6", "Udp", UDP_PORT, False),
                ("httpl2", "l2", "l2", "Tcp", HTTP_PORT, True),
                ("httpl2v6", "l2v6", "l2v6", "Tcp", HTTP_PORT, True)])]
    vnets = [_vnet(vb, ["10.66.2.0/24", "fd66:2::/64"], {"mode": "L2"})]
    if vxlan:
        # the IPv6 frontend's pool holds backend3's IPv6 address: VXLAN over IPv6
        lbs.append(_lb("lb-vx", [("vxlan", VIP_VXLAN, vx), ("vxlan6", VIP_VXLAN_6, vx)],
                       [("vx", ["backend3"], vx, 4), ("vx6", ["backend3"], vx, 6)],
                       [("httpvx", "vxlan", "vx", "Tcp", HTTP_PORT, True),
                        ("httpvx6", "vxlan6", "vx6", "Tcp", HTTP_PORT, True)]))
        vnets.append(_vnet(vx, ["10.66.2.0/24", "fd66:2::/64"], {"mode": "VXLAN", "vni": VNI}))
    return {"virtualNetworks": vnets, "loadBalancers": lbs}


# -- servers on the backends ----------------------------------------------------
UDP_ECHO = r"""
import socket, sys
name = sys.argv[1].encode()
socks = []
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(name + b":" + data, peer)
"""

UDP_ASK = r"""
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], int(sys.argv[2])))   # replies from another source are not received
s.send(b"hello")
print(s.recv(2048).decode())
"""


# -- fixtures' building blocks (the test modules' module-scoped fixtures) -------
def built(tag, **kw):
    """A RealNet, up; a generator for a pytest fixture (torn down after)."""
    from netns import remove_stale
    remove_stale()
    t = RealNet(tag, **kw).up()
    try:
        yield t
    finally:
        t.down()


def sluiced_with_echo(net, daemon_cls, profile, cfg, lcores="0,1", echo=("backend1", "backend2")):
    """sluiced in net's lb namespace with the UDP echo servers on `echo`
    running; a generator for a pytest fixture: yields the daemon, stops
    everything after and prints sluiced's log."""
    import shutil
    procs = []
    d = daemon_cls(net.ns["lb"], profile, cfg, lcores=lcores)
    try:
        for b in echo:
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", net.ns[b], sys.executable, "-c", UDP_ECHO, b,
                 str(UDP_PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        d.wait_stats(lambda s: s.get("generation", 0) >= 1, timeout=20)
        yield d
    finally:
        for p in procs:
            p.terminate()
        d.stop()
        print(f"--- sluiced log ({d.dir}) ---\n{d.output()}")
        shutil.rmtree(d.dir, ignore_errors=True)


def assert_backend_answer(out):
    """The UDP echo's answer through sluice: a backend's name, then what was sent."""
    assert out.endswith(":hello") and out.split(":")[0] in ("backend1", "backend2"), out


def udp_ask_until(net, addr, timeout=15.0):
    """UDP_ASK from the client until it is answered (ARP/ND settling first);
    returns the answer, or the last error."""
    import time
    out = ""
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = subprocess.run(["ip", "netns", "exec", net.ns["client"], sys.executable, "-c",
                            UDP_ASK, addr, str(UDP_PORT)],
                           capture_output=True, text=True, timeout=10)
        out = p.stdout.strip() if p.returncode == 0 else p.stderr.strip()
        if p.returncode == 0:
            break
        time.sleep(0.3)
    return out


def until(fn, timeout=10.0, every=0.2):
    """fn() until it returns something true (returned), or the last result at timeout."""
    import time
    deadline = time.time() + timeout
    while True:
        r = fn()
        if r or time.time() > deadline:
            return r
        time.sleep(every)


def wait_listening(net, hosts, port, timeout=10.0):
    """Until a TCP socket listens on port in each of hosts' namespaces."""
    for h in hosts:
        assert until(lambda: net.run(h, ["ss", "-Htln", f"sport = :{port}"]).strip(),
                     timeout=timeout, every=0.05), f"nothing listens on port {port} of {h}"
