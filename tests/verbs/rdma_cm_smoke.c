/*
 * rdma_cm_smoke — standalone RDMA smoke test (librdmacm + libibverbs only).
 *
 * Tells a working verbs stack apart from broken rvmig code: an RC connection
 * made through rdma_cm, one SEND/RECV exchange of a remote buffer descriptor,
 * an RDMA WRITE of a pattern into the server's buffer, an RDMA READ of a
 * different server-side pattern, both checked byte for byte (client checks what
 * it read, server checks what was written), then a clean disconnect.
 *
 *   rdma_cm_smoke --bind ADDR [--port N]                 server only
 *   rdma_cm_smoke --connect ADDR [--src ADDR] [--port N] client only
 *   rdma_cm_smoke --bind ADDR --connect ADDR [--src ADDR]
 *                 forks: server in a child bound to the --bind address on a
 *                 free port, client in the parent once the server listens
 *   common: --size BYTES (default 1048576, suffixes k/m/g), --timeout SEC
 *           (default 60; every wait is bounded by it and an alarm backs it up)
 *
 * The server prints "listening on ADDR:PORT" (stdout, flushed) once it listens.
 * Exit status: 0 success, 1 any failure (the message names the call and the
 * peer), 2 usage.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#define SMOKE_MAGIC 0x524d534bu /* "RMSK" */
#define SMOKE_DEFAULT_PORT 7471
#define SMOKE_CHUNK (1u << 20)  /* bytes per RDMA WRITE/READ work request */

enum smoke_msg_type { MSG_DESC = 1, MSG_DONE = 2, MSG_ACK = 3 };

/* On the wire, all fields big-endian. */
struct smoke_msg {
	uint32_t magic;
	uint32_t type;
	uint64_t size;    /* DESC: bytes in each region */
	uint64_t addr_w;  /* DESC: region the client writes */
	uint64_t addr_r;  /* DESC: region the client reads */
	uint32_t rkey_w;
	uint32_t rkey_r;
	int32_t status;   /* DONE/ACK: 0 = sender's checks passed */
	uint32_t pad;
};
_Static_assert(sizeof(struct smoke_msg) == 48, "smoke_msg wire size");

struct smoke_conn {
	const char *role;        /* "server" or "client" */
	char peer[128];          /* for messages */
	struct rdma_event_channel *ech;
	struct rdma_cm_id *listen_id;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_comp_channel *cch;
	struct ibv_cq *cq;
	bool qp_created;
	struct smoke_msg *send_msg, *recv_msg;
	struct ibv_mr *send_mr, *recv_mr;
	uint8_t *buf_w, *buf_r;  /* server: the two regions; client: source / sink */
	struct ibv_mr *mr_w, *mr_r;
	size_t size;
	struct timespec deadline;
	bool established;
};

static const char *prog = "rdma_cm_smoke";

