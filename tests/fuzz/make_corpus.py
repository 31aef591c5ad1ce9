#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""make_corpus.py: write the seed corpora of the libFuzzer targets in tests/fuzz.

A few real frames per case, built with scapy:
  corpus/fuzz_parse/     Ethernet frames: TCP/UDP over IPv4/IPv6, 802.1Q, IPv4
                         options, IPv6 extension headers, fragments, ICMP
  corpus/fuzz_l2proto/   the first byte picks the function (enum sl_fuzz_op in
                         fuzz_l2proto.c), the rest is its input: ARP payloads,
                         NS/NA, ICMP errors quoting TCP/UDP, echo requests, and
                         offending packets for sl_icmp_error_build (after a
                         type/code byte and a room byte); a first byte of 10
                         to 19 has the harness set the checksums first
  corpus/fuzz_arm_expr/  ARM template expressions (every family of functions,
                         selections, escapes, loops) and tiny templates
                         (parameters, variables, copy loops, children,
                         dependsOn, conditions, outputs)
  corpus/fuzz_config/    configuration documents: examples/config.json,
                         dist/config.json, the documents of the C unit tests
                         (tests/unit/test_c*.c, through the preprocessor) and
                         a few for NIC-based pools, inbound NAT, probes,
                         scopes and delivery modes
  corpus/fuzz_profile/   the port profiles of pmd-config/ and dist/
  corpus/fuzz_template/  deployments: examples/templates (with parameters),
                         tests/api/templates, fuzz_arm_expr's tiny templates

