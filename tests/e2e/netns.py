# SPDX-License-Identifier: BSD-3-Clause
"""netns.py: network-namespace topology for sluice's end-to-end tests.

One layer-2 segment, 10.77.0.0/24, built from network namespaces:

    client (10.77.0.2) ---+
    backend1 (10.77.0.11) +--- br0 (in its own namespace)
    backend2 (10.77.0.12) +
    backend3 (10.77.0.13) +
    lb: lb0 (sluice, 10.77.0.5, driven by net_af_packet; no kernel address)

Each host has one veth, eth0 (lb0 for sluice), whose peer is a port of br0.
The veth is created with its far end directly in the host's namespace, so
nothing is ever created in the caller's namespace. Every name carries a prefix
unique to the test run ("slt-<pid>-"), and destroy() deletes everything,
including what a killed earlier run left behind.

Frontend addresses (VIPs) live on the backends' loopback (direct server
return) with arp_ignore=1 / arp_announce=2, so only sluice is the next hop for
them: the client holds a static neighbour VIP -> sluice's MAC (sluice does not
answer ARP yet), and sluice's port profile holds static neighbours for the
backends. IPv6 is off in every namespace, so no router solicitations or MLD
reports reach sluice.

scripts/netns-testbed.sh builds the same test bed by hand.
"""
import os
import re
import signal
import subprocess
import time

PREFIX = "slt-"
SUBNET_LEN = 24
SLUICE_IP = "10.77.0.5"
SLUICE_MAC = "02:77:00:00:00:05"
CLIENT_IP = "10.77.0.2"
CLIENT_MAC = "02:77:00:00:00:02"
# name -> (address, MAC)
BACKENDS = {
    "backend1": ("10.77.0.11", "02:77:00:00:00:11"),
    "backend2": ("10.77.0.12", "02:77:00:00:00:12"),
    "backend3": ("10.77.0.13", "02:77:00:00:00:13"),
}
# short namespace suffix per host (namespace and port names stay short)
SHORT = {"client": "cl", "backend1": "b1", "backend2": "b2", "backend3": "b3", "lb": "lb",
         "bridge": "br"}
LB_IFACE = "lb0"


class CommandError(RuntimeError):
    pass


