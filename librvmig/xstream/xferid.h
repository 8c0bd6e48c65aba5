/* SPDX-License-Identifier: MIT */
/*
 * xferid.h - the transfer id of rvmig-send --resume: names "this input"
 * so that a receiver's journal is resumed only by a rerun of the same
 * transfer.
 *
 * id = SHA-256 over "rvmig-xfer-id 1", then, each as 8 little-endian
 * octets: the input's size, mtime in ns, st_dev, st_ino, the raw flag
 * (0/1), then the path as given on the command line (NUL-terminated).  A
 * rerun of the same command on the unchanged file gives the same id; a
 * rewritten file (new mtime or inode) or another file gives another one.
 */
#ifndef RVMIG_XSTREAM_XFERID_H
#define RVMIG_XSTREAM_XFERID_H

#include <stdbool.h>
#include <stdint.h>

#include "xstream/msg.h"

/* Returns 0 or -errno (fstat of fd failed). */
int xfer_id_make(int fd, const char *path, bool raw, uint8_t id[RVMIG_XFER_ID_LEN]);

#endif