The seeds are checked in; run this again (python3 tests/fuzz/make_corpus.py
[TARGET...], every target without one) only to change them. Reproducers of
fixed bugs live beside them and are kept.
"""
import glob
import json
import os
import re
import subprocess
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6DestUnreach,
                       ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, ICMPv6TimeExceeded, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, IPOption_RR, Raw, fragment, raw)

HERE = os.path.dirname(os.path.abspath(__file__))
MAC_C = "02:00:00:00:00:01"
MAC_S = "02:00:00:00:00:02"
C4, F4 = "10.0.0.1", "192.0.2.10"
C6, F6 = "2001:db8::1", "2001:db8::10"

# enum sl_fuzz_op in fuzz_l2proto.c
ARP_OP, ND, ERROR_V4, ERROR_V6, ECHO_V4, ECHO_V6, BUILD_V4, BUILD_V6, BUILD_V4_IP, BUILD_V6_IP = range(10)


def eth(vlan=None):
    e = Ether(src=MAC_C, dst=MAC_S)
    return e / Dot1Q(vlan=vlan) if vlan else e


def parse_seeds():
    tcp = TCP(sport=40000, dport=80, flags="S", seq=1)
    udp = UDP(sport=40001, dport=53) / Raw(b"q" * 12)
    seeds = {
        "v4_tcp_syn": eth() / IP(src=C4, dst=F4) / tcp,
        "v4_tcp_payload": eth() / IP(src=C4, dst=F4) / TCP(sport=40000, dport=80, flags="PA",
                                                             options=[("MSS", 1460), ("NOP", None),
                                                                      ("NOP", None)]) / Raw(b"GET / HTTP/1.1\r\n\r\n"),
        "v4_udp": eth() / IP(src=C4, dst=F4) / udp,
        "v4_udp_csum0": eth() / IP(src=C4, dst=F4) / UDP(sport=40001, dport=53, chksum=0) / Raw(b"x" * 8),
        "v4_options_tcp": eth() / IP(src=C4, dst=F4, options=[IPOption_RR(routers=["1.1.1.1"])]) / tcp,
        "v4_vlan_udp": eth(100) / IP(src=C4, dst=F4) / udp,
        "v4_icmp_echo": eth() / IP(src=C4, dst=F4) / ICMP() / Raw(b"ping"),
        "v4_padded_tcp": eth() / IP(src=C4, dst=F4) / tcp / Raw(b"\0" * 6),
        "v6_tcp_syn": eth() / IPv6(src=C6, dst=F6) / tcp,
        "v6_udp": eth() / IPv6(src=C6, dst=F6) / udp,
        "v6_vlan_tcp": eth(7) / IPv6(src=C6, dst=F6) / tcp,
        "v6_ext_hop_dst_tcp": eth() / IPv6(src=C6, dst=F6) / IPv6ExtHdrHopByHop() /
        IPv6ExtHdrDestOpt() / tcp,
        "v6_ext_routing_udp": eth() / IPv6(src=C6, dst=F6) / IPv6ExtHdrRouting(addresses=[F6]) / udp,
        "v6_atomic_frag_udp": eth() / IPv6(src=C6, dst=F6) / IPv6ExtHdrFragment(id=7, offset=0, m=0) / udp,
        "v6_icmp_echo": eth() / IPv6(src=C6, dst=F6) / ICMPv6EchoRequest(data=b"ping"),
    }
    big4 = IP(src=C4, dst=F4, id=0x1234) / UDP(sport=40001, dport=53) / Raw(b"d" * 64)
    f4 = fragment(big4, fragsize=32)
    seeds["v4_frag_first_udp"] = eth() / f4[0]
    seeds["v4_frag_later_udp"] = eth() / f4[1]
    big4t = IP(src=C4, dst=F4, id=0x99) / TCP(sport=40000, dport=80, flags="PA") / Raw(b"t" * 48)
    seeds["v4_frag_first_tcp"] = eth(100) / fragment(big4t, fragsize=24)[0]
    seeds["v4_frag_first_icmp"] = eth() / fragment(IP(src=C4, dst=F4, id=5) / ICMP() / Raw(b"i" * 48),
                                                   fragsize=24)[0]
    # Reproducers: a first fragment of ICMP had bytes at UDP's port and
    # checksum offsets rewritten by sl_dnat (fixed in sl_rewrite.c).
    icmp6 = raw(IPv6(src=C6, dst=F6) / ICMPv6EchoRequest(id=1, seq=2, data=b"i" * 40))[40:]
    seeds["v6_frag_first_icmp6"] = eth() / IPv6(src=C6, dst=F6) / IPv6ExtHdrFragment(
        nh=58, id=9, offset=0, m=1) / Raw(icmp6[:24])
    body6 = raw(UDP(sport=40001, dport=53, len=8 + 64) / Raw(b"d" * 64))
    seeds["v6_frag_first_udp"] = eth() / IPv6(src=C6, dst=F6) / IPv6ExtHdrFragment(
        nh=17, id=0xabcdef, offset=0, m=1) / Raw(body6[:32])
    seeds["v6_frag_later_udp"] = eth() / IPv6(src=C6, dst=F6) / IPv6ExtHdrFragment(
        nh=17, id=0xabcdef, offset=4, m=0) / Raw(body6[32:])
    seeds["v6_hop_frag_first_tcp"] = eth() / IPv6(src=C6, dst=F6) / IPv6ExtHdrHopByHop() / \
        IPv6ExtHdrFragment(nh=6, id=3, offset=0, m=1) / Raw(raw(TCP(sport=1, dport=80))[:16])
    return {k: raw(v) for k, v in seeds.items()}


def l2proto_seeds():
    s = {}
    arp_req = ARP(op=1, hwsrc=MAC_C, psrc=C4, pdst=F4)
    s["arp_request"] = bytes([ARP_OP]) + raw(arp_req)
    s["arp_reply"] = bytes([ARP_OP]) + raw(ARP(op=2, hwsrc=MAC_S, psrc=F4, hwdst=MAC_C, pdst=C4))
    sn = "ff02::1:ff00:10"
    s["nd_ns"] = bytes([ND]) + raw(IPv6(src=C6, dst=sn, hlim=255) / ICMPv6ND_NS(tgt=F6) /
                                   ICMPv6NDOptSrcLLAddr(lladdr=MAC_C))
    s["nd_ns_dad"] = bytes([ND]) + raw(IPv6(src="::", dst=sn, hlim=255) / ICMPv6ND_NS(tgt=F6))
    s["nd_na"] = bytes([ND]) + raw(IPv6(src=F6, dst=C6, hlim=255) /
                                   ICMPv6ND_NA(tgt=F6, R=0, S=1, O=1) /
                                   ICMPv6NDOptDstLLAddr(lladdr=MAC_S))
    # ICMP errors about packets a frontend sent (quoted source = frontend).
    q4t = IP(src=F4, dst=C4) / TCP(sport=80, dport=40000, flags="SA")
    q4u = IP(src=F4, dst=C4) / UDP(sport=53, dport=40001) / Raw(b"r" * 20)
    s["error_v4_frag_needed_tcp"] = bytes([ERROR_V4]) + raw(
        IP(src="203.0.113.1", dst=F4) / ICMP(type=3, code=4, nexthopmtu=1400) / raw(q4t)[:28])
    s["error_v4_ttl_udp"] = bytes([ERROR_V4]) + raw(
        IP(src="203.0.113.1", dst=F4) / ICMP(type=11, code=0) / raw(q4u))
    s["error_v4_unreach_options"] = bytes([ERROR_V4]) + raw(
        IP(src="203.0.113.1", dst=F4, options=[IPOption_RR(routers=["1.1.1.1"])]) /
        ICMP(type=3, code=3) / raw(q4u)[:28])
    q6t = IPv6(src=F6, dst=C6) / TCP(sport=80, dport=40000, flags="SA")
    q6u = IPv6(src=F6, dst=C6) / UDP(sport=53, dport=40001) / Raw(b"r" * 20)
    s["error_v6_too_big_tcp"] = bytes([ERROR_V6]) + raw(
        IPv6(src="2001:db8:ff::1", dst=F6) / ICMPv6PacketTooBig(mtu=1280) / raw(q6t))
    s["error_v6_unreach_udp"] = bytes([ERROR_V6]) + raw(
        IPv6(src="2001:db8:ff::1", dst=F6) / ICMPv6DestUnreach(code=4) / raw(q6u))
    s["error_v6_time_exceeded_udp"] = bytes([ERROR_V6]) + raw(
        IPv6(src="2001:db8:ff::1", dst=F6) / ICMPv6TimeExceeded() / raw(q6u)[:48])
    s["echo_v4"] = bytes([ECHO_V4]) + raw(IP(src=C4, dst=F4) / ICMP(id=1, seq=2) / Raw(b"abcdefgh"))
    s["echo_v4_options"] = bytes([ECHO_V4]) + raw(
        IP(src=C4, dst=F4, options=[IPOption_RR(routers=["1.1.1.1"])]) / ICMP(id=1, seq=3))
    s["echo_v6"] = bytes([ECHO_V6]) + raw(IPv6(src=C6, dst=F6) / ICMPv6EchoRequest(id=1, seq=2, data=b"abcdefgh"))
    # Offending packets: byte 1 type index/code, byte 2 room (< 128: 1280).
    off4t = raw(IP(src=C4, dst=F4, ttl=1) / TCP(sport=40000, dport=80, flags="S"))
    off4u = raw(IP(src=C4, dst=F4, flags="DF") / UDP(sport=40001, dport=53) / Raw(b"u" * 700))
    off6t = raw(IPv6(src=C6, dst=F6, hlim=1) / TCP(sport=40000, dport=80, flags="S"))
    off6u = raw(IPv6(src=C6, dst=F6) / UDP(sport=40001, dport=53) / Raw(b"u" * 1400))
    s["build_v4_ttl_tcp"] = bytes([BUILD_V4, 1, 0]) + off4t
    s["build_v4_frag_needed_udp"] = bytes([BUILD_V4, 0x40, 0]) + off4u
    s["build_v4_small_room"] = bytes([BUILD_V4, 0x30, 128 + 14]) + off4u
    s["build_v6_ttl_tcp"] = bytes([BUILD_V6, 2, 0]) + off6t
    s["build_v6_too_big_udp"] = bytes([BUILD_V6, 1, 0]) + off6u
    s["build_v6_small_room"] = bytes([BUILD_V6, 0, 128 + 30]) + off6u[:200]
    s["build_v4_inplace_tcp"] = bytes([BUILD_V4_IP, 1, 0]) + off4t
    s["build_v6_inplace_udp"] = bytes([BUILD_V6_IP, 0, 0]) + off6u[:300]
    # The same with the harness's checksum fix-up on (selector + 10), so that
    # mutations of the checksummed inputs get past the checksum checks.
    for name in [k for k in s if k.startswith(("nd_", "error_", "echo_"))]:
        s[name + "_fixup"] = bytes([s[name][0] + 10]) + s[name][1:]
    return s


def arm_expr_seeds():
    exprs = {
        "expr_concat": "[concat('a', parameters('a'), 1, true())]",
        "expr_select": "[parameters('o').k[2].z]",
        "expr_escape": "[[not an expression]",
        "expr_quotes": "[ toUpper( 'it''s' ) ]",
        "expr_format": "[format('{0:D3}-{1,5}-{2:N2}-{3:x}{{}}', 7, 'b', 1234567, 255)]",
        "expr_resource_id": "[resourceId('s2', 'rg2', 'Microsoft.Network/virtualNetworks/subnets', 'v', 's')]",
        "expr_subscription_id": "[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'rg')]",
        "expr_scope": "[concat(resourceGroup().id, subscription().tenantId, deployment().name)]",
        "expr_hashes": "[concat(uniqueString(resourceGroup().id), guid('a', 'b'))]",
        "expr_if": "[if(equals(parameters('n'), 3), createArray(1, 2), div(1, 0))]",
        "expr_logic": "[and(not(false()), or(false(), true()), less(1, 2), greaterOrEquals('b', 'a'))]",
        "expr_numbers": "[sub(mul(add(1, 2), 4), mod(div(-7, 2), 2))]",
        "expr_collections": "[union(createObject('a', 1), intersection(createObject('a', 1, 'b', 2), createObject('b', 2)))]",
        "expr_arrays": "[concat(take(range(1, 5), 2), skip(variables('list'), 1), split('a,b;c', createArray(',', ';')))]",
        "expr_strings": "[replace(substring(padLeft(trim('  ab '), 6, '0'), 1, 4), '0', 'x')]",
        "expr_search": "[createArray(indexOf('abc', 'B'), lastIndexOf('abcb', 'b'), startsWith('ab', 'A'), endsWith('ab', 'b'), contains('ab', 'b'))]",
        "expr_convert": "[createArray(string(createObject('a', 1)), int('42'), bool('true'), json('{\"a\": [1, null]}').a)]",
        "expr_ends": "[createArray(first('abc'), last(createArray(1, 2)), length(parameters('o')), empty(''), min(3, 1), max(createArray(4, 9)))]",
        "expr_coalesce": "[coalesce(null(), parameters('s'), 'y')]",
        "expr_base64": "[base64ToString(base64('one, two, three'))]",
        "expr_uri": "[uri('http://contoso.org/a/b/', '../c?d=1')]",
        "expr_copy_index": "[copyIndex('loop', 1)]",
        "expr_reference": "[reference('lb').properties]",
        "expr_unclosed": "[concat(parameters('a')]",
        "bare_call": "toLower(variables('vs'))",
        "expr_utf8": "[createArray(substring('h\u00e9llo', 1, 1), padLeft('\u00e9', 3, '\u00fc'), take('\u65e5\u672c\u8a9e', 2),"
                     " last('a\U0001F600'), length('\u00e9'), indexOf('a\u00e9b', 'b'), toUpper('\u00e9a'))]",
        "expr_union_deep": "[union(json('{\"a\":1,\"b\":{\"c\":1,\"l\":[1]}}'), json('{\"b\":{\"d\":2,\"l\":[2]}}'))]",
    }
    templates = {
        "tmpl_parameters": {
            "parameters": {
                "name": {"type": "string", "defaultValue": "[concat('lb-', resourceGroup().location)]",
                         "minLength": 2, "maxLength": 40},
                "n": {"type": "int", "defaultValue": 2, "minValue": 0, "maxValue": 5},
                "sku": {"type": "string", "allowedValues": ["Basic", "Standard"], "defaultValue": "Standard"},
                "pw": {"type": "securestring", "defaultValue": "x"},
                "o": {"type": "object", "defaultValue": {"k": [1]}},
            },
            "resources": [],
            "outputs": {"o": {"type": "string", "value": "[parameters('name')]"},
                        "s": {"type": "securestring", "value": "[parameters('pw')]"}},
        },
        "tmpl_values": {
            "template": {"parameters": {"a": {"type": "string"}, "b": {"type": "array", "defaultValue": []}},
                         "resources": []},
            "parameters": {"a": {"value": "x"}, "b": {"value": [1, 2]}},
        },
        "tmpl_variables": {
            "variables": {"a": "[concat(variables('b'), '-x')]", "b": "[toUpper('b')]",
                          "copy": [{"name": "ports", "count": 3, "input": "[add(80, copyIndex('ports'))]"}]},
            "resources": [],
            "outputs": {"ports": {"type": "array", "value": "[variables('ports')]"}},
        },
        "tmpl_copy": {
            "resources": [{
                "type": "Microsoft.Network/networkInterfaces", "apiVersion": "2023-04-01",
                "name": "[concat('nic', copyIndex(1))]",
                "copy": {"name": "nics", "count": 3, "mode": "Serial", "batchSize": 2},
                "properties": {"ipConfigurations": [{"name": "ip", "properties": {"privateIPAddress": "[concat('10.0.0.', copyIndex(4))]"}}]},
            }],
        },
        "tmpl_property_copy": {
            "resources": [{
                "type": "Microsoft.Network/loadBalancers/backendAddressPools", "name": "lb/pool",
                "properties": {"copy": [{"name": "loadBalancerBackendAddresses", "count": 2,
                                         "input": {"name": "[concat('a', copyIndex('loadBalancerBackendAddresses'))]"}}]},
            }],
        },
        "tmpl_children": {
            "resources": [
                {"type": "Microsoft.Network/loadBalancers/probes", "name": "lb/p2", "properties": {"port": 81}},
                {"type": "Microsoft.Network/loadBalancers", "name": "lb", "location": "[resourceGroup().location]",
                 "resources": [{"type": "probes", "name": "p1", "properties": {"port": 80}},
                               {"type": "Microsoft.Network/loadBalancers/inboundNatRules", "name": "lb/nat"}]},
            ],
        },
        "tmpl_depends_on": {
            "resources": [
                {"type": "Microsoft.Network/loadBalancers", "name": "lb",
                 "dependsOn": ["[resourceId('Microsoft.Network/networkInterfaces', 'nic')]",
                               "Microsoft.Network/virtualNetworks/vnet", "nics"]},
                {"type": "Microsoft.Network/networkInterfaces", "name": "nic", "dependsOn": ["vnet"]},
                {"type": "Microsoft.Network/networkInterfaces", "name": "[concat('n', copyIndex())]",
                 "copy": {"name": "nics", "count": 2}},
                {"type": "Microsoft.Network/virtualNetworks", "name": "vnet"},
            ],
        },
        "tmpl_cycle": {
            "resources": [
                {"type": "Microsoft.Network/loadBalancers", "name": "a", "dependsOn": ["b"]},
                {"type": "Microsoft.Network/loadBalancers", "name": "b", "dependsOn": ["a"]},
            ],
        },
        "tmpl_condition": {
            "parameters": {"on": {"type": "bool", "defaultValue": False}},
            "resources": [
                {"condition": "[parameters('on')]", "type": "Microsoft.Network/virtualNetworks", "name": "v",
                 "resources": [{"type": "subnets", "name": "s"}]},
                {"condition": "[equals(mod(copyIndex(), 2), 0)]", "type": "Microsoft.Network/networkInterfaces",
                 "name": "[concat('n', copyIndex())]", "copy": {"name": "l", "count": 3}, "dependsOn": ["v"]},
            ],
            "outputs": {"c": {"type": "array", "copy": {"count": 2, "input": "[copyIndex()]"}}},
        },
    }
    # reproducers of fixed bugs: a parameter given as null (read as absent, a
    # NULL dereference); variables each a deep value holding a deep
    # expression reading the next (the stack overflowed before the frames
    # open at once were bounded in all)
    templates["repro_null_parameter_value"] = {
        "template": {"parameters": {"a": {"type": "string"}}, "resources": []},
        "parameters": {"a": {"value": None}},
    }
    templates["tmpl_depends_index"] = {
        "resources": [
            {"type": "Microsoft.Network/networkInterfaces", "name": "[concat('a', copyIndex())]",
             "copy": {"name": "as", "count": 3}},
            {"type": "Microsoft.Network/loadBalancers", "name": "[concat('b', copyIndex())]",
             "copy": {"name": "bs", "count": 2, "mode": "Serial", "batchSize": 1},
             "dependsOn": ["as", "a0", "Microsoft.Network/networkInterfaces/a1",
                           "[resourceId('Microsoft.Network/networkInterfaces', 'a2')]"]},
        ],
    }
    templates["tmpl_secure"] = {
        "template": {"parameters": {"pw": {"type": "securestring"}, "so": {"type": "secureObject"}},
                     "variables": {"copy": [{"name": "none", "count": 0, "input": "[parameters('pw')]"}]},
                     "resources": [{"type": "Microsoft.Network/loadBalancers", "name": "lb",
                                    "dependsOn": ["[parameters('pw')]"]}]},
        "parameters": {"pw": {"value": "S3cr3tVal"}, "so": {"value": {"k": "objSecret", "n": 12345}}},
    }
    deep = {}
    for i in range(70):
        v = "[" + "concat(" * 58 + f"string(variables('v{i + 1}'))" + ")" * 58 + "]"
        for _ in range(60):
            v = {"a": v}
        deep[f"v{i}"] = v
    deep["v70"] = 1
    templates["repro_stack_depth"] = {"variables": deep, "resources": []}
    seeds = {name: text.encode() for name, text in exprs.items()}
    seeds.update({name: json.dumps(t, separators=(",", ":")).encode() for name, t in templates.items()})
    return seeds


ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CONFIG_KEYS = ("settings", "virtualNetworks", "loadBalancers", "networkInterfaces")


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def unit_test_documents():
    """The configuration documents the C unit tests write: each run of adjacent
    string literals (after the preprocessor expands the tests' macros), with
    ' for ", that parses as a JSON object with a top-level resource list."""
    docs = {}
    literal_run = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+')
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "test_c*.c"))):
        text = subprocess.run(["cpp", "-P", "-I" + os.path.join(ROOT, "control"),
                               "-I" + os.path.join(ROOT, "common"),
                               "-I" + os.path.join(ROOT, "dataplane", "core"), path],
                              check=True, capture_output=True, text=True).stdout
        for i, m in enumerate(literal_run.finditer(text)):
            joined = "".join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0)))
            try:
                doc = json.loads(joined.replace("'", '"'))
            except ValueError:
                continue
            if isinstance(doc, dict) and any(k in doc for k in CONFIG_KEYS):
                name = os.path.basename(path)[len("test_"):-len(".c")]
                docs[f"unit_{name}_{i}"] = compact(doc)
    return docs


