/* SPDX-License-Identifier: MIT */
/*
 * xlread.h - reading the xl save header (rvmig/stream.h) in front of a libxl
 * stream, as `xl restore` does before it hands the rest to
 * libxl_domain_create_restore(): the fixed 48 octets and the optional data
 * (whose first u32 is the length of the domain's configuration that
 * follows) checked by the library's stream parser (rvmig_stream(3): magic,
 * byte order, mandatory flags, lengths), the configuration taken out.
 */
#ifndef RVMIG_TOOLS_XEN_XLREAD_H
#define RVMIG_TOOLS_XEN_XLREAD_H

#include <stddef.h>
#include <stdint.h>

#include <rvmig/stream.h>

struct xl_saved {
	uint32_t mandatory_flags; /* RVMIG_XL_FLAG_* */
	uint32_t optional_flags;
	uint32_t optdata_len;     /* octets of optional data after the 48 */
	int stream_version;       /* 2 with RVMIG_XL_FLAG_STREAMV2, else 1 */
	char *config;             /* the configuration, NUL-terminated (malloc); NULL: none */
	uint32_t config_len;      /* its length as the header gives it */
};

/*
 * Takes the configuration out of the optional data (optdata_len octets):
 * 0 (s->config set, or NULL when there is none), -EBADMSG with *why, or
 * -ENOMEM.  A configuration must end with a NUL inside its length.
 */
int xl_saved_parse_optdata(const uint8_t *opt, struct xl_saved *s, const char **why);

/*
 * Reads the header and its optional data from fd (a pipe: waits for each
 * piece at most timeout_ms, -1: for ever), leaving fd at the first octet of
 * the libxl stream.  0, or -errno / -EBADMSG / -ETIMEDOUT / -EPIPE (the
 * writer closed early) with why (whylen octets) saying what and where.
 */
int xl_saved_read(int fd, int timeout_ms, struct xl_saved *s, char *why, size_t whylen);
void xl_saved_free(struct xl_saved *s);

#endif