def sh(args, ns=None, check=True, timeout=10, input_text=None):
    """Run a command (a list), in namespace ns when given; returns stdout."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           input=input_text)
    except subprocess.TimeoutExpired as e:
        raise CommandError(f"timed out after {timeout}s: {' '.join(cmd)}") from e
    if check and p.returncode != 0:
        raise CommandError(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p.stdout


def sysctl(ns, **kv):
    """sysctl -w key=value for each pair, in namespace ns."""
    for k, v in kv.items():
        sh(["sysctl", "-qw", f"{k}={v}"], ns=ns)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_namespaces():
    out = sh(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def kill_namespace_processes(ns, timeout=5.0):
    """End what still runs inside ns (processes this tier started there)."""
    pids = [int(x) for x in sh(["ip", "netns", "pids", ns], check=False).split()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    while pids and time.time() < deadline:
        pids = [p for p in pids if _pid_alive(p)]
        if pids:
            time.sleep(0.05)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def delete_namespace(ns):
    kill_namespace_processes(ns)
    sh(["ip", "netns", "del", ns], check=False)


def remove_stale():
    """Delete namespaces left by earlier runs whose process is gone."""
    for ns in list_namespaces():
        m = re.match(rf"^{re.escape(PREFIX)}(\d+)-", ns)
        if m and not _pid_alive(int(m.group(1))):
            delete_namespace(ns)


class Topology:
    """The test bed above; names are PREFIX + tag + '-' + short host name."""

    def __init__(self, tag=None):
        self.tag = str(tag if tag is not None else os.getpid())
        self.ns = {h: f"{PREFIX}{self.tag}-{s}" for h, s in SHORT.items()}
        self.created = []

    # -- building -------------------------------------------------------
    def _add_ns(self, host):
        name = self.ns[host]
        sh(["ip", "netns", "add", name])
        self.created.append(name)
        # IPv6 off before any interface appears, so new ones inherit it.
        sysctl(name, **{"net.ipv6.conf.all.disable_ipv6": 1,
                        "net.ipv6.conf.default.disable_ipv6": 1})
        sh(["ip", "link", "set", "lo", "up"], ns=name)

    def _add_port(self, host, ifname, mac):
        """A veth: bridge port p-<short> in the bridge namespace, ifname in host's."""
        br, ns = self.ns["bridge"], self.ns[host]
        port = "p-" + SHORT[host]
        sh(["ip", "-n", br, "link", "add", port, "type", "veth", "peer", "name", ifname,
            "netns", ns])
        sh(["ip", "-n", br, "link", "set", port, "master", "br0", "up"])
        sh(["ip", "-n", ns, "link", "set", ifname, "address", mac])

    def _add_host(self, host, ip, mac):
        ns = self.ns[host]
        self._add_ns(host)
        self._add_port(host, "eth0", mac)
        sh(["ip", "-n", ns, "addr", "add", f"{ip}/{SUBNET_LEN}", "dev", "eth0"])
        sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
        # Complete checksums in the frames sluice reads through af_packet.
        sh(["ethtool", "-K", "eth0", "tx", "off"], ns=ns)
        sysctl(ns, **{"net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.default.rp_filter": 0,
                      "net.ipv4.conf.eth0.rp_filter": 0})

    def up(self, vips=()):
        """Build everything; vips: frontend addresses the client reaches through sluice."""
        try:
            self._add_ns("bridge")
            br = self.ns["bridge"]
            # no STP, and no multicast snooping: its IGMP reports would reach sluice
            sh(["ip", "-n", br, "link", "add", "br0", "type", "bridge", "stp_state", "0",
                "mcast_snooping", "0", "forward_delay", "0"])
            sh(["ip", "-n", br, "link", "set", "br0", "up"])
            self._add_host("client", CLIENT_IP, CLIENT_MAC)
            for name, (ip, mac) in BACKENDS.items():
                self._add_host(name, ip, mac)
                sysctl(self.ns[name], **{"net.ipv4.conf.all.arp_ignore": 1,
                                         "net.ipv4.conf.all.arp_announce": 2,
                                         "net.ipv4.conf.eth0.arp_ignore": 1,
                                         "net.ipv4.conf.eth0.arp_announce": 2})
            # sluice's side: an interface with no kernel address; sluice owns the MAC.
            self._add_ns("lb")
            self._add_port("lb", LB_IFACE, SLUICE_MAC)
            sh(["ip", "-n", self.ns["lb"], "link", "set", LB_IFACE, "up"])
            for vip in vips:
                self.client_route_vip(vip)
        except Exception:
            self.down()
            raise
        return self

    def client_route_vip(self, vip):
        """The client reaches vip through sluice (a static neighbour: sluice has no ARP)."""
        sh(["ip", "-n", self.ns["client"], "neigh", "replace", vip, "lladdr", SLUICE_MAC,
            "dev", "eth0", "nud", "permanent"])

    def add_vip(self, backend, vip):
        sh(["ip", "-n", self.ns[backend], "addr", "replace", f"{vip}/32", "dev", "lo"])

    def add_vxlan(self, backend, vni, dev="vx0", port=4789):
        """A kernel VXLAN device on backend whose MAC is eth0's (the inner
        destination MAC sluice writes is the backend's neighbour MAC)."""
        ns = self.ns[backend]
        ip, mac = BACKENDS[backend]
        sh(["ip", "-n", ns, "link", "add", dev, "type", "vxlan", "id", str(vni), "local", ip,
            "dstport", str(port), "nolearning"])
        sh(["ip", "-n", ns, "link", "set", dev, "address", mac])
        sh(["ip", "-n", ns, "link", "set", dev, "up"])
        sysctl(ns, **{f"net.ipv4.conf.{dev}.rp_filter": 0})

    def down(self):
        for name in reversed(self.created):
            delete_namespace(name)
        self.created = []

    # -- reading --------------------------------------------------------
    def link_stats(self, host, dev):
        """(rx_packets, tx_packets) of dev in host's namespace, from sysfs."""
        ns = self.ns[host]
        out = sh(["cat", f"/sys/class/net/{dev}/statistics/rx_packets",
                  f"/sys/class/net/{dev}/statistics/tx_packets"], ns=ns)
        rx, tx = out.split()
        return int(rx), int(tx)


