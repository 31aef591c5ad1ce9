-- SPDX-License-Identifier: BSD-3-Clause
--
-- sluice-imix.lua: pktgen-dpdk script for sluice's bare-metal benchmark,
-- simple IMIX: 64, 576 and 1500-byte frames (with FCS) in the proportion
-- 7:4:1 by packet count, TCP/IPv4 ACKs (or UDP) to a sluice frontend
-- (10.0.0.10:80) from many clients (pktgen's range mode over the source
-- address, 198.18.0.0 .. 198.19.255.255), reading back what sluice forwarded
-- on the return port.
--
-- pktgen has no per-packet size mix in range mode (it builds the range
-- packets once, all of one size, when the transmitter starts), so the mix is
-- made in rounds: each round sends 7*N frames of 64 bytes, then 4*N of 576,
-- then 1*N of 1500 (pktgen's "count": the transmitter stops by itself), N
-- chosen so that a round lasts about SLUICE_PG_CYCLE_MS at the set rate. The
-- packet counts are exactly 7:4:1; sluice sees the sizes in short runs, not
-- interleaved packet by packet. The result gives what was really sent per
-- size and the average rates over the whole window, gaps between runs
-- included.
--
-- Each start of the transmitter builds the range packets again, moving on
-- through the range: new clients every round. The source port is therefore
-- fixed by default (SLUICE_PG_SPORT_MIN = SLUICE_PG_SPORT_MAX = 1024), so the
-- flows stay within the 131,072 addresses of the /15 and sluice's flow
-- tables are not filled by churn; widen the port range to test that.
--
-- Run it through scripts/pktgen/run-pktgen.sh --profile imix, or by hand:
--   SLUICE_PG_DST_MAC=<sluice port MAC> pktgen -l 0-2 -a <PCI> -- -P -m "[1:2].0" -f sluice-imix.lua
--
-- Parameters (environment variables; defaults in brackets):
--   SLUICE_PG_DST_MAC     sluice's port MAC [required]
--   SLUICE_PG_TX_PORT, SLUICE_PG_RX_PORT   sending / return port [0, the TX port]
--   SLUICE_PG_PROTO       tcp | udp [tcp]
--   SLUICE_PG_IMIX        size:weight list [64:7,576:4,1500:1]
--   SLUICE_PG_RATE        transmit rate, percent of line rate [100]
--   SLUICE_PG_SECONDS     measured window, seconds [30]
--   SLUICE_PG_WARMUP      seconds of rounds before the window [5]
--   SLUICE_PG_CYCLE_MS    target length of one round [200]
--   SLUICE_PG_SRC_IP_MIN, SLUICE_PG_SRC_IP_MAX   [198.18.0.0, 198.19.255.255]
--   SLUICE_PG_SPORT_MIN, SLUICE_PG_SPORT_MAX     [1024, 1024]
--   SLUICE_PG_DST_IP, SLUICE_PG_DPORT            [10.0.0.10, 80]
--   SLUICE_PG_OUT         result file [sluice-pktgen-imix.txt]
--   SLUICE_PG_QUIT        1: quit pktgen at the end [1]
--
-- 1500-byte frames need an MTU of 1500 on sluice's port (the profiles have
-- it) for DNAT and L2 delivery; the encapsulating deliveries (IP-in-IP, GUE,
-- VXLAN) add 20 to 50 bytes and need a larger "mtu" in the port profile, or
-- those frames are dropped as mtu_exceeded.
--
-- Written against the Lua API of pktgen 23.x; plain Lua 5.3/5.4.

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then
		return default
	end
	return v
end

local function envnum(name, default)
	local v = env(name, nil)
	if v == nil then
		return default
	end
	local n = tonumber(v)
	if n == nil then
		error(name .. ": expected a number, got '" .. v .. "'")
	end
	return n
end

