/* SPDX-License-Identifier: MIT */
/*
 * recv_to_file - receive one checkpoint from an rvmig sender (save_to_uri,
 * rvmig-send) into a file, with the one-shot call rvmig_xstream_recv_fd().
 *
 *   recv_to_file verbs://0.0.0.0:7471 /tmp/guest.chk     (or tcp://...)
 *   xl restore /tmp/guest.chk
 *
 * Port 0 picks a free port; the program prints "listening on port N" once
 * senders can connect.  The received stream is checked as a Xen stream and
 * against the sender's length and digest; the file is removed if anything
 * fails, so a file that remains is complete.
 *
 * Build: cc recv_to_file.c $(pkg-config --cflags --libs rvmig)
 *        (or CMake: find_package(rvmig), target rvmig::rvmig; see CMakeLists.txt)
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <rvmig.h>

/* Called once the listener is bound: from here on a sender can connect. */
static void on_listening(int port, void *arg)
{
	(void)arg;
	printf("listening on port %d\n", port);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct rvmig_xrecv_opts opts = { .size = sizeof(opts) };
	struct rvmig_xresult res = { .size = sizeof(res) };
	rvmig_ctx *ctx;
	int fd, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s LISTEN_URI FILE   (e.g. tcp://0.0.0.0:7471)\n", argv[0]);
		return 2;
	}

	/* The output: the library writes the stream in order and fsyncs a
	 * regular file at the end; the descriptor stays ours. */
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}

	rc = rvmig_ctx_create(NULL, &ctx);
	if (rc) {
		fprintf(stderr, "rvmig_ctx_create: %s\n", rvmig_strerror(rc));
		unlink(argv[2]);
		return 1;
	}

	/* Every wait has a deadline: give up if no sender comes within 5
	 * minutes (a stalled transfer has its own default of 10 s). */
	opts.accept_timeout_ms = 5 * 60 * 1000;
	opts.on_listening = on_listening;

	/* Listen, accept one sender, receive and verify: one call. */
	rc = rvmig_xstream_recv_fd(ctx, argv[1], fd, &opts, &res);
	if (rc) {
		fprintf(stderr, "%s: %s\n", argv[0], res.text[0] ? res.text : rvmig_strerror(rc));
		unlink(argv[2]);
	} else {
		printf("received %llu bytes from %s over %s in %.3f s into %s, verified\n",
		       (unsigned long long)res.bytes, res.peer, res.transport, res.seconds, argv[2]);
	}

	rvmig_ctx_destroy(ctx);
	close(fd);
	return rc ? 1 : 0;
}
