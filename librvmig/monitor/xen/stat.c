/* SPDX-License-Identifier: MIT */
/*
 * stat.c - what libxenstat already reads for the Xen backend: domain names
 * (xenstore), vifs (dom0's /proc/net/dev) and VBDs (dom0's sysfs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "monitor/xen/devname.h"
#include "monitor/xen/xen.h"

/* The longest name kept, escaped (rvmig_text_escape). */
#define XEN_NAME_MAX 256

static int copy_devices(struct mon_backend *b, xenstat_domain *xd, struct mon_dom_raw *d)
{
	const struct xen_lib *L = &b->lib;
	unsigned nn = L->xenstat_domain_num_networks(xd), nd = L->xenstat_domain_num_vbds(xd);

	if (nn) {
		d->nets = calloc(nn, sizeof(*d->nets));
		if (!d->nets)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < nn; i++) {
		xenstat_network *n = L->xenstat_domain_network(xd, i);
		struct rvmig_monitor_net *o;

		if (!n)
			continue;
		o = &d->nets[d->nnets++];
		o->id = L->xenstat_network_id(n);
		xen_vif_name(d->id, o->id, o->name, sizeof(o->name));
		o->rx_bytes = L->xenstat_network_rbytes(n);
		o->rx_packets = L->xenstat_network_rpackets(n);
		o->rx_errors = L->xenstat_network_rerrs(n);
		o->rx_drops = L->xenstat_network_rdrop(n);
		o->tx_bytes = L->xenstat_network_tbytes(n);
		o->tx_packets = L->xenstat_network_tpackets(n);
		o->tx_errors = L->xenstat_network_terrs(n);
		o->tx_drops = L->xenstat_network_tdrop(n);
	}
	if (nd) {
		d->disks = calloc(nd, sizeof(*d->disks));
		if (!d->disks)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < nd; i++) {
		xenstat_vbd *v = L->xenstat_domain_vbd(xd, i);
		struct rvmig_monitor_disk *o;

		if (!v)
			continue;
		o = &d->disks[d->ndisks++];
		o->dev = L->xenstat_vbd_dev(v);
		o->rd_reqs = L->xenstat_vbd_rd_reqs(v);
		o->wr_reqs = L->xenstat_vbd_wr_reqs(v);
		o->rd_sectors = L->xenstat_vbd_rd_sects(v);
		o->wr_sectors = L->xenstat_vbd_wr_sects(v);
		o->oo_reqs = L->xenstat_vbd_oo_reqs(v);
		o->rd_bytes = o->rd_sectors * 512;
		o->wr_bytes = o->wr_sectors * 512;
		xen_vbd_name(o->dev, o->name, sizeof(o->name));
	}
	return 0;
}

int xen_sample_stat(struct mon_backend *b, struct mon_raw *r)
{
	const struct xen_lib *L = &b->lib;
	xenstat_node *node;
	int rc = 0;

	if (!b->xsh)
		return 0;
	node = L->xenstat_get_node(b->xsh, XENSTAT_NETWORK | XENSTAT_VBD);
	if (!node) {
		/* Counters and names are extras: the sample stands without them. */
		if (!b->xenstat_warned)
			LOG_WARN(b->ctx, "monitor", "xenstat_get_node failed (%s): no names, vifs or VBDs",
				 strerror(errno));
		b->xenstat_warned = 1;
		return 0;
	}
	for (size_t i = 0; rc == 0 && i < r->ndom; i++) {
		struct mon_dom_raw *d = &r->dom[i];
		xenstat_domain *xd = L->xenstat_node_domain(node, (unsigned)d->id);
		const char *name;
		char esc[XEN_NAME_MAX];

		if (!xd)
			continue; /* created after xc_domain_getinfolist */
		name = L->xenstat_domain_name(xd);
		if (name && *name) {
			char *p;

			rvmig_text_escape(esc, sizeof(esc), name, strlen(name));
			if (!(p = strdup(esc))) {
				rc = -ENOMEM;
				break;
			}
			free(d->name);
			d->name = p;
		}
		rc = copy_devices(b, xd, d);
	}
	L->xenstat_free_node(node);
	return rc;
}
