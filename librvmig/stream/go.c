/* SPDX-License-Identifier: MIT */
/*
 * xl migrate's go message after the stream (RVMIG_STREAM_F_ALLOW_XL_GO):
 * on its data pipe, once the stream is through and the receiver said it is
 * ready, xl sends "domain is yours, you are cleared to unpause" with its NUL
 * (xl_migrate.c); nothing else may follow the final END.
 */
#include <inttypes.h>
#include <string.h>

#include "stream/parser_int.h"

static const char go_msg[RVMIG_STREAM_XL_GO_LEN] = RVMIG_STREAM_XL_GO_MSG;

int stream_go_step(struct rvmig_stream_parser *p)
{
	size_t avail = p->in_len - p->in_pos;
	size_t k = RVMIG_STREAM_XL_GO_LEN - p->go_have;

	if (!k)
		return stream_fail(p, p->off, "%zu byte(s) of trailing data after xl migrate's go "
				   "message", avail);
	if (k > avail)
		k = avail;
	for (size_t i = 0; i < k; i++)
		if (p->in[p->in_pos + i] != (uint8_t)go_msg[p->go_have + i])
			return stream_fail(p, p->off + i,
					   "trailing data after the final END record is not xl "
					   "migrate's go message (\"%s\"): octet %" PRIu32 " differs",
					   RVMIG_STREAM_XL_GO_MSG, p->go_have + (uint32_t)i);
	stream_consume_ctl(p, k);
	p->go_have += (uint32_t)k;
	return 0;
}

int stream_go_finish(struct rvmig_stream_parser *p)
{
	if (!p->go_have || p->go_have == RVMIG_STREAM_XL_GO_LEN)
		return 0;
	return stream_fail(p, p->off,
			   "stream truncated: input ends inside xl migrate's go message (%" PRIu32
			   " of %u octets)", p->go_have, RVMIG_STREAM_XL_GO_LEN);
}