static void fail(const struct smoke_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(const struct smoke_conn *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: %s", prog, c ? c->role : "");
	if (c && c->peer[0])
		fprintf(stderr, " (peer %s)", c->peer);
	fputs(": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left until the deadline (0 if passed). */
static int ms_left(const struct smoke_conn *c)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	long long ms = (long long)(c->deadline.tv_sec - ts.tv_sec) * 1000 +
		       (c->deadline.tv_nsec - ts.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > 1000000 ? 1000000 : (int)ms;
}

static uint8_t pattern_w(size_t i) { return (uint8_t)(i * 7u + 13u + (i >> 8) * 3u); }
static uint8_t pattern_r(size_t i) { return (uint8_t)((i * 31u + 101u) ^ (i >> 11) ^ 0x5au); }

/* Returns 0 if buf[i] == pat(i) for all i, else logs the first mismatch. */
static int check_pattern(const struct smoke_conn *c, const char *what, const uint8_t *buf,
			 size_t size, uint8_t (*pat)(size_t))
{
	size_t bad = 0, first = 0;
	for (size_t i = 0; i < size; i++) {
		if (buf[i] != pat(i)) {
			if (!bad)
				first = i;
			bad++;
		}
	}
	if (!bad)
		return 0;
	fail(c, "%s: %zu of %zu bytes wrong, first at offset %zu (expected 0x%02x, got 0x%02x)",
	     what, bad, size, first, pat(first), buf[first]);
	return -1;
}

static const char *ev_name(enum rdma_cm_event_type t) { return rdma_event_str(t); }

/* Waits for the next rdma_cm event, which must be `want`; on a listener, a
 * CONNECT_REQUEST's new id is returned in *new_id. */
static int wait_cm_event(struct smoke_conn *c, enum rdma_cm_event_type want,
			 struct rdma_cm_id **new_id)
{
	struct pollfd pfd = { .fd = c->ech->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	int n;

	for (;;) {
		n = poll(&pfd, 1, ms_left(c));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(c, "poll(rdma_cm channel): %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			fail(c, "timed out waiting for %s", ev_name(want));
			return -1;
		}
		break;
	}
	if (rdma_get_cm_event(c->ech, &ev)) {
		fail(c, "rdma_get_cm_event: %s", strerror(errno));
		return -1;
	}
	enum rdma_cm_event_type got = ev->event;
	int status = ev->status;
	if (new_id)
		*new_id = ev->id;
	rdma_ack_cm_event(ev);
	if (got != want) {
		fail(c, "expected rdma_cm event %s, got %s (status %d%s%s)%s", ev_name(want),
		     ev_name(got), status, status < 0 ? ": " : "",
		     status < 0 ? strerror(-status) : "",
		     got == RDMA_CM_EVENT_REJECTED ? " - is a server listening on that address and port?" : "");
		return -1;
	}
	return 0;
}

/* Waits for one work completion, which must be `op` and successful. */
static int wait_wc(struct smoke_conn *c, enum ibv_wc_opcode op, const char *what)
{
	struct ibv_wc wc;
	int n;

	for (;;) {
		n = ibv_poll_cq(c->cq, 1, &wc);
		if (n < 0) {
			fail(c, "ibv_poll_cq during %s failed", what);
			return -1;
		}
		if (n > 0)
			break;
		if (ibv_req_notify_cq(c->cq, 0)) {
			fail(c, "ibv_req_notify_cq during %s failed", what);
			return -1;
		}
		n = ibv_poll_cq(c->cq, 1, &wc); /* a completion may have raced the arm */
		if (n < 0) {
			fail(c, "ibv_poll_cq during %s failed", what);
			return -1;
		}
		if (n > 0)
			break;
		/* Also watch the rdma_cm channel: a peer that gives up disconnects,
		 * and only retrieving that event flushes our posted work requests. */
		struct pollfd pfd[2] = { { .fd = c->cch->fd, .events = POLLIN },
					 { .fd = c->ech->fd, .events = POLLIN } };
		n = poll(pfd, 2, ms_left(c));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(c, "poll(completion channel) during %s: %s", what, strerror(errno));
			return -1;
		}
		if (n == 0) {
			fail(c, "timed out waiting for the completion of %s", what);
			return -1;
		}
		if (pfd[1].revents & POLLIN) {
			struct rdma_cm_event *ev;
			if (rdma_get_cm_event(c->ech, &ev)) {
				fail(c, "rdma_get_cm_event during %s: %s", what, strerror(errno));
				return -1;
			}
			enum rdma_cm_event_type t = ev->event;
			rdma_ack_cm_event(ev);
			if (t == RDMA_CM_EVENT_DISCONNECTED)
				c->established = false;
			fail(c, "%s: the peer went away (rdma_cm event %s) before it completed", what,
			     ev_name(t));
			return -1;
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		struct ibv_cq *ev_cq;
		void *ev_ctx;
		if (ibv_get_cq_event(c->cch, &ev_cq, &ev_ctx)) {
			fail(c, "ibv_get_cq_event during %s failed", what);
			return -1;
		}
		ibv_ack_cq_events(ev_cq, 1);
	}
	if (wc.status != IBV_WC_SUCCESS) {
		fail(c, "%s completed with error: %s (wc status %d, vendor_err 0x%x)", what,
		     ibv_wc_status_str(wc.status), wc.status, wc.vendor_err);
		return -1;
	}
	if (wc.opcode != op) {
		fail(c, "%s: unexpected completion opcode %d (expected %d)", what, wc.opcode, op);
		return -1;
	}
	return 0;
}

static int post_recv(struct smoke_conn *c)
{
	struct ibv_sge sge = { .addr = (uintptr_t)c->recv_msg, .length = sizeof(*c->recv_msg),
			       .lkey = c->recv_mr->lkey };
	struct ibv_recv_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1 }, *bad;
	int err = ibv_post_recv(c->id->qp, &wr, &bad);
	if (err) {
		fail(c, "ibv_post_recv: %s", strerror(err));
		return -1;
	}
	return 0;
}

static int send_msg(struct smoke_conn *c, const struct smoke_msg *m, const char *what)
{
	*c->send_msg = *m;
	struct ibv_sge sge = { .addr = (uintptr_t)c->send_msg, .length = sizeof(*m),
			       .lkey = c->send_mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 2, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED }, *bad;
	int err = ibv_post_send(c->id->qp, &wr, &bad);
	if (err) {
		fail(c, "ibv_post_send(SEND %s): %s", what, strerror(err));
		return -1;
	}
	return wait_wc(c, IBV_WC_SEND, what);
}

/* Waits for the RECV posted earlier; checks magic and type. */
static int recv_msg(struct smoke_conn *c, uint32_t type, const char *what)
{
	if (wait_wc(c, IBV_WC_RECV, what))
		return -1;
	if (be32toh(c->recv_msg->magic) != SMOKE_MAGIC || be32toh(c->recv_msg->type) != type) {
		fail(c, "%s: bad message (magic 0x%08x, type %u)", what,
		     be32toh(c->recv_msg->magic), be32toh(c->recv_msg->type));
		return -1;
	}
	return 0;
}

static int rdma_op(struct smoke_conn *c, enum ibv_wr_opcode op, uint8_t *local,
		   struct ibv_mr *mr, uint64_t raddr, uint32_t rkey)
{
	const char *what = op == IBV_WR_RDMA_WRITE ? "RDMA WRITE" : "RDMA READ";
	for (size_t off = 0; off < c->size; off += SMOKE_CHUNK) {
		size_t len = c->size - off < SMOKE_CHUNK ? c->size - off : SMOKE_CHUNK;
		struct ibv_sge sge = { .addr = (uintptr_t)(local + off), .length = (uint32_t)len,
				       .lkey = mr->lkey };
		struct ibv_send_wr wr = { .wr_id = 3, .sg_list = &sge, .num_sge = 1, .opcode = op,
					  .send_flags = IBV_SEND_SIGNALED }, *bad;
		wr.wr.rdma.remote_addr = raddr + off;
		wr.wr.rdma.rkey = rkey;
		int err = ibv_post_send(c->id->qp, &wr, &bad);
		if (err) {
			fail(c, "ibv_post_send(%s, %zu bytes at offset %zu): %s", what, len, off,
			     strerror(err));
			return -1;
		}
		if (wait_wc(c, op == IBV_WR_RDMA_WRITE ? IBV_WC_RDMA_WRITE : IBV_WC_RDMA_READ, what))
			return -1;
	}
	return 0;
}

static uint8_t *alloc_buf(struct smoke_conn *c, size_t size, const char *what)
{
	void *p = NULL;
	int err = posix_memalign(&p, 4096, size ? size : 1);
	if (err) {
		fail(c, "allocating %zu bytes for %s: %s", size, what, strerror(err));
		return NULL;
	}
	memset(p, 0, size);
	return p;
}

static struct ibv_mr *reg(struct smoke_conn *c, void *p, size_t len, int access, const char *what)
{
	struct ibv_mr *mr = ibv_reg_mr(c->pd, p, len, access);
	if (!mr)
		fail(c, "ibv_reg_mr(%s, %zu bytes): %s%s", what, len, strerror(errno),
		     errno == ENOMEM ? " (memlock limit? try ulimit -l unlimited)" : "");
	return mr;
}

/* PD, CQ with completion channel, RC QP, message buffers, one pre-posted RECV. */
static int setup_resources(struct smoke_conn *c, struct rdma_cm_id *id)
{
	c->pd = ibv_alloc_pd(id->verbs);
	if (!c->pd) {
		fail(c, "ibv_alloc_pd on %s: %s", ibv_get_device_name(id->verbs->device),
		     strerror(errno));
		return -1;
	}
	c->cch = ibv_create_comp_channel(id->verbs);
	if (!c->cch) {
		fail(c, "ibv_create_comp_channel: %s", strerror(errno));
		return -1;
	}
	c->cq = ibv_create_cq(id->verbs, 16, NULL, c->cch, 0);
	if (!c->cq) {
		fail(c, "ibv_create_cq: %s", strerror(errno));
		return -1;
	}
	struct ibv_qp_init_attr qa = {
		.send_cq = c->cq, .recv_cq = c->cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8, .max_send_sge = 1, .max_recv_sge = 1 },
	};
	if (rdma_create_qp(id, c->pd, &qa)) {
		fail(c, "rdma_create_qp: %s", strerror(errno));
		return -1;
	}
	c->qp_created = true;
	c->send_msg = (struct smoke_msg *)alloc_buf(c, sizeof(struct smoke_msg), "send message");
	c->recv_msg = (struct smoke_msg *)alloc_buf(c, sizeof(struct smoke_msg), "recv message");
	if (!c->send_msg || !c->recv_msg)
		return -1;
	c->send_mr = reg(c, c->send_msg, sizeof(struct smoke_msg), IBV_ACCESS_LOCAL_WRITE, "send message");
	c->recv_mr = reg(c, c->recv_msg, sizeof(struct smoke_msg), IBV_ACCESS_LOCAL_WRITE, "recv message");
	if (!c->send_mr || !c->recv_mr)
		return -1;
	c->buf_w = alloc_buf(c, c->size, "write region");
	c->buf_r = alloc_buf(c, c->size, "read region");
	if (!c->buf_w || !c->buf_r)
		return -1;
	return 0;
}

static void teardown(struct smoke_conn *c)
{
	if (c->qp_created)
		rdma_destroy_qp(c->id);
	if (c->mr_w)
		ibv_dereg_mr(c->mr_w);
	if (c->mr_r)
		ibv_dereg_mr(c->mr_r);
	if (c->send_mr)
		ibv_dereg_mr(c->send_mr);
	if (c->recv_mr)
		ibv_dereg_mr(c->recv_mr);
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->cch)
		ibv_destroy_comp_channel(c->cch);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->id)
		rdma_destroy_id(c->id);
	if (c->listen_id)
		rdma_destroy_id(c->listen_id);
	if (c->ech)
		rdma_destroy_event_channel(c->ech);
	free(c->buf_w);
	free(c->buf_r);
	free(c->send_msg);
	free(c->recv_msg);
}

