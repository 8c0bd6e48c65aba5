/* SPDX-License-Identifier: MIT */
/* devname.c - vif and VBD names for the Xen backend (devname.h). */
#include <stdio.h>

#include "monitor/xen/devname.h"

#define XVD_MAJOR 202
#define XVD_EXTENDED (1u << 28)

void xen_vif_name(uint64_t domid, uint32_t id, char *out, size_t cap)
{
	snprintf(out, cap, "vif%llu.%u", (unsigned long long)domid, id);
}

/* Disk number n as xvd letters: a..z, then aa..zz, aaa..: bijective base 26. */
static void disk_letters(uint32_t n, char *buf, size_t cap)
{
	char rev[8];
	size_t k = 0, i;

	do {
		rev[k++] = (char)('a' + n % 26);
		n = n / 26;
	} while (n-- > 0 && k < sizeof(rev));
	for (i = 0; i < k && i + 1 < cap; i++)
		buf[i] = rev[k - 1 - i];
	buf[i] = '\0';
}

void xen_vbd_name(uint32_t dev, char *out, size_t cap)
{
	uint32_t disk, part;
	char letters[8];

	if (dev & XVD_EXTENDED) {
		disk = (dev >> 8) & 0xfffff;
		part = dev & 0xff;
	} else if ((dev >> 8) == XVD_MAJOR) {
		disk = (dev >> 4) & 0xf;
		part = dev & 0xf;
	} else {
		snprintf(out, cap, "%u", dev);
		return;
	}
	disk_letters(disk, letters, sizeof(letters));
	if (part)
		snprintf(out, cap, "xvd%s%u", letters, part);
	else
		snprintf(out, cap, "xvd%s", letters);
}