def config_seeds():
    """Example configurations, the unit tests' documents, and a few written here
    for what those lack: NIC-based pools, inbound NAT rules, probes, scopes,
    delivery modes and a Basic SKU."""
    seeds = {}
    for path in ["examples/config.json", "dist/config.json"]:
        with open(os.path.join(ROOT, path)) as f:
            seeds[path.replace("/", "_")] = compact(json.load(f))
    seeds.update(unit_test_documents())
    arm = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network"
    vnet = {"name": "vn", "id": f"{arm}/virtualNetworks/vn", "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16", "fd00::/48"]},
        "subnets": [{"name": "s4", "properties": {"addressPrefix": "10.0.1.0/24"}},
                    {"name": "s6", "properties": {"addressPrefix": "fd00:0:0:1::/64"}}],
        "floatingIpDelivery": {"mode": "VXLAN", "vni": 7, "udpPort": 4789}}}
    lb_id = f"{arm}/loadBalancers/lb"
    ref = lambda coll, n: {"id": f"{lb_id}/{coll}/{n}"}  # noqa: E731
    lb = {"name": "lb", "id": lb_id, "sku": {"name": "Standard"}, "properties": {
        "frontendIPConfigurations": [
            {"name": "fe4", "properties": {"privateIPAddress": "10.0.1.100",
                                           "subnet": {"id": f"{arm}/virtualNetworks/vn/subnets/s4"}}},
            {"name": "fe6", "properties": {"privateIPAddressVersion": "IPv6",
                                           "subnet": {"id": f"{arm}/virtualNetworks/vn/subnets/s6"}}}],
        "backendAddressPools": [
            {"name": "nics"},
            {"name": "ips", "properties": {"drainPeriodInSeconds": 30, "loadBalancerBackendAddresses": [
                {"name": "a", "properties": {"ipAddress": "10.0.2.4", "virtualNetwork": {"id": vnet["id"]},
                                             "weight": 3, "adminState": "Up"}},
                {"name": "b", "properties": {"ipAddress": "10.0.2.5", "virtualNetwork": {"id": vnet["id"]},
                                             "adminState": "Down"}}]}}],
        "probes": [{"name": "http", "properties": {"protocol": "Http", "port": 80, "requestPath": "/",
                                                   "intervalInSeconds": 5, "numberOfProbes": 2,
                                                   "probeThreshold": 1}},
                   {"name": "tcp", "properties": {"protocol": "Tcp", "port": 22}}],
        "loadBalancingRules": [
            {"name": "web", "properties": {"frontendIPConfiguration": ref("frontendIPConfigurations", "fe4"),
                                           "backendAddressPool": ref("backendAddressPools", "nics"),
                                           "probe": ref("probes", "http"), "protocol": "Tcp",
                                           "frontendPort": 80, "backendPort": 8080,
                                           "loadDistribution": "SourceIPProtocol",
                                           "idleTimeoutInMinutes": 10, "enableTcpReset": True}},
            {"name": "ha", "properties": {"frontendIPConfiguration": ref("frontendIPConfigurations", "fe4"),
                                          "backendAddressPool": ref("backendAddressPools", "ips"),
                                          "protocol": "All", "frontendPort": 0, "backendPort": 0,
                                          "enableFloatingIP": True}}],
        "inboundNatRules": [
            {"name": "ssh0", "properties": {"frontendIPConfiguration": ref("frontendIPConfigurations", "fe4"),
                                            "protocol": "Tcp", "frontendPort": 50022, "backendPort": 22}},
            {"name": "dns6", "properties": {"frontendIPConfiguration": ref("frontendIPConfigurations", "fe6"),
                                            "protocol": "All", "frontendPort": 53}}]}}
    nics = [{"name": f"nic{i}", "id": f"{arm}/networkInterfaces/nic{i}", "properties": {
        "macAddress": f"02-00-00-00-00-0{i}",
        "ipConfigurations": [{"name": "ipc", "properties": {
            "privateIPAllocationMethod": "Dynamic" if i else "Static",
            **({} if i else {"privateIPAddress": "10.0.1.10"}),
            "primary": True, "subnet": {"id": f"{arm}/virtualNetworks/vn/subnets/s4"},
            "loadBalancerBackendAddressPools": [ref("backendAddressPools", "nics")],
            "loadBalancerInboundNatRules": [ref("inboundNatRules", "ssh0")] if i == 0 else []}}]}}
        for i in range(2)]
    seeds["nic_nat_probes"] = compact({"settings": {"maglevTableSize": 251, "hashSeed": 7},
                                       "virtualNetworks": [vnet], "loadBalancers": [lb],
                                       "networkInterfaces": nics})
    basic = json.loads(json.dumps(lb))
    basic["sku"] = {"name": "Basic"}
    del basic["id"]
    basic["properties"]["backendAddressPools"][1]["properties"].pop("loadBalancerBackendAddresses")
    seeds["basic_no_id"] = compact({"virtualNetworks": [vnet], "loadBalancers": [basic]})
    other = json.loads(json.dumps(lb).replace("/resourceGroups/rg1/", "/resourceGroups/rg2/"))
    seeds["two_scopes"] = compact({"settings": {"maglevTableSize": 7}, "virtualNetworks": [vnet],
                                   "loadBalancers": [lb, other], "networkInterfaces": nics})
    for mode in ("L2", "IPinIP", "GUE"):
        v = json.loads(json.dumps(vnet))
        v["properties"]["floatingIpDelivery"] = {"mode": mode}
        seeds[f"delivery_{mode}"] = compact({"virtualNetworks": [v], "loadBalancers": [lb]})
    return seeds


