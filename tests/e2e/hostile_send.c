/* SPDX-License-Identifier: MIT */
/*
 * hostile_send - a hand-built sender for the end-to-end tests (hostile.sh):
 * it speaks the tools' application messages (include/rvmig/xstream.h) over
 * librvmig, but sends whatever the script says, in order, including what
 * rvmig-send and rvmig-tunnel never would.
 *
 *   hostile_send [--key-file PATH] URI STEP...
 *
 *   hello SIZE|-        HELLO announcing SIZE bytes (RVMIG_XMSG_F_SIZE) or no size
 *   hello-sha256 SIZE|- the same, digests SHA-256
 *   exec 'CMD ARGS'     EXEC (rvmigd) of the space-separated words
 *   ctrl N              N bytes of CTRL ('x') at the current stream offset
 *   zero N              a ZERO of N bytes at the current stream offset
 *   zeros K N           K ZEROs of N bytes each, one after the other
 *   end                 END with the length and digest of what was sent
 *   mark PATH           creates PATH (the script waits for it)
 *   wait MS             handles replies until the receiver's VERDICT or EXIT,
 *                       its close, or MS milliseconds; then ends
 *
 * Replies are printed on stdout as "VERDICT|EXIT STATUS TEXT"; a failed
 * connection as "failed: REASON".  Exit status 0 unless the arguments or
 * the set-up were wrong (2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rvmig.h>

#include "xstream/msg.h"
#include "xstream/digest.h"

static rvmig_ep *ep;
static struct hasher *digest; /* of every stream byte sent, for an `end` step */
static bool want_end;
static uint64_t off, cookie;
static bool replied, closed;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void events(void)
{
	struct rvmig_event ev;

	while (rvmig_event_next(ep, &ev) > 0) {
		struct rvmig_xmsg m;
		const char *why;

		if (ev.type == RVMIG_EV_PEER_CLOSED)
			closed = true;
		if (ev.type != RVMIG_EV_RECV_MSG)
			continue;
		if (!rvmig_xmsg_decode(ev.data, ev.len, &m, &why) &&
		    (m.tag == RVMIG_XMSG_VERDICT || m.tag == RVMIG_XMSG_EXIT)) {
			printf("%s %d %.*s\n", rvmig_xmsg_tag_name(m.tag), m.status, (int)m.len,
			       (const char *)m.data);
			fflush(stdout);
			replied = true;
		}
		rvmig_recv_release(ep, ev.token);
	}
}

/* Drives the endpoint; false once it failed (reported on stdout). */
static bool progress(int timeout_ms)
{
	int rc = rvmig_progress(ep, timeout_ms);

	events();
	if (rc < 0 && !closed) {
		printf("failed: %s\n", rvmig_strerror(rc));
		fflush(stdout);
		closed = true;
	}
	return !closed;
}

/* Posts one message at the current stream offset, waiting out back-pressure. */
static bool send_msg(const void *m, size_t len)
{
	int rc;

	while ((rc = rvmig_client_send_msg(ep, m, len, off, ++cookie)) == -EAGAIN)
		if (!progress(50))
			return false;
	if (rc) {
		printf("failed: cannot post a message: %s\n", rvmig_strerror(rc));
		return false;
	}
	return progress(0);
}

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || !*s) {
		fprintf(stderr, "hostile_send: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct rvmig_ctx_attr ca = { .size = sizeof(ca),
				     .logger = { .fn = rvmig_log_stderr, .max_level = RVMIG_LOG_WARN } };
	struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 10000 };
	uint8_t key[256], m[4096];
	size_t key_len = sizeof(key), n;
	rvmig_ctx *ctx;
	int i = 1, rc;

	if (rvmig_ctx_create(&ca, &ctx))
		return 2;
	if (argc > 2 && !strcmp(argv[1], "--key-file")) {
		if (rvmig_key_load(ctx, argv[2], key, &key_len))
			return 2;
		a.psk = key;
		a.psk_len = (uint32_t)key_len;
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: hostile_send [--key-file PATH] URI STEP...\n");
		return 2;
	}
	for (int j = i; j < argc; j++)
		want_end |= !strcmp(argv[j], "end");
	rc = rvmig_connect(ctx, argv[i++], &a, &ep);
	if (rc) {
		printf("failed: connect: %s\n", rvmig_strerror(rc));
		return 2;
	}
	while (i < argc && !closed) {
		const char *step = argv[i++];
		const char *arg = i < argc ? argv[i] : NULL;

		if ((!strcmp(step, "hello") || !strcmp(step, "hello-sha256")) && arg) {
			uint32_t flags = (strcmp(arg, "-") ? RVMIG_XMSG_F_SIZE : 0) |
					 (strcmp(step, "hello") ? RVMIG_XMSG_F_SHA256 : 0);

			i++;
			n = rvmig_xmsg_encode_hello(m, sizeof(m), flags, strcmp(arg, "-") ? num(arg) : 0,
					     NULL);
			hasher_free(digest);
			digest = NULL;
			if (want_end && hasher_new(&digest, rvmig_xmsg_digest_alg(flags), false))
				return 2;
			send_msg(m, n);
		} else if (!strcmp(step, "exec") && arg) {
			char *words[64], *copy = strdup(arg), *save = NULL;
			int nw = 0;

			i++;
			for (char *w = strtok_r(copy, " ", &save); w && nw < 64;
			     w = strtok_r(NULL, " ", &save))
				words[nw++] = w;
			n = rvmig_xmsg_encode_exec(m, sizeof(m), nw, words);
			send_msg(m, n);
			free(copy);
		} else if (!strcmp(step, "ctrl") && arg) {
			uint64_t len = num(argv[i++]);
			size_t h = app_encode_ctrl_hdr(m, sizeof(m));

			while (len && !closed) {
				size_t k = len < rvmig_msg_max() - h ? (size_t)len : rvmig_msg_max() - h;

				memset(m + h, 'x', k);
				if (digest)
					hasher_wait(digest, hasher_feed(digest, m + h, k));
				send_msg(m, h + k);
				off += k;
				len -= k;
			}
		} else if (!strcmp(step, "zero") && arg) {
			uint64_t z = num(argv[i++]);

			if (digest)
				hasher_feed_zero(digest, z);
			send_msg(m, rvmig_xmsg_encode_zero(m, sizeof(m), z));
			off += z;
		} else if (!strcmp(step, "zeros") && arg && i + 1 < argc) {
			uint64_t k = num(argv[i]), z = num(argv[i + 1]);

			i += 2;
			for (uint64_t j = 0; j < k && !closed; j++) {
				send_msg(m, rvmig_xmsg_encode_zero(m, sizeof(m), z));
				off += z;
			}
		} else if (!strcmp(step, "end") && digest) {
			uint8_t d[RVMIG_DIGEST_LEN];

			if (hasher_final(digest, d))
				return 2;
			send_msg(m, rvmig_xmsg_encode_end(m, sizeof(m), off, d, 0, 0));
		} else if (!strcmp(step, "mark") && arg) {
			int fd = open(argv[i++], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			if (fd >= 0)
				close(fd);
		} else if (!strcmp(step, "wait") && arg) {
			double end = now_s() + (double)num(argv[i++]) / 1000;

			while (!replied && !closed && now_s() < end)
				progress(100);
			break;
		} else {
			fprintf(stderr, "hostile_send: bad step '%s'\n", step);
			return 2;
		}
	}
	rvmig_ep_close(ep);
	rvmig_ctx_destroy(ctx);
	hasher_free(digest);
	return 0;
}