static int parse_addr(struct smoke_conn *c, const char *host, uint16_t port,
		      struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_family = AF_UNSPEC }, *res;
	int err = getaddrinfo(host, NULL, &hints, &res);
	if (err) {
		fail(c, "bad address '%s': %s", host, gai_strerror(err));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	return 0;
}

static void set_deadline(struct smoke_conn *c, int timeout_s)
{
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += timeout_s;
}

/* Server: listen, accept one client, serve one descriptor exchange, check the
 * written region, report, wait for the disconnect. `ready_fd` >= 0: the port
 * is written there (as uint16_t) once listening. */
static int run_server(const char *bind_addr, uint16_t port, size_t size, int timeout_s,
		      int ready_fd)
{
	struct smoke_conn c = { .role = "server", .size = size };
	struct sockaddr_storage ss;
	struct rdma_cm_id *cid = NULL;
	int ret = -1;

	set_deadline(&c, timeout_s);
	if (parse_addr(&c, bind_addr, port, &ss))
		return 1;
	c.ech = rdma_create_event_channel();
	if (!c.ech) {
		fail(&c, "rdma_create_event_channel: %s (is rdma_ucm loaded? /dev/infiniband/rdma_cm?)",
		     strerror(errno));
		goto out;
	}
	if (rdma_create_id(c.ech, &c.listen_id, NULL, RDMA_PS_TCP)) {
		fail(&c, "rdma_create_id: %s", strerror(errno));
		goto out;
	}
	if (rdma_bind_addr(c.listen_id, (struct sockaddr *)&ss)) {
		fail(&c, "rdma_bind_addr(%s:%u): %s", bind_addr, port, strerror(errno));
		goto out;
	}
	if (rdma_listen(c.listen_id, 1)) {
		fail(&c, "rdma_listen(%s:%u): %s", bind_addr, port, strerror(errno));
		goto out;
	}
	port = be16toh(rdma_get_src_port(c.listen_id));
	printf("%s: server listening on %s:%u (device %s)\n", prog, bind_addr, port,
	       c.listen_id->verbs ? ibv_get_device_name(c.listen_id->verbs->device) : "any");
	fflush(stdout);
	if (ready_fd >= 0) {
		uint16_t p = port;
		if (write(ready_fd, &p, sizeof(p)) != (ssize_t)sizeof(p)) {
			fail(&c, "writing the ready signal: %s", strerror(errno));
			goto out;
		}
		close(ready_fd);
	}

	if (wait_cm_event(&c, RDMA_CM_EVENT_CONNECT_REQUEST, &cid))
		goto out;
	c.id = cid;
	{
		struct sockaddr *pa = rdma_get_peer_addr(cid);
		char h[INET6_ADDRSTRLEN] = "?";
		if (pa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)pa)->sin_addr, h, sizeof(h));
		else if (pa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)pa)->sin6_addr, h, sizeof(h));
		snprintf(c.peer, sizeof(c.peer), "client %s via %s", h,
			 ibv_get_device_name(cid->verbs->device));
	}
	if (setup_resources(&c, cid))
		goto reject;
	for (size_t i = 0; i < size; i++)
		c.buf_r[i] = pattern_r(i);
	c.mr_w = reg(&c, c.buf_w, size ? size : 1, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
		     "write region");
	c.mr_r = reg(&c, c.buf_r, size ? size : 1, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ,
		     "read region");
	if (!c.mr_w || !c.mr_r || post_recv(&c))
		goto reject;

	struct rdma_conn_param cp = { .responder_resources = 1, .initiator_depth = 1,
				      .rnr_retry_count = 7 };
	if (rdma_accept(cid, &cp)) {
		fail(&c, "rdma_accept: %s", strerror(errno));
		goto out;
	}
	if (wait_cm_event(&c, RDMA_CM_EVENT_ESTABLISHED, NULL))
		goto out;
	c.established = true;

	struct smoke_msg m = {
		.magic = htobe32(SMOKE_MAGIC), .type = htobe32(MSG_DESC), .size = htobe64(size),
		.addr_w = htobe64((uintptr_t)c.buf_w), .addr_r = htobe64((uintptr_t)c.buf_r),
		.rkey_w = htobe32(c.mr_w->rkey), .rkey_r = htobe32(c.mr_r->rkey),
	};
	if (send_msg(&c, &m, "SEND of the buffer descriptor"))
		goto out;
	/* The RECV posted before rdma_accept takes the client's DONE. */
	if (recv_msg(&c, MSG_DONE, "RECV of the client's DONE"))
		goto out;
	int client_status = (int32_t)be32toh((uint32_t)c.recv_msg->status);
	int my_status = check_pattern(&c, "data written by the client's RDMA WRITE", c.buf_w, size,
				      pattern_w);
	m = (struct smoke_msg){ .magic = htobe32(SMOKE_MAGIC), .type = htobe32(MSG_ACK),
				.status = (int32_t)htobe32((uint32_t)my_status) };
	if (send_msg(&c, &m, "SEND of the ACK"))
		goto out;
	if (wait_cm_event(&c, RDMA_CM_EVENT_DISCONNECTED, NULL))
		goto out;
	c.established = false;
	if (client_status) {
		fail(&c, "the client reported that its RDMA READ check failed");
		goto out;
	}
	if (my_status)
		goto out;
	printf("%s: server ok: %zu bytes written by %s verified\n", prog, size, c.peer);
	ret = 0;
	goto out;

