/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_dynamic_ip.h: dynamic addresses of NIC ipConfigurations
 * (privateIPAllocationMethod Dynamic), given to them in the desired-state
 * document before it is validated. Control thread only.
 */
#ifndef SL_DYNAMIC_IP_H
#define SL_DYNAMIC_IP_H

#include <cjson/cJSON.h>

#include "sl_error.h"

/*
 * Give every NIC ipConfiguration of the document that has no
 * properties.privateIPAddress (and is not privateIPAllocationMethod Static)
 * the lowest free address of its subnet, written into the document with
 * "privateIPAllocationMethod": "Dynamic". Azure reserves the first four
 * addresses of a subnet and, for IPv4, the last: the search starts at the
 * subnet's fifth address (.4, ::4). Free means used by no frontend, no
 * backend pool address and no other NIC ipConfiguration of the document
 * (nor one assigned earlier in the same call). Parts of the document that are
 * not of the expected shape, subnets that do not resolve and
 * privateIPAddressVersion that does not match the subnet are skipped
 * (validation reports them). Returns the number of addresses assigned, or
 * -EINVAL with *err = SubnetIsFull (target the ipConfiguration, path its
 * subnet id) when a subnet has no free address, or -ENOMEM (OutOfMemory);
 * on failure the addresses assigned before it stay in the document.
 */
int sl_config_assign_dynamic_ips(cJSON *root, struct sl_error *err);

/*
 * A NIC replacing old_nic (its PUT body, new_nic) keeps the Dynamic address
 * of each ipConfiguration of the same name (case-insensitively) that the
 * body gives no privateIPAddress, as Azure keeps it: the address and
 * "privateIPAllocationMethod": "Dynamic" are written into new_nic. Parts
 * not of the expected shape are skipped.
 */
void sl_keep_dynamic_ips(const cJSON *old_nic, cJSON *new_nic);

#endif /* SL_DYNAMIC_IP_H */
