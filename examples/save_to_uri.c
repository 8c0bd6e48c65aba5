/* SPDX-License-Identifier: MIT */
/*
 * save_to_uri - send a file or a pipe, typically a Xen checkpoint, to an
 * rvmig receiver (recv_to_file, rvmig-recv) with the one-shot call
 * rvmig_xstream_send_fd().
 *
 *   xl save guest /tmp/guest.chk
 *   save_to_uri /tmp/guest.chk verbs://10.0.0.2:7471     (or tcp://...)
 *   xl save guest /dev/stdout | save_to_uri - tcp://10.0.0.2:7471
 *
 * The library tells the format from the first bytes (an xl save file, a bare
 * libxl or libxc stream), sends page payloads as zero-copy bulk transfers,
 * all-zero pages as short messages and everything else as control messages,
 * and waits for the receiver's verdict on length and digest.  Anything that
 * is not a Xen stream is refused (rvmig-send --raw moves any bytes).
 *
 * Build: cc save_to_uri.c $(pkg-config --cflags --libs rvmig)
 *        (or CMake: find_package(rvmig), target rvmig::rvmig; see CMakeLists.txt)
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

int main(int argc, char **argv)
{
	struct rvmig_xresult res = { .size = sizeof(res) };
	rvmig_ctx *ctx;
	int fd, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE|- URI   (URI: tcp://HOST:PORT or verbs://HOST:PORT)\n",
			argv[0]);
		return 2;
	}

	/* The input: a regular file is mapped whole, anything else (a pipe,
	 * standard input) is read into registered buffers as it comes.  The
	 * descriptor stays ours: the library never closes it. */
	fd = strcmp(argv[1], "-") ? open(argv[1], O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}

	/* A context holds the transports and the logger (NULL attr: defaults,
	 * no logging); every call returns 0 or a negative error code. */
	rc = rvmig_ctx_create(NULL, &ctx);
	if (rc) {
		fprintf(stderr, "rvmig_ctx_create: %s\n", rvmig_strerror(rc));
		return 1;
	}

	/* Connect, send, wait for the verdict: one call.  NULL options are the
	 * defaults (push mode, XXH3-128 digest, no resume). */
	rc = rvmig_xstream_send_fd(ctx, argv[2], fd, NULL, &res);
	if (rc)
		/* res.text says what failed, where and with which peer */
		fprintf(stderr, "%s: %s\n", argv[0], res.text[0] ? res.text : rvmig_strerror(rc));
	else
		printf("sent %llu bytes to %s over %s in %.3f s; the receiver verified them\n",
		       (unsigned long long)res.bytes, res.peer, res.transport, res.seconds);

	rvmig_ctx_destroy(ctx);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc ? 1 : 0;
}
