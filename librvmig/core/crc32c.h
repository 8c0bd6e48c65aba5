/* SPDX-License-Identifier: MIT */
#ifndef RVMIG_CORE_CRC32C_H
#define RVMIG_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC32C (Castagnoli), as used by iSCSI and ext4; SSE4.2 when available. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