local cfg = {
	dst_mac = env("SLUICE_PG_DST_MAC", nil),
	tx_port = env("SLUICE_PG_TX_PORT", "0"),
	proto = env("SLUICE_PG_PROTO", "tcp"),
	imix = env("SLUICE_PG_IMIX", "64:7,576:4,1500:1"),
	rate = envnum("SLUICE_PG_RATE", 100),
	seconds = envnum("SLUICE_PG_SECONDS", 30),
	warmup = envnum("SLUICE_PG_WARMUP", 5),
	cycle_ms = envnum("SLUICE_PG_CYCLE_MS", 200),
	src_ip_min = env("SLUICE_PG_SRC_IP_MIN", "198.18.0.0"),
	src_ip_max = env("SLUICE_PG_SRC_IP_MAX", "198.19.255.255"),
	sport_min = envnum("SLUICE_PG_SPORT_MIN", 1024),
	dst_ip = env("SLUICE_PG_DST_IP", "10.0.0.10"),
	dport = envnum("SLUICE_PG_DPORT", 80),
	out = env("SLUICE_PG_OUT", "sluice-pktgen-imix.txt"),
	quit = env("SLUICE_PG_QUIT", "1") == "1",
}
cfg.rx_port = env("SLUICE_PG_RX_PORT", cfg.tx_port)
cfg.sport_max = envnum("SLUICE_PG_SPORT_MAX", cfg.sport_min)

local function fail(msg)
	print("sluice-imix.lua: " .. msg)
	if cfg.quit then
		pktgen.quit()
	end
	error(msg)
end