reject:
	rdma_reject(cid, NULL, 0);
out:
	if (c.established)
		rdma_disconnect(c.id);
	teardown(&c);
	return ret ? 1 : 0;
}

static int run_client(const char *src_addr, const char *dst_addr, uint16_t port, size_t size,
		      int timeout_s)
{
	struct smoke_conn c = { .role = "client", .size = size };
	struct sockaddr_storage src, dst;
	int ret = -1;
	double t0 = now_s();

	set_deadline(&c, timeout_s);
	snprintf(c.peer, sizeof(c.peer), "server %s:%u%s%s", dst_addr, port,
		 src_addr ? " from " : "", src_addr ? src_addr : "");
	if (parse_addr(&c, dst_addr, port, &dst) || (src_addr && parse_addr(&c, src_addr, 0, &src)))
		return 1;
	c.ech = rdma_create_event_channel();
	if (!c.ech) {
		fail(&c, "rdma_create_event_channel: %s (is rdma_ucm loaded? /dev/infiniband/rdma_cm?)",
		     strerror(errno));
		goto out;
	}
	if (rdma_create_id(c.ech, &c.id, NULL, RDMA_PS_TCP)) {
		fail(&c, "rdma_create_id: %s", strerror(errno));
		goto out;
	}
	int tmo = ms_left(&c) < 5000 ? ms_left(&c) : 5000;
	if (rdma_resolve_addr(c.id, src_addr ? (struct sockaddr *)&src : NULL,
			      (struct sockaddr *)&dst, tmo)) {
		fail(&c, "rdma_resolve_addr: %s", strerror(errno));
		goto out;
	}
	if (wait_cm_event(&c, RDMA_CM_EVENT_ADDR_RESOLVED, NULL))
		goto out;
	if (rdma_resolve_route(c.id, tmo)) {
		fail(&c, "rdma_resolve_route: %s", strerror(errno));
		goto out;
	}
	if (wait_cm_event(&c, RDMA_CM_EVENT_ROUTE_RESOLVED, NULL))
		goto out;
	const char *dev = ibv_get_device_name(c.id->verbs->device);
	size_t plen = strlen(c.peer);
	snprintf(c.peer + plen, sizeof(c.peer) - plen, " via %s", dev);

	if (setup_resources(&c, c.id))
		goto out;
	for (size_t i = 0; i < size; i++)
		c.buf_w[i] = pattern_w(i);
	c.mr_w = reg(&c, c.buf_w, size ? size : 1, IBV_ACCESS_LOCAL_WRITE, "write source");
	c.mr_r = reg(&c, c.buf_r, size ? size : 1, IBV_ACCESS_LOCAL_WRITE, "read sink");
	if (!c.mr_w || !c.mr_r || post_recv(&c))
		goto out;

	struct rdma_conn_param cp = { .responder_resources = 1, .initiator_depth = 1,
				      .retry_count = 7, .rnr_retry_count = 7 };
	if (rdma_connect(c.id, &cp)) {
		fail(&c, "rdma_connect: %s", strerror(errno));
		goto out;
	}
	if (wait_cm_event(&c, RDMA_CM_EVENT_ESTABLISHED, NULL))
		goto out;
	c.established = true;
	double t_conn = now_s();

	if (recv_msg(&c, MSG_DESC, "RECV of the buffer descriptor"))
		goto out;
	uint64_t rsize = be64toh(c.recv_msg->size);
	uint64_t addr_w = be64toh(c.recv_msg->addr_w), addr_r = be64toh(c.recv_msg->addr_r);
	uint32_t rkey_w = be32toh(c.recv_msg->rkey_w), rkey_r = be32toh(c.recv_msg->rkey_r);
	if (rsize != size) {
		fail(&c, "server offers %" PRIu64 " bytes, client wants %zu (use the same --size)",
		     rsize, size);
		goto out;
	}
	if (post_recv(&c))
		goto out;
	if (rdma_op(&c, IBV_WR_RDMA_WRITE, c.buf_w, c.mr_w, addr_w, rkey_w))
		goto out;
	double t_w = now_s();
	if (rdma_op(&c, IBV_WR_RDMA_READ, c.buf_r, c.mr_r, addr_r, rkey_r))
		goto out;
	double t_r = now_s();
	int my_status = check_pattern(&c, "data returned by RDMA READ", c.buf_r, size, pattern_r);

	struct smoke_msg m = { .magic = htobe32(SMOKE_MAGIC), .type = htobe32(MSG_DONE),
			       .status = (int32_t)htobe32((uint32_t)my_status) };
	if (send_msg(&c, &m, "SEND of DONE"))
		goto out;
	if (recv_msg(&c, MSG_ACK, "RECV of the server's ACK"))
		goto out;
	int server_status = (int32_t)be32toh((uint32_t)c.recv_msg->status);
	if (rdma_disconnect(c.id)) {
		fail(&c, "rdma_disconnect: %s", strerror(errno));
		goto out;
	}
	c.established = false;
	if (wait_cm_event(&c, RDMA_CM_EVENT_DISCONNECTED, NULL))
		goto out;
	if (server_status) {
		fail(&c, "the server reported that the data of the RDMA WRITE was wrong");
		goto out;
	}
	if (my_status)
		goto out;
	printf("%s: client ok: %s: RDMA WRITE %zu bytes (%.3f s), RDMA READ %zu bytes (%.3f s), "
	       "verified; connect %.3f s, total %.3f s\n",
	       prog, c.peer, size, t_w - t_conn, size, t_r - t_w, t_conn - t0, now_s() - t0);
	ret = 0;
out:
	if (c.established)
		rdma_disconnect(c.id);
	teardown(&c);
	return ret ? 1 : 0;
}

