/* SPDX-License-Identifier: MIT */
/*
 * xexec.c - a command run through rvmigd by an rvmig_xsender
 * (rvmig_xsender_exec(), what rvmig-tunnel does for `xl migrate -s`):
 * EXEC with the argv, the input as the command's stdin (a Xen stream while
 * it is one, the rest as plain CTRL messages), OUT / ERR to on_output and
 * the EXIT status back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xstream/xexec.h"
#include "xstream/xsend.h"

#define PUMP_MS 200

void xexec_reply(struct rvmig_xsender *s, const struct rvmig_xmsg *m)
{
	switch (m->tag) {
	case RVMIG_XMSG_OUT:
	case RVMIG_XMSG_ERR:
		if (s->o.on_output)
			s->o.on_output(s, m->tag == RVMIG_XMSG_OUT ? 1 : 2, m->data, m->len, s->o.arg);
		break;
	case RVMIG_XMSG_EXIT:
		xsender_answer(s, m);
		rvmig_xsend_quit(s->xs);
		break;
	default:
		rvmig_xsend_fail(s->xs, -RVMIG_EBADMSG, false, "unexpected %s reply from %s",
				 rvmig_xmsg_tag_name(m->tag), s->peer);
	}
}

void xexec_close(struct rvmig_xsender *s)
{
	if (!s->answered)
		rvmig_xsend_fail(s->xs, -RVMIG_EPEER, false,
				 "%s closed the tunnel without an exit status", s->peer);
	rvmig_xsend_quit(s->xs);
}

/*
 * At end of input END (length, XXH3-128 digest) goes, which rvmigd checks
 * before the command sees end of input.  A command that exits first (xl's
 * receiver exits after the permission message, while xl still holds the
 * pipe open) is checked through EXIT instead: when rvmigd rebuilt as many
 * bytes as were handed on, their digest must match.
 */
static int finish(struct rvmig_xsender *s)
{
	uint8_t digest[RVMIG_DIGEST_LEN];
	uint32_t ms = s->o.reply_timeout_ms;
	double deadline = xsender_now() + ms / 1000.0;
	rvmig_xstats *st;
	uint64_t handed;
	int rc;

	rvmig_xsend_end(s->xs, !s->answered && !rvmig_xsend_error(s->xs, NULL), digest);
	memcpy(s->digest, digest, RVMIG_DIGEST_LEN);
	s->digest_valid = true;
	while (!rvmig_xsend_error(s->xs, NULL) && !s->answered) {
		if (ms && xsender_now() > deadline)
			return rvmig_xsend_fail(s->xs, -RVMIG_ETIMEDOUT, false,
						"%s sent no exit status within %u ms of the end of "
						"input", s->peer, ms);
		rvmig_xsend_progress(s->xs, PUMP_MS);
	}
	if ((rc = rvmig_xsend_error(s->xs, NULL)))
		return rc;
	if ((rc = rvmig_xstats_create(&st)))
		return rvmig_xsend_fail(s->xs, rc, false, "out of memory");
	rvmig_xsend_stats(s->xs, st);
	handed = rvmig_xstats_get(st, RVMIG_XSTAT_HANDED);
	rvmig_xstats_destroy(st);
	if (s->peer_bytes == handed && s->peer_status >= 0) {
		if (memcmp(digest, s->peer_digest, RVMIG_DIGEST_LEN))
			return rvmig_xsend_fail(s->xs, -RVMIG_EINTEGRITY, false,
						"xxh128 digest of the %llu bytes %s rebuilt differs "
						"from what was sent",
						(unsigned long long)handed, s->peer);
		s->verified = true;
	}
	if (s->peer_status < 0)
		return rvmig_xsend_fail(s->xs, s->peer_status, false, "%s: %s", s->peer,
					s->peer_text[0] ? s->peer_text
							: rvmig_strerror(s->peer_status));
	return 0;
}

int rvmig_xsender_exec(rvmig_xsender *s, const char *uri, int argc, char *const argv[])
{
	size_t max = rvmig_msg_max(), len;
	uint8_t *m;
	int rc;

	if (!uri || argc < 1 || !argv || (s->used && s->ever_connected) || !s->xs ||
	    (s->err && !s->used) || s->o.digest != RVMIG_DIGEST_XXH128 ||
	    (s->o.flags & (RVMIG_XSTREAM_F_RAW | RVMIG_XSEND_F_RESUME)))
		return s->err && !s->used ? s->err : -EINVAL;
	s->used = s->exec = true;
	xsend_add_flags(s->xs, RVMIG_XSTREAM_F_PLAIN_FALLBACK);
	if (!(m = malloc(max)))
		return xsender_fail(s, -ENOMEM, "out of memory");
	len = rvmig_xmsg_encode_exec(m, max, argc, argv);
	if (!len) {
		free(m);
		s->err = 0;
		return xsender_fail(s, -E2BIG, "the command line is too long (at most %zu bytes)",
				    max - RVMIG_XMSG_HDR_LEN);
	}
	rc = xsender_connect(s, uri);
	if (!rc) {
		rvmig_xsend_msg(s->xs, m, len, 0);
		rvmig_xsend_run(s->xs);
		rc = finish(s);
	}
	free(m);
	rc = xsender_settle(s, rc);
	xsender_publish(s, false);
	return rc;
}
