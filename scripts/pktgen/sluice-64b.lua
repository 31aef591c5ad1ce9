-- SPDX-License-Identifier: BSD-3-Clause
--
-- sluice-64b.lua: pktgen-dpdk script for sluice's bare-metal benchmark.
--
-- Sends the frames of the software benchmark (tests/bench/bench.py,
-- fast_trace()): 64-byte frames (60 bytes + FCS) of TCP/IPv4 ACKs (or UDP)
-- to a sluice frontend, 10.0.0.10:80, from many clients: pktgen's range mode
-- walks the source address over 198.18.0.0 .. 198.19.255.255 (RFC 2544's
-- benchmarking /15) and the source port over 1024 .. 65535, one step per
-- packet. After a warm-up it reads the port counters every second for the
-- measured window and writes what went out on the TX port and what came
-- back on the return port: sluice is one-armed, so everything that comes
-- back is what sluice forwarded (DNAT or Floating IP toward the backends,
-- whose next hop is this generator).
--
-- Run it through scripts/pktgen/run-pktgen.sh, which sets the variables
-- below and starts pktgen with -f on this file; or by hand:
--   SLUICE_PG_DST_MAC=<sluice port MAC> pktgen -l 0-2 -a <PCI> -- -P -m "[1:2].0" -f sluice-64b.lua
--
-- Parameters (environment variables; defaults in brackets):
--   SLUICE_PG_DST_MAC     sluice's port MAC, the destination of every frame [required]
--   SLUICE_PG_TX_PORT     pktgen port that sends [0]
--   SLUICE_PG_RX_PORT     pktgen port the forwarded packets come back on [the TX port]
--   SLUICE_PG_PROTO       tcp | udp [tcp]
--   SLUICE_PG_SIZE        frame size with FCS, 64..1518 [64]
--   SLUICE_PG_RATE        transmit rate, percent of line rate [100]
--   SLUICE_PG_SECONDS     measured window, seconds [30]
--   SLUICE_PG_WARMUP      seconds of traffic before the window [5]
--   SLUICE_PG_SRC_IP_MIN, SLUICE_PG_SRC_IP_MAX   client addresses [198.18.0.0, 198.19.255.255]
--   SLUICE_PG_SPORT_MIN, SLUICE_PG_SPORT_MAX     client ports [1024, 65535]
--   SLUICE_PG_DST_IP, SLUICE_PG_DPORT            the frontend [10.0.0.10, 80]
--   SLUICE_PG_REFRESH_S   restart the transmitter every N seconds of the window
--                         so pktgen builds a new set of flows (0: never) [0]
--   SLUICE_PG_OUT         result file [sluice-pktgen-64b.txt]
--   SLUICE_PG_QUIT        1: quit pktgen at the end; 0: stay at the prompt [1]
--
-- How many flows: pktgen builds range packets once per buffer of its range
-- mempool when the transmitter starts (pktgen prints "Range TX ... MBUFs N"
-- at start-up), not per packet sent; so one run carries about N flows per
-- TX queue (more TX lcores in -m, more flows), each step of the range being
-- one flow. SLUICE_PG_REFRESH_S makes it move on through the range. sluice's
-- flows.live (scripts/bench-baremetal.sh prints it) tells how many arrived.
--
-- Written against the Lua API of pktgen 23.x (pktgen.set, pktgen.range.*,
-- pktgen.set_range, pktgen.portStats); plain Lua 5.3/5.4.

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
	size = envnum("SLUICE_PG_SIZE", 64),
	rate = envnum("SLUICE_PG_RATE", 100),
	seconds = envnum("SLUICE_PG_SECONDS", 30),
	warmup = envnum("SLUICE_PG_WARMUP", 5),
	src_ip_min = env("SLUICE_PG_SRC_IP_MIN", "198.18.0.0"),
	src_ip_max = env("SLUICE_PG_SRC_IP_MAX", "198.19.255.255"),
	sport_min = envnum("SLUICE_PG_SPORT_MIN", 1024),
	sport_max = envnum("SLUICE_PG_SPORT_MAX", 65535),
	dst_ip = env("SLUICE_PG_DST_IP", "10.0.0.10"),
	dport = envnum("SLUICE_PG_DPORT", 80),
	refresh = envnum("SLUICE_PG_REFRESH_S", 0),
	out = env("SLUICE_PG_OUT", "sluice-pktgen-64b.txt"),
	quit = env("SLUICE_PG_QUIT", "1") == "1",
}
cfg.rx_port = env("SLUICE_PG_RX_PORT", cfg.tx_port)

