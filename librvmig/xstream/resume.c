/* SPDX-License-Identifier: MIT */
/* resume.c - partial file, journal and rebuild state of a resumable receiving session. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xstream/resume.h"
#include "xstream/xlog.h"

#define READ_CHUNK (1u << 20)

static void short_hex(const uint8_t id[RVMIG_XFER_ID_LEN], char out[17])
{
	char hex[2 * RVMIG_DIGEST_LEN + 1];

	rvmig_digest_hex(RVMIG_DIGEST_SHA256, id, hex); /* all 32 octets */
	memcpy(out, hex, 16);
	out[16] = 0;
}

/* Back to offset 0 with an empty partial, no parser and a digest `alg`. */
static int restart(struct recv_resume *rs, struct recv_output *out, rvmig_xrecv *rb,
		   enum rvmig_digest_alg alg, char *why, size_t whylen)
{
	int rc = output_truncate(out, 0, why, whylen);

	if (rc)
		return rc;
	rs->ckpt = 0;
	if ((rc = rvmig_xrecv_reset(rb, alg))) {
		snprintf(why, whylen, "out of memory");
		return rc;
	}
	return journal_remove(rs->dirfd, rs->jpath, why, whylen);
}

/* Reads the durable prefix back into the digest and the parser. */
static int reread(struct recv_output *out, rvmig_xrecv *rb, uint64_t len, char *why,
		  size_t whylen)
{
	uint8_t *buf = malloc(READ_CHUNK);
	uint64_t off = 0;

	if (!buf) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	while (off < len && !rvmig_xrecv_error(rb, NULL)) {
		size_t n = len - off < READ_CHUNK ? (size_t)(len - off) : READ_CHUNK;
		ssize_t got = pread(out->fd, buf, n, (off_t)off);

		if (got <= 0) {
			int rc = got < 0 ? -errno : -EIO;

			snprintf(why, whylen, "cannot read %s at offset %llu: %s", out->tmp,
				 (unsigned long long)off, got < 0 ? strerror(errno) : "short file");
			free(buf);
			return rc;
		}
		rvmig_xrecv_prefix(rb, buf, (size_t)got);
		off += (uint64_t)got;
	}
	free(buf);
	return 0;
}

int resume_open(struct recv_resume *rs, const char *path, bool verify_stream,
		struct recv_output *out, rvmig_xrecv *rb, char *why, size_t whylen)
{
	char jwhy[512], id[17];
	const char *text;
	uint8_t sha[32];
	uint64_t keep = 0;
	int rc;