def template_seeds():
    """The templates of examples/templates (with their parameters files) and
    tests/api/templates, alone and in Complete mode, and the tiny templates
    of fuzz_arm_expr's seeds."""
    seeds = {}
    tdir = os.path.join(ROOT, "examples", "templates")
    for path in sorted(glob.glob(os.path.join(tdir, "*.json"))):
        if path.endswith(".parameters.json"):
            continue
        with open(path) as f:
            tmpl = json.load(f)
        name = os.path.basename(path)[:-len(".json")]
        params = path[:-len(".json")] + ".parameters.json"
        doc = {"template": tmpl}
        if os.path.exists(params):
            with open(params) as f:
                doc["parameters"] = json.load(f)
        seeds[f"examples_{name}"] = compact(doc)
        seeds[f"examples_{name}_complete"] = compact(dict(doc, mode="Complete"))
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "api", "templates", "*.json"))):
        with open(path) as f:
            tmpl = json.load(f)
        seeds["api_" + os.path.basename(path)[:-len(".json")]] = compact({"template": tmpl, "skip": True})
    for name, data in arm_expr_seeds().items():
        if data.startswith(b"{") and b"resources" in data and len(data) < 4096:
            seeds["arm_" + name] = data
    return seeds


def profile_seeds():
    """The port profiles of pmd-config/ and dist/ (fuzz_profile sets the
    variables they name)."""
    seeds = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "pmd-config", "*.json"))) + \
            [os.path.join(ROOT, "dist", "ports.json")]:
        with open(path) as f:
            seeds[os.path.relpath(path, ROOT).replace("/", "_")] = compact(json.load(f))
    return seeds


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return sum(len(v) for v in seeds.values())


def main():
    makers = {"fuzz_parse": parse_seeds, "fuzz_l2proto": l2proto_seeds, "fuzz_arm_expr": arm_expr_seeds,
              "fuzz_config": config_seeds, "fuzz_profile": profile_seeds,
              "fuzz_template": template_seeds}
    targets = sys.argv[1:] or list(makers)
    unknown = [t for t in targets if t not in makers]
    if unknown:
        sys.exit(f"unknown targets: {' '.join(unknown)} (known: {' '.join(makers)})")
    total = sum(write(t, makers[t]()) for t in targets)
    print(f"seeds written: {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
