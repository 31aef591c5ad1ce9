/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_profile.c: libFuzzer target for port profiles (sl_pmd_config.h, the
 * files of pmd-config/): the input is a profile's text, read by
 * sl_pmd_config_parse() as sl_pmd_config_load() reads a file. The
 * variables the profiles of pmd-config/ name (${SLUICE_IFACE} ...) are set,
 * so those parse whole.
 *
 * Checked: a refused profile fills the error (code set) and leaves the
 * result empty; an accepted one has 1 to SL_MAX_PORTS ports, each with a
 * name (none twice) and a device, strings that fit their arrays,
 * descriptors, MTU, VLAN, RSS key and tap name within what the parser
 * allows, and its neighbours where info points. A broken invariant aborts
 * (a libFuzzer crash); ASan and UBSan watch the rest.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_fuzz.h"
#include "sl_pmd_config.h"
#include "sl_snapshot.h"

#define SL_FUZZ_INPUT_MAX (64 * 1024)

#define SL_FUZZ_FITS(a) (strnlen((a), sizeof(a)) < sizeof(a))

static void
sl_fuzz_check_port(const struct sl_pmd_config *c, uint32_t i)
{
	const struct sl_port_cfg *p = &c->ports[i];

	SL_FUZZ_CHECK(SL_FUZZ_FITS(p->name) && SL_FUZZ_FITS(p->device));
	SL_FUZZ_CHECK(SL_FUZZ_FITS(p->devargs) && SL_FUZZ_FITS(p->tap_name));
	SL_FUZZ_CHECK(SL_FUZZ_FITS(p->xdp_iface));
	SL_FUZZ_CHECK(p->name[0] != '\0' && p->device[0] != '\0');
	for (uint32_t k = 0; k < i; k++)
		SL_FUZZ_CHECK(strcmp(c->ports[k].name, p->name) != 0);
	SL_FUZZ_CHECK(p->rx_queues <= 128);
	SL_FUZZ_CHECK(p->rx_desc >= 64 && p->rx_desc <= 32768);
	SL_FUZZ_CHECK(p->tx_desc >= 64 && p->tx_desc <= 32768);
	SL_FUZZ_CHECK(p->mtu == 0 || (p->mtu >= 576 && p->mtu <= 9600));
	SL_FUZZ_CHECK(p->info.mtu == (p->mtu != 0 ? p->mtu : 1500));
	SL_FUZZ_CHECK(p->info.vlan_tci <= 4094);
	SL_FUZZ_CHECK(p->rss_key_len <= SL_RSS_KEY_MAX);
	SL_FUZZ_CHECK(strlen(p->tap_name) <= 15);
	SL_FUZZ_CHECK(p->info.neighbours == p->neighbours);
	SL_FUZZ_CHECK(p->info.n_neighbours <= SL_MAX_NEIGHBOURS);
	SL_FUZZ_CHECK((p->info.n_neighbours == 0) || p->neighbours != NULL);
	SL_FUZZ_CHECK(!p->af_xdp || (p->xdp_iface[0] != '\0' && p->tap_name[0] == '\0'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_pmd_config c;
	struct sl_error err;
	int rc;

	if (size > SL_FUZZ_INPUT_MAX)
		return 0;
	setenv("SLUICE_IFACE", "veth0", 0);
	setenv("SLUICE_IPV4", "10.0.0.2/24", 0);
	setenv("SLUICE_MAC", "02:00:00:00:00:01", 0);
	setenv("SLUICE_RX_PCAP", "/tmp/rx.pcap", 0);
	setenv("SLUICE_TX_PCAP", "/tmp/tx.pcap", 0);
	memset(&err, 0, sizeof(err));
	rc = sl_pmd_config_parse((const char *)data, size, "fuzz.json", &c, &err);
	if (rc != 0) {
		SL_FUZZ_CHECK(rc < 0 && err.code[0] != '\0');
		SL_FUZZ_CHECK(c.ports == NULL && c.n_ports == 0);
		return 0;
	}
	SL_FUZZ_CHECK(c.n_ports >= 1 && c.n_ports <= SL_MAX_PORTS && c.ports != NULL);
	for (uint32_t i = 0; i < c.n_ports; i++)
		sl_fuzz_check_port(&c, i);
	sl_pmd_config_free(&c);
	SL_FUZZ_CHECK(c.ports == NULL && c.n_ports == 0);
	return 0;
}