static size_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end || v == 0 || v > (1ull << 32))
		return 0;
	return (size_t)v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [--bind ADDR] [--connect ADDR [--src ADDR]] [--port N] [--size BYTES] [--timeout SEC]\n"
		"  --bind only: server; --connect only: client; both: fork a server and connect to it\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, 'b' },    { "connect", required_argument, NULL, 'c' },
		{ "src", required_argument, NULL, 's' },     { "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 'S' },    { "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	const char *bind_addr = NULL, *connect_addr = NULL, *src_addr = NULL;
	int port = -1, timeout_s = 60, opt;
	size_t size = 1u << 20;

	while ((opt = getopt_long(argc, argv, "b:c:s:p:S:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': bind_addr = optarg; break;
		case 'c': connect_addr = optarg; break;
		case 's': src_addr = optarg; break;
		case 'p':
			port = atoi(optarg);
			if (port < 0 || port > 65535)
				usage();
			break;
		case 'S':
			size = parse_size(optarg);
			if (!size) {
				fprintf(stderr, "%s: bad --size '%s' (1 .. 4g)\n", prog, optarg);
				exit(2);
			}
			break;
		case 't':
			timeout_s = atoi(optarg);
			if (timeout_s <= 0)
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc || (!bind_addr && !connect_addr))
		usage();

	/* Last resort against a hang in a call that has no timeout of its own. */
	alarm((unsigned)timeout_s + 10);

	if (bind_addr && !connect_addr)
		return run_server(bind_addr, port < 0 ? SMOKE_DEFAULT_PORT : (uint16_t)port, size,
				  timeout_s, -1);
	if (connect_addr && !bind_addr)
		return run_client(src_addr, connect_addr, port < 0 ? SMOKE_DEFAULT_PORT : (uint16_t)port,
				  size, timeout_s);

	/* Both: server in a child (port 0 = any free port unless --port), client here. */
	int pfd[2];
	if (pipe(pfd)) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		return 1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(pfd[0]);
		alarm((unsigned)timeout_s + 10); /* alarms are not inherited across fork */
		_exit(run_server(bind_addr, port < 0 ? 0 : (uint16_t)port, size, timeout_s, pfd[1]));
	}
	close(pfd[1]);
	uint16_t sport;
	ssize_t n;
	do
		n = read(pfd[0], &sport, sizeof(sport));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	int rc;
	if (n != (ssize_t)sizeof(sport)) {
		fprintf(stderr, "%s: the server (pid %d) exited before it was listening\n", prog, (int)pid);
		rc = 1;
	} else {
		rc = run_client(src_addr, connect_addr, sport, size, timeout_s);
		if (rc)
			kill(pid, SIGTERM); /* it may be waiting for a client that will not come */
	}
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid(server %d): %s\n", prog, (int)pid, strerror(errno));
			return 1;
		}
	}
	if (WIFSIGNALED(st)) {
		if (!(rc && WTERMSIG(st) == SIGTERM))
			fprintf(stderr, "%s: server (pid %d) killed by signal %d\n", prog, (int)pid,
				WTERMSIG(st));
		return 1;
	}
	if (WEXITSTATUS(st)) {
		fprintf(stderr, "%s: server (pid %d) failed with status %d\n", prog, (int)pid,
			WEXITSTATUS(st));
		return 1;
	}
	if (rc == 0)
		printf("%s: ok\n", prog);
	return rc;
}