-- "64:7,576:4,1500:1" -> { {size = 64, weight = 7}, ... }
local function parse_mix(text)
	local mix = {}
	for item in text:gmatch("[^,%s]+") do
		local s, w = item:match("^(%d+):(%d+)$")
		s, w = tonumber(s), tonumber(w)
		if s == nil or w == nil or s < 64 or s > 1518 or w < 1 then
			return nil
		end
		mix[#mix + 1] = { size = s, weight = w }
	end
	if #mix == 0 then
		return nil
	end
	return mix
end

if cfg.dst_mac == nil or not cfg.dst_mac:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
	fail("SLUICE_PG_DST_MAC must be sluice's port MAC (xx:xx:xx:xx:xx:xx)")
end
if cfg.proto ~= "tcp" and cfg.proto ~= "udp" then
	fail("SLUICE_PG_PROTO must be tcp or udp")
end
cfg.mix = parse_mix(cfg.imix)
if cfg.mix == nil then
	fail("SLUICE_PG_IMIX must be a list of size:weight, sizes 64..1518, e.g. 64:7,576:4,1500:1")
end
if cfg.seconds < 1 or cfg.cycle_ms < 10 then
	fail("SLUICE_PG_SECONDS must be at least 1 and SLUICE_PG_CYCLE_MS at least 10")
end

local function now()
	local ok, f = pcall(io.popen, "date +%s.%N")
	if ok and f ~= nil then
		local s = f:read("*l")
		f:close()
		local v = tonumber(s)
		if v ~= nil then
			return v
		end
	end
	return os.time()
end

-- Everything but the size, which each run of a round sets.
local function setup(c)
	local p = c.tx_port
	pktgen.stop(p)
	pktgen.set_type(p, "ipv4")
	pktgen.set_proto(p, c.proto)
	pktgen.set_mac(p, "dst", c.dst_mac)
	pktgen.set_ipaddr(p, "src", c.src_ip_min .. "/32")
	pktgen.set_ipaddr(p, "dst", c.dst_ip)
	pktgen.set(p, "sport", c.sport_min)
	pktgen.set(p, "dport", c.dport)

	pktgen.range.ip_proto(p, c.proto)
	for _, what in ipairs({ "start", "min", "max" }) do
		pktgen.range.dst_mac(p, what, c.dst_mac)
	end
	pktgen.range.dst_mac(p, "inc", "00:00:00:00:00:00")
	pktgen.range.src_ip(p, "start", c.src_ip_min)
	pktgen.range.src_ip(p, "min", c.src_ip_min)
	pktgen.range.src_ip(p, "max", c.src_ip_max)
	pktgen.range.src_ip(p, "inc", "0.0.0.1")
	for _, what in ipairs({ "start", "min", "max" }) do
		pktgen.range.dst_ip(p, what, c.dst_ip)
	end
	pktgen.range.dst_ip(p, "inc", "0.0.0.0")
	pktgen.range.src_port(p, "start", c.sport_min)
	pktgen.range.src_port(p, "min", c.sport_min)
	pktgen.range.src_port(p, "max", c.sport_max)
	pktgen.range.src_port(p, "inc", c.sport_max > c.sport_min and 1 or 0)
	for _, what in ipairs({ "start", "min", "max" }) do
		pktgen.range.dst_port(p, what, c.dport)
	end
	pktgen.range.dst_port(p, "inc", 0)
	pktgen.range.pkt_size(p, "inc", 0)
	pktgen.set_range(p, "on")
end

-- pktgen computes its transmit pacing from the single-packet size, so both
-- sizes move together; the rate is set again after the size.
local function set_size(c, size)
	local p = c.tx_port
	pktgen.set(p, "size", size)
	for _, what in ipairs({ "min", "max", "start" }) do
		pktgen.range.pkt_size(c.tx_port, what, size)
	end
	pktgen.set(p, "rate", c.rate)
end

local function port_stats(port)
	return pktgen.portStats(port, "port")[tonumber(port)]
end

local function counters(c)
	local tx = port_stats(c.tx_port)
	local rx = tx
	if c.rx_port ~= c.tx_port then
		rx = port_stats(c.rx_port)
	end
	return {
		t = now(),
		tx = tx.opackets,
		tx_bytes = tx.obytes,
		oerrors = tx.oerrors or 0,
		rx = rx.ipackets,
		rx_bytes = rx.ibytes,
		imissed = rx.imissed or 0,
	}
end

-- Link speed in Mb/s from pktgen's "<UP-10000-FD>"; nil when down/unknown.
local function link_mbps(port)
	local ok, st = pcall(pktgen.linkState, port)
	if not ok or st == nil then
		return nil
	end
	local s = st[tonumber(port)]
	if type(s) ~= "string" then
		return nil
	end
	return tonumber(s:match("(%d+)"))
end

-- Frames of each weight unit so that a round lasts about cycle_ms at the set
-- rate (a frame takes size + 20 bytes of wire time: preamble and gap).
local function round_unit(c)
	local mbps = link_mbps(c.tx_port)
	if mbps == nil or mbps <= 0 then
		return 4096
	end
	local wire_bits = 0
	for _, m in ipairs(c.mix) do
		wire_bits = wire_bits + m.weight * (m.size + 20) * 8
	end
	local unit = math.floor(c.cycle_ms / 1000 * c.rate / 100 * mbps * 1e6 / wire_bits)
	return math.max(unit, 64)
end

-- Send count frames of one size and wait until the transmitter stops.
local function send_run(c, size, count, expect_ms)
	local p = c.tx_port
	set_size(c, size)
	pktgen.set(p, "count", count)
	pktgen.start(p)
	local waited, limit = 0, math.floor(expect_ms * 10) + 2000
	while pktgen.isSending(p)[tonumber(p)] == "y" do
		pktgen.delay(1)
		waited = waited + 1
		if waited > limit then
			pktgen.stop(p)
			return false
		end
	end
	return true
end

local function run(c)
	setup(c)
	local unit = round_unit(c)
	local mbps = link_mbps(c.tx_port) or 0
	local per_size = {}
	for i, m in ipairs(c.mix) do
		local frame_ms = 0
		if mbps > 0 then
			frame_ms = (m.size + 20) * 8 / (mbps * 1e6 * c.rate / 100) * 1000
		end
		per_size[i] = { size = m.size, count = m.weight * unit, expect_ms = m.weight * unit * frame_ms, sent = 0 }
	end
	pktgen.clr()
	pktgen.delay(500)
	print(string.format("sluice-imix: %s frames %s to %s:%d (dst MAC %s), rate %s%%, %d frames per weight unit",
		c.proto, c.imix, c.dst_ip, c.dport, c.dst_mac, tostring(c.rate), unit))

	local function round(account)
		for _, s in ipairs(per_size) do
			local before = account and port_stats(c.tx_port).opackets or 0
			if not send_run(c, s.size, s.count, s.expect_ms) then
				print(string.format("sluice-imix: the %d-byte run did not finish in time: stopped", s.size))
			end
			if account then
				s.sent = s.sent + port_stats(c.tx_port).opackets - before
			end
		end
	end

	local t_start = now()
	while now() - t_start < c.warmup do
		round(false)
	end

	local first = counters(c)
	local prev = first
	local rounds = {}
	repeat
		round(true)
		local cur = counters(c)
		local dt = math.max(cur.t - prev.t, 1e-9)
		rounds[#rounds + 1] = {
			t = cur.t - first.t,
			tx = (cur.tx - prev.tx) / dt / 1e6,
			rx = (cur.rx - prev.rx) / dt / 1e6,
		}
		prev = cur
	until cur.t - first.t >= c.seconds
	local last = prev
	pktgen.delay(500)
	local drained = counters(c)
	pktgen.set(c.tx_port, "count", 0)

	local window = math.max(last.t - first.t, 1e-9)
	return {
		window_s = window,
		unit = unit,
		per_size = per_size,
		tx_pkts = last.tx - first.tx,
		rx_pkts = last.rx - first.rx,
		tx_mpps = (last.tx - first.tx) / window / 1e6,
		rx_mpps = (last.rx - first.rx) / window / 1e6,
		tx_gbps = (last.tx_bytes - first.tx_bytes) * 8 / window / 1e9,
		rx_gbps = (last.rx_bytes - first.rx_bytes) * 8 / window / 1e9,
		run_tx = drained.tx,
		run_rx = drained.rx,
		rx_imissed = drained.imissed,
		tx_oerrors = drained.oerrors,
	}, rounds
end

local function write_result(c, r, rounds)
	local lines = {}
	local function kv(k, v)
		lines[#lines + 1] = string.format("%s=%s", k, tostring(v))
	end
	lines[#lines + 1] = "# sluice pktgen result: profile imix (scripts/pktgen/sluice-imix.lua)"
	kv("profile", "imix")
	kv("proto", c.proto)
	kv("imix", c.imix)
	kv("rate_pct", c.rate)
	kv("dst_mac", c.dst_mac)
	kv("frontend", c.dst_ip .. ":" .. c.dport)
	kv("src_ip_range", c.src_ip_min .. "-" .. c.src_ip_max)
	kv("sport_range", c.sport_min .. "-" .. c.sport_max)
	kv("tx_port", c.tx_port)
	kv("rx_port", c.rx_port)
	kv("frames_per_weight_unit", r.unit)
	kv("window_s", string.format("%.3f", r.window_s))
	kv("rounds", #rounds)
	local total_sent = 0
	for _, s in ipairs(r.per_size) do
		total_sent = total_sent + s.sent
	end
	for _, s in ipairs(r.per_size) do
		kv("sent_" .. s.size, s.sent)
		kv("share_" .. s.size, string.format("%.4f", total_sent > 0 and s.sent / total_sent or 0))
	end
	kv("tx_pkts", r.tx_pkts)
	kv("rx_pkts", r.rx_pkts)
	kv("tx_mpps", string.format("%.3f", r.tx_mpps))
	kv("rx_mpps", string.format("%.3f", r.rx_mpps))
	kv("tx_gbps_l2", string.format("%.3f", r.tx_gbps))
	kv("rx_gbps_l2", string.format("%.3f", r.rx_gbps))
	kv("forwarded_ratio", string.format("%.4f", r.tx_pkts > 0 and r.rx_pkts / r.tx_pkts or 0))
	kv("run_tx_pkts", r.run_tx)
	kv("run_rx_pkts", r.run_rx)
	kv("run_not_returned", r.run_tx - r.run_rx)
	kv("rx_port_imissed", r.rx_imissed)
	kv("tx_port_oerrors", r.tx_oerrors)
	lines[#lines + 1] = "round_end_s,tx_mpps,rx_mpps"
	for _, x in ipairs(rounds) do
		lines[#lines + 1] = string.format("%.3f,%.4f,%.4f", x.t, x.tx, x.rx)
	end
	local f, err = io.open(c.out, "w")
	if f == nil then
		print("sluice-imix.lua: cannot write " .. c.out .. ": " .. tostring(err))
	else
		f:write(table.concat(lines, "\n"), "\n")
		f:close()
	end
	print(string.format("sluice-imix: window %.1f s, %d rounds: tx %.3f Mpps (%.2f Gb/s), back from sluice %.3f Mpps (%.2f Gb/s); result in %s",
		r.window_s, #rounds, r.tx_mpps, r.tx_gbps, r.rx_mpps, r.rx_gbps, c.out))
end

local ok, err = pcall(function()
	local r, rounds = run(cfg)
	write_result(cfg, r, rounds)
end)
if not ok then
	print("sluice-imix.lua: " .. tostring(err))
	pcall(pktgen.stop, cfg.tx_port)
end
if cfg.quit then
	pktgen.quit()
end
