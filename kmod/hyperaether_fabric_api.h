/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What hyperaether.ko offers other modules (the accel driver): a fabric
 * looked up from a /dev/hyperaether fd, the SHARE rights between a set of
 * its VMs, and the VMs' epoch quotas.  Symbols live in the HYPERAETHER
 * namespace.
 */
#ifndef __HYPERAETHER_FABRIC_API_H__
#define __HYPERAETHER_FABRIC_API_H__

#include <linux/types.h>

struct ha_fabric;
struct ha_vm;

/* Most VMs one call takes: the bits of a u64 mask. */
#define HA_FABRIC_ACL_MAX	64

struct ha_fabric *ha_fabric_get_fd(int fd);
void ha_fabric_put(struct ha_fabric *fabric);
int ha_fabric_share_acl(struct ha_fabric *fabric, const u32 *ids, u32 n,
			u64 *allow);
int ha_fabric_charge_epochs(struct ha_fabric *fabric, const u32 *ids, u32 n,
			    u64 epochs, struct ha_vm **vms);
void ha_fabric_refund_epochs(struct ha_vm **vms, u32 n, u64 epochs);

#endif /* __HYPERAETHER_FABRIC_API_H__ */