local function fail(msg)
	print("sluice-64b.lua: " .. msg)
	if cfg.quit then
		pktgen.quit()
	end
	error(msg)
end

if cfg.dst_mac == nil or not cfg.dst_mac:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
	fail("SLUICE_PG_DST_MAC must be sluice's port MAC (xx:xx:xx:xx:xx:xx); sluiced logs it "
		.. "when the port comes up ('... up, ... MAC xx:xx:...')")
end
if cfg.proto ~= "tcp" and cfg.proto ~= "udp" then
	fail("SLUICE_PG_PROTO must be tcp or udp")
end
if cfg.size < 64 or cfg.size > 1518 then
	fail("SLUICE_PG_SIZE must be 64..1518 (frame size with FCS)")
end
if cfg.seconds < 1 then
	fail("SLUICE_PG_SECONDS must be at least 1")
end

-- Wall-clock seconds with sub-second resolution when the shell's date can
-- give it (Lua itself only has os.time(), whole seconds).
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

-- The single-packet fields (what pktgen's rate arithmetic uses: keep the
-- size equal to the range's) and the range that makes the flows.
local function setup(c)
	local p = c.tx_port
	local zero_mac = "00:00:00:00:00:00"

	pktgen.stop(p)
	pktgen.set_type(p, "ipv4")
	pktgen.set_proto(p, c.proto)
	pktgen.set_mac(p, "dst", c.dst_mac)
	pktgen.set_ipaddr(p, "src", c.src_ip_min .. "/32")
	pktgen.set_ipaddr(p, "dst", c.dst_ip)
	pktgen.set(p, "sport", c.sport_min)
	pktgen.set(p, "dport", c.dport)
	pktgen.set(p, "size", c.size)
	pktgen.set(p, "rate", c.rate)
	pktgen.set(p, "count", 0) -- send until stopped

	pktgen.range.ip_proto(p, c.proto)
	for _, what in ipairs({ "start", "min", "max" }) do
		pktgen.range.dst_mac(p, what, c.dst_mac)
	end
	pktgen.range.dst_mac(p, "inc", zero_mac)

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
	pktgen.range.src_port(p, "inc", 1)

	for _, what in ipairs({ "start", "min", "max" }) do
		pktgen.range.dst_port(p, what, c.dport)
	end
	pktgen.range.dst_port(p, "inc", 0)

	for _, what in ipairs({ "start", "min", "max" }) do
		pktgen.range.pkt_size(p, what, c.size)
	end
	pktgen.range.pkt_size(p, "inc", 0)

	pktgen.set_range(p, "on")
end

local function port_stats(port)
	local t = pktgen.portStats(port, "port")
	return t[tonumber(port)]
end

local function snapshot(c)
	local tx = port_stats(c.tx_port)
	local rx = tx
	if c.rx_port ~= c.tx_port then
		rx = port_stats(c.rx_port)
	end
	return {
		t = now(),
		tx = tx.opackets,
		tx_bytes = tx.obytes,
		oerrors = tx.oerrors,
		rx = rx.ipackets,
		rx_bytes = rx.ibytes,
		imissed = rx.imissed or 0,
		ierrors = rx.ierrors or 0,
		rx_nombuf = rx.rx_nombuf or 0,
	}
end

local function median(v)
	if #v == 0 then
		return 0
	end
	local s = {}
	for i, x in ipairs(v) do
		s[i] = x
	end
	table.sort(s)
	local m = (#s + 1) // 2
	if #s % 2 == 1 then
		return s[m]
	end
	return (s[m] + s[m + 1]) / 2
end

local function rate(a, b, field)
	local dt = b.t - a.t
	if dt <= 0 then
		dt = 1
	end
	return (b[field] - a[field]) / dt / 1e6
end

local function run(c)
	setup(c)
	pktgen.clr()
	pktgen.delay(500)
	print(string.format("sluice-64b: %d-byte %s frames to %s:%d (dst MAC %s), clients %s..%s ports %d..%d, rate %s%%",
		c.size, c.proto, c.dst_ip, c.dport, c.dst_mac, c.src_ip_min, c.src_ip_max,
		c.sport_min, c.sport_max, tostring(c.rate)))
	pktgen.start(c.tx_port)
	pktgen.delay(math.floor(c.warmup * 1000))

	local first = snapshot(c)
	local prev = first
	local samples = {}
	for i = 1, c.seconds do
		pktgen.delay(1000)
		local cur = snapshot(c)
		samples[#samples + 1] = {
			second = i,
			tx = rate(prev, cur, "tx"),
			rx = rate(prev, cur, "rx"),
		}
		print(string.format("  %3d s  tx %8.3f Mpps  rx %8.3f Mpps", i, samples[#samples].tx, samples[#samples].rx))
		prev = cur
		if c.refresh > 0 and i % c.refresh == 0 and i < c.seconds then
			pktgen.stop(c.tx_port)
			pktgen.start(c.tx_port)
		end
	end
	local last = prev
	pktgen.stop(c.tx_port)
	pktgen.delay(500) -- what is still in flight comes back
	local drained = snapshot(c)

	local txs, rxs = {}, {}
	for i, s in ipairs(samples) do
		txs[i] = s.tx
		rxs[i] = s.rx
	end
	local r = {
		window_s = last.t - first.t,
		tx_pkts = last.tx - first.tx,
		rx_pkts = last.rx - first.rx,
		tx_mpps = rate(first, last, "tx"),
		rx_mpps = rate(first, last, "rx"),
		rx_gbps = (last.rx_bytes - first.rx_bytes) * 8 / math.max(last.t - first.t, 1e-9) / 1e9,
		tx_mpps_median = median(txs),
		rx_mpps_median = median(rxs),
		-- whole run, after the drain: exact counts including the warm-up
		run_tx = drained.tx,
		run_rx = drained.rx,
		run_lost = drained.tx - drained.rx,
		rx_imissed = drained.imissed,
		rx_ierrors = drained.ierrors,
		rx_nombuf = drained.rx_nombuf,
		tx_oerrors = drained.oerrors,
	}
	return r, samples
end

local function write_result(c, r, samples)
	local lines = {}
	local function kv(k, v)
		lines[#lines + 1] = string.format("%s=%s", k, tostring(v))
	end
	lines[#lines + 1] = "# sluice pktgen result: profile 64b (scripts/pktgen/sluice-64b.lua)"
	kv("profile", "64b")
	kv("proto", c.proto)
	kv("frame_bytes", c.size)
	kv("rate_pct", c.rate)
	kv("dst_mac", c.dst_mac)
	kv("frontend", c.dst_ip .. ":" .. c.dport)
	kv("src_ip_range", c.src_ip_min .. "-" .. c.src_ip_max)
	kv("sport_range", c.sport_min .. "-" .. c.sport_max)
	kv("tx_port", c.tx_port)
	kv("rx_port", c.rx_port)
	kv("warmup_s", c.warmup)
	kv("window_s", string.format("%.3f", r.window_s))
	kv("tx_pkts", r.tx_pkts)
	kv("rx_pkts", r.rx_pkts)
	kv("tx_mpps", string.format("%.3f", r.tx_mpps))
	kv("rx_mpps", string.format("%.3f", r.rx_mpps))
	kv("tx_mpps_median", string.format("%.3f", r.tx_mpps_median))
	kv("rx_mpps_median", string.format("%.3f", r.rx_mpps_median))
	kv("rx_gbps_l2", string.format("%.3f", r.rx_gbps))
	kv("forwarded_ratio", string.format("%.4f", r.tx_pkts > 0 and r.rx_pkts / r.tx_pkts or 0))
	kv("run_tx_pkts", r.run_tx)
	kv("run_rx_pkts", r.run_rx)
	kv("run_not_returned", r.run_lost)
	kv("rx_port_imissed", r.rx_imissed)
	kv("rx_port_ierrors", r.rx_ierrors)
	kv("rx_port_nombuf", r.rx_nombuf)
	kv("tx_port_oerrors", r.tx_oerrors)
	lines[#lines + 1] = "second,tx_mpps,rx_mpps"
	for _, s in ipairs(samples) do
		lines[#lines + 1] = string.format("%d,%.4f,%.4f", s.second, s.tx, s.rx)
	end
	local f, err = io.open(c.out, "w")
	if f == nil then
		print("sluice-64b.lua: cannot write " .. c.out .. ": " .. tostring(err))
	else
		f:write(table.concat(lines, "\n"), "\n")
		f:close()
	end
	print(string.format("sluice-64b: window %.1f s: tx %.3f Mpps, back from sluice %.3f Mpps (median %.3f), %.2f%% returned; "
		.. "rx port missed %d; result in %s",
		r.window_s, r.tx_mpps, r.rx_mpps, r.rx_mpps_median,
		r.tx_pkts > 0 and 100 * r.rx_pkts / r.tx_pkts or 0, r.rx_imissed, c.out))
end

local ok, err = pcall(function()
	local r, samples = run(cfg)
	write_result(cfg, r, samples)
end)
if not ok then
	print("sluice-64b.lua: " .. tostring(err))
	pcall(pktgen.stop, cfg.tx_port)
end
if cfg.quit then
	pktgen.quit()
end