# -- resources, client and statistics helpers for the tests -------------------
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sluice-e2e"
NET = SUB + "/providers/Microsoft.Network"
VIP_L2 = "10.77.0.10"
VIP_VXLAN = "10.77.0.20"
VNI = 4242
HTTP_PORT = 80


def http_get(topology, host, url, timeout=3):
    """One HTTP GET with curl from host's namespace (a fresh connection).
    Returns (ok, body or error text)."""
    cmd = ["curl", "-sS", "--noproxy", "*", "--connect-timeout", "2", "--max-time",
           str(timeout), url]
    try:
        p = subprocess.run(["ip", "netns", "exec", topology.ns[host]] + cmd,
                           capture_output=True, text=True, timeout=timeout + 2)
    except subprocess.TimeoutExpired:
        return False, "curl did not finish"
    if p.returncode != 0:
        return False, f"curl exit {p.returncode}: {p.stderr.strip()}"
    return True, p.stdout.strip()


def vnet(name, prefix, delivery):
    return {"name": name, "id": f"{NET}/virtualNetworks/{name}",
            "properties": {"addressSpace": {"addressPrefixes": [prefix]},
                           "subnets": [{"name": "default",
                                        "properties": {"addressPrefix": prefix}}],
                           "floatingIpDelivery": delivery}}


def load_balancer(name, vnet_name, vip, backends, port=HTTP_PORT, floating_ip=True):
    """One frontend, one IP-based pool, one TCP rule vip:port -> pool:port."""
    lb_id = f"{NET}/loadBalancers/{name}"
    vnet_id = f"{NET}/virtualNetworks/{vnet_name}"
    return {
        "name": name, "id": lb_id, "sku": {"name": "Standard"},
        "properties": {
            "frontendIPConfigurations": [{
                "name": "frontend", "id": f"{lb_id}/frontendIPConfigurations/frontend",
                "properties": {"privateIPAddress": vip, "privateIPAllocationMethod": "Static",
                               "subnet": {"id": f"{vnet_id}/subnets/default"}}}],
            "backendAddressPools": [{
                "name": "pool", "id": f"{lb_id}/backendAddressPools/pool",
                "properties": {"loadBalancerBackendAddresses": [
                    {"name": b, "properties": {"ipAddress": BACKENDS[b][0],
                                               "virtualNetwork": {"id": vnet_id}}}
                    for b in backends]}}],
            "loadBalancingRules": [{
                "name": "http", "id": f"{lb_id}/loadBalancingRules/http",
                "properties": {
                    "frontendIPConfiguration": {"id": f"{lb_id}/frontendIPConfigurations/frontend"},
                    "backendAddressPool": {"id": f"{lb_id}/backendAddressPools/pool"},
                    "protocol": "Tcp", "frontendPort": port, "backendPort": port,
                    "enableFloatingIP": floating_ip, "idleTimeoutInMinutes": 4,
                    "loadDistribution": "Default"}}],
        },
    }


# a promiscuous port sees frames for other hosts of the segment (not_for_us)
ALLOWED_DROPS = ("not_ip", "no_frontend", "not_for_us")


def unexpected_drops(stats):
    return {k: v for k, v in stats.get("drops", {}).items() if v and k not in ALLOWED_DROPS}


def backend_packets(stats):
    """address -> packets sluice sent to that backend."""
    return {b["address"]: b["packets"] for b in stats.get("backends", [])}
