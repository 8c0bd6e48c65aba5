/* SPDX-License-Identifier: MIT */
/*
 * msg.h - the stream messages (the wire format is described in
 * rvmig/xstream.h); what only the library needs.
 */
#ifndef RVMIG_XSTREAM_MSG_H
#define RVMIG_XSTREAM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <rvmig/xstream.h>

/* The header of a CTRL message; its payload follows. */
size_t app_encode_ctrl_hdr(uint8_t *buf, size_t cap);

#endif