	memset(rs, 0, sizeof(*rs));
	rs->log = out->log;
	rs->verify_stream = verify_stream;
	rs->dirfd = out->dirfd;
	if (asprintf(&rs->jpath, "%s" OUTPUT_JOURNAL_SUFFIX, path) < 0) {
		rs->jpath = NULL;
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	rc = journal_load(rs->dirfd, rs->jpath, &rs->j, jwhy, sizeof(jwhy));
	if (!rc) {
		keep = rs->j.offset;
	} else if (rc == -EBADMSG) {
		xlog(rs->log, RVMIG_LOG_WARN, "ignoring the journal: %s; starting %s from 0", jwhy, path);
	} else if (rc != -ENOENT) {
		/* Unreadable, a symbolic link, not a file of ours: left alone. */
		snprintf(why, whylen, "%s", jwhy);
		return rc;
	}
	rc = output_open_resume(out, keep, why, whylen);
	if (rc == -ERANGE) {
		xlog(rs->log, RVMIG_LOG_WARN, "%s; starting %s from 0", why, path);
		return restart(rs, out, rb, RVMIG_DIGEST_XXH128, why, whylen);
	}
	if (rc || !keep)
		return rc;
	if ((rc = rvmig_xrecv_reset(rb, rvmig_xmsg_digest_alg(rs->j.flags)))) {
		snprintf(why, whylen, "out of memory");
		return rc;
	}
	if (!(rs->j.flags & RVMIG_XMSG_F_RAW) && verify_stream) {
		if ((rc = rvmig_xrecv_verify(rb))) {
			snprintf(why, whylen, "cannot create the stream parser: %s", rvmig_strerror(rc));
			return rc;
		}
	}
	if ((rc = reread(out, rb, keep, why, whylen)))
		return rc;
	if (rvmig_xrecv_error(rb, &text)) {
		xlog(rs->log, RVMIG_LOG_WARN, "the %llu durable bytes of %s fail the stream check (%s); starting %s from 0",
			 (unsigned long long)keep, out->tmp, text, path);
		return restart(rs, out, rb, RVMIG_DIGEST_XXH128, why, whylen);
	}
	if (rvmig_xrecv_peek_digest(rb, sha) || memcmp(sha, rs->j.digest, 32)) {
		xlog(rs->log, RVMIG_LOG_WARN, "the first %llu bytes of %s differ from their %s digest in %s; starting %s "
			 "from 0",
			 (unsigned long long)keep, out->tmp, rvmig_digest_name(rvmig_xrecv_digest_alg(rb)),
			 rs->jpath, path);
		return restart(rs, out, rb, RVMIG_DIGEST_XXH128, why, whylen);
	}
	rs->ckpt = keep;
	short_hex(rs->j.xfer_id, id);
	xlog(rs->log, RVMIG_LOG_INFO, "%s holds %llu durable bytes of transfer %s... (journal %s): a sender with the "
		  "same transfer continues there",
		  out->tmp, (unsigned long long)keep, id, rs->jpath);
	return 0;
}

int resume_hello(struct recv_resume *rs, const struct rvmig_xmsg *m, struct recv_output *out,
		 rvmig_xrecv *rb, char *why, size_t whylen)
{
	static const uint8_t none[RVMIG_XFER_ID_LEN];
	enum rvmig_digest_alg alg = rvmig_xmsg_digest_alg(m->flags);
	bool same_id = (m->flags & RVMIG_XMSG_F_RESUME) && memcmp(m->xfer_id, none, RVMIG_XFER_ID_LEN) &&
		       !memcmp(m->xfer_id, rs->j.xfer_id, RVMIG_XFER_ID_LEN);
	char a[17], b[17];
	int rc;

	if (same_id && alg == rvmig_xrecv_digest_alg(rb))
		return 0;
	if (rvmig_xrecv_offset(rb)) {
		short_hex(rs->j.xfer_id, b);
		if (same_id) {
			xlog(rs->log, RVMIG_LOG_WARN, "the sender's digest (%s) is not the one of the %llu bytes kept in %s "
				 "(%s): starting %s from 0",
				 rvmig_digest_name(alg), (unsigned long long)rvmig_xrecv_offset(rb), rs->jpath,
				 rvmig_digest_name(rvmig_xrecv_digest_alg(rb)), out->path);
		} else if (m->flags & RVMIG_XMSG_F_RESUME) {
			short_hex(m->xfer_id, a);
			xlog(rs->log, RVMIG_LOG_WARN, "the sender's transfer %s... is not the one in %s (%s...): starting "
				 "%s from 0",
				 a, rs->jpath, b, out->path);
		} else {
			xlog(rs->log, RVMIG_LOG_WARN, "the sender did not ask to resume (no --resume): starting %s from 0, "
				 "dropping the %llu bytes kept of transfer %s...",
				 out->path, (unsigned long long)rvmig_xrecv_offset(rb), b);
		}
	}
	if ((rc = restart(rs, out, rb, alg, why, whylen)))
		return rc;
	memset(&rs->j, 0, sizeof(rs->j));
	if (m->flags & RVMIG_XMSG_F_RESUME)
		memcpy(rs->j.xfer_id, m->xfer_id, RVMIG_XFER_ID_LEN);
	rs->j.flags = m->flags & (RVMIG_XMSG_F_RAW | RVMIG_XMSG_F_SIZE | RVMIG_XMSG_F_SHA256);
	rs->j.size = m->flags & RVMIG_XMSG_F_SIZE ? m->input_size : 0;
	return 0;
}

int resume_checkpoint(struct recv_resume *rs, struct recv_output *out, rvmig_xrecv *rb,
		      char *why, size_t whylen)
{
	int rc = output_sync(out, why, whylen);

	if (rc)
		return rc;
	rs->j.offset = rvmig_xrecv_offset(rb);
	if ((rc = rvmig_xrecv_peek_digest(rb, rs->j.digest))) {
		snprintf(why, whylen, "out of memory");
		return rc;
	}
	if ((rc = journal_store(rs->dirfd, rs->jpath, &rs->j, why, whylen)))
		return rc;
	rs->ckpt = rvmig_xrecv_offset(rb);
	rs->ckpt_time = xstream_now();
	xlog(rs->log, RVMIG_LOG_DEBUG, "%llu bytes of %s durable, journal %s written", (unsigned long long)rvmig_xrecv_offset(rb),
		   out->tmp, rs->jpath);
	return 0;
}

int resume_maybe_checkpoint(struct recv_resume *rs, struct recv_output *out,
			    rvmig_xrecv *rb, char *why, size_t whylen)
{
	double now = xstream_now();

	if (!rs->ckpt_time)
		rs->ckpt_time = now;
	uint64_t off = rvmig_xrecv_offset(rb);

	if (off < rs->ckpt + RESUME_CHECKPOINT_MIN ||
	    (off < rs->ckpt + RESUME_CHECKPOINT_STEP && now - rs->ckpt_time < RESUME_CHECKPOINT_SEC))
		return 0;
	return resume_checkpoint(rs, out, rb, why, whylen);
}

int resume_done(struct recv_resume *rs, char *why, size_t whylen)
{
	return journal_remove(rs->dirfd, rs->jpath, why, whylen);
}

void resume_fini(struct recv_resume *rs)
{
	free(rs->jpath);
	rs->jpath = NULL;
}
