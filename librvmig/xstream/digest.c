/* SPDX-License-Identifier: MIT */
/*
 * digest.c - XXH3-128 or SHA-256, inline or in a worker thread (digest.h).
 *
 * A ring of (pointer, length) entries under one mutex.  The producer appends
 * (or extends the newest entry when the new run directly follows it and the
 * worker has not taken it yet); the worker takes the oldest entry, hashes it
 * without the lock, then publishes the new `done` total and signals.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#ifdef RVMIG_HAVE_XXH_DISPATCH
/* XXH3 with the widest vector unit the CPU has (AVX2 / AVX-512), chosen at
 * run time; without it the library's SSE2 build (a quarter of the speed on
 * an AVX-512 host: 5.5 against 22-28 GB/s, see CMakeLists.txt). */
#include <xxh_x86dispatch.h>
#define md_xxh_update XXH3_128bits_update_dispatch
#else
#define md_xxh_update XXH3_128bits_update
#endif

#include "xstream/digest.h"

struct hasher_ent {
	const uint8_t *p; /* NULL: zeros */
	uint64_t len;
};

/* One running digest of either algorithm. */
struct md {
	enum rvmig_digest_alg alg;
	EVP_MD_CTX *evp;   /* RVMIG_DIGEST_SHA256 */
	XXH3_state_t *xxh; /* RVMIG_DIGEST_XXH128 */
};

struct hasher {
	struct md ctx;
	bool threaded;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t more;  /* producer -> worker: entries queued or stop */
	pthread_cond_t less;  /* worker -> producer: an entry was hashed */
	struct hasher_ent q[HASHER_QUEUE];
	unsigned head, count; /* oldest entry, entries queued */
	uint64_t queued;      /* bytes in q */
	bool busy;            /* the worker is hashing an entry taken off q */
	bool idle;            /* the worker sleeps on `more` */
	bool urgent;          /* someone waits: hash everything now */
	unsigned waiters;     /* threads sleeping on `less` */
	bool stop;
	uint64_t fed, done;
};

/* The worker is woken when this much is queued (or someone waits): one
 * wake-up per page would cost a context switch per 4 KiB. */
#define HASHER_KICK (256u << 10)

static const uint8_t zeros[65536];

const char *rvmig_digest_name(enum rvmig_digest_alg alg)
{
	return alg == RVMIG_DIGEST_SHA256 ? "sha256" : "xxh128";
}

int rvmig_digest_parse(const char *name, enum rvmig_digest_alg *alg)
{
	if (!strcmp(name, "xxh128"))
		*alg = RVMIG_DIGEST_XXH128;
	else if (!strcmp(name, "sha256"))
		*alg = RVMIG_DIGEST_SHA256;
	else
		return -EINVAL;
	return 0;
}

size_t rvmig_digest_size(enum rvmig_digest_alg alg)
{
	return alg == RVMIG_DIGEST_SHA256 ? 32 : 16;
}

static void md_free(struct md *m)
{
	EVP_MD_CTX_free(m->evp);
	XXH3_freeState(m->xxh);
	m->evp = NULL;
	m->xxh = NULL;
}

/* (Re)starts `m` with `alg`; 0 or -ENOMEM. */
static int md_init(struct md *m, enum rvmig_digest_alg alg)
{
	if (m->alg != alg)
		md_free(m);
	m->alg = alg;
	if (alg == RVMIG_DIGEST_SHA256) {
		if (!m->evp)
			m->evp = EVP_MD_CTX_new();
		return m->evp && EVP_DigestInit_ex(m->evp, EVP_sha256(), NULL) ? 0 : -ENOMEM;
	}
	if (!m->xxh)
		m->xxh = XXH3_createState();
	return m->xxh && XXH3_128bits_reset(m->xxh) == XXH_OK ? 0 : -ENOMEM;
}

static void md_update(struct md *m, const void *p, size_t len)
{
	if (m->alg == RVMIG_DIGEST_SHA256)
		EVP_DigestUpdate(m->evp, p, len);
	else
		md_xxh_update(m->xxh, p, len);
}

/* The digest so far into a zero-padded slot; `m` stays usable. */
static int md_peek(struct md *m, uint8_t out[RVMIG_DIGEST_LEN])
{
	memset(out, 0, RVMIG_DIGEST_LEN);
	if (m->alg == RVMIG_DIGEST_XXH128) {
		XXH128_canonical_t c;

		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(m->xxh));
		memcpy(out, c.digest, sizeof(c.digest));
		return 0;
	}
	unsigned int l;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_MD_CTX_copy_ex(c, m->evp) && EVP_DigestFinal_ex(c, out, &l);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -ENOMEM;
}

int rvmig_digest_buf(enum rvmig_digest_alg alg, const void *data, size_t len,
		      uint8_t out[RVMIG_DIGEST_LEN])
{
	struct md m = { .alg = alg };
	int rc = md_init(&m, alg);

	if (!rc) {
		md_update(&m, data, len);
		rc = md_peek(&m, out);
	}
	md_free(&m);
	return rc;
}

static void hash_ent(struct md *ctx, const struct hasher_ent *e)
{
	if (e->p) {
		md_update(ctx, e->p, e->len);
		return;
	}
	for (uint64_t left = e->len; left;) {
		size_t n = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
		md_update(ctx, zeros, n);
		left -= n;
	}
}

static void *worker(void *arg)
{
	struct hasher *h = arg;

	bool draining = false; /* once woken, empty the queue before sleeping */

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!draining && !h->stop && !h->urgent && h->queued < HASHER_KICK &&
		       h->count < HASHER_QUEUE / 2) {
			h->idle = true;
			pthread_cond_wait(&h->more, &h->mu);
		}
		h->idle = false;
		if (!h->count) {
			draining = false;
			h->urgent = false;
			if (h->stop)
				break;
			if (h->waiters)
				pthread_cond_broadcast(&h->less);
			continue;
		}
		draining = true;
		struct hasher_ent e = h->q[h->head];
		h->head = (h->head + 1) % HASHER_QUEUE;
		h->count--;
		h->queued -= e.len;
		h->busy = true;
		pthread_mutex_unlock(&h->mu);
		hash_ent(&h->ctx, &e);
		pthread_mutex_lock(&h->mu);
		h->busy = false;
		h->done += e.len;
		if (h->waiters)
			pthread_cond_broadcast(&h->less);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

int hasher_new(struct hasher **out, enum rvmig_digest_alg alg, bool thread)
{
	struct hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (md_init(&h->ctx, alg)) {
		md_free(&h->ctx);
		free(h);
		return -ENOMEM;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->more, NULL);
	pthread_cond_init(&h->less, NULL);
	const char *env = getenv("RVMIG_HASH_THREAD");
	if (thread && (!env || strcmp(env, "0") != 0))
		h->threaded = pthread_create(&h->thr, NULL, worker, h) == 0;
	*out = h;
	return 0;
}

static void stop_thread(struct hasher *h)
{
	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_signal(&h->more);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thr, NULL);
	h->threaded = false;
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	if (h->threaded) { /* what is queued is dropped, not hashed */
		pthread_mutex_lock(&h->mu);
		h->count = 0;
		h->queued = 0;
		pthread_mutex_unlock(&h->mu);
	}
	stop_thread(h);
	md_free(&h->ctx);
	pthread_cond_destroy(&h->more);
	pthread_cond_destroy(&h->less);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* With the lock held: makes the worker hash everything queued now and
 * sleeps until it has finished an entry (or emptied the queue). */
static void wait_worker(struct hasher *h)
{
	h->urgent = true;
	pthread_cond_signal(&h->more);
	h->waiters++;
	pthread_cond_wait(&h->less, &h->mu);
	h->waiters--;
}

static uint64_t feed(struct hasher *h, const uint8_t *p, uint64_t len)
{
	if (!len)
		return h->fed;
	struct hasher_ent e = { p, len };
	if (!h->threaded) {
		hash_ent(&h->ctx, &e);
		h->fed += len;
		h->done = h->fed;
		return h->fed;
	}
	pthread_mutex_lock(&h->mu);
	struct hasher_ent *last = h->count ? &h->q[(h->head + h->count - 1) % HASHER_QUEUE] : NULL;
	if (last && ((p && last->p && last->p + last->len == p) || (!p && !last->p))) {
		last->len += len;
	} else {
		while (h->count == HASHER_QUEUE)
			wait_worker(h);
		h->q[(h->head + h->count) % HASHER_QUEUE] = e;
		h->count++;
	}
	h->queued += len;
	h->fed += len;
	if (h->idle && (h->queued >= HASHER_KICK || h->count >= HASHER_QUEUE / 2))
		pthread_cond_signal(&h->more);
	uint64_t fed = h->fed;
	pthread_mutex_unlock(&h->mu);
	return fed;
}

uint64_t hasher_feed(struct hasher *h, const void *data, size_t len)
{
	return feed(h, data, len);
}

uint64_t hasher_feed_zero(struct hasher *h, uint64_t len)
{
	return feed(h, NULL, len);
}

uint64_t hasher_fed(const struct hasher *h)
{
	return h->fed; /* written only by the producer, which is the caller */
}

uint64_t hasher_done(struct hasher *h)
{
	if (!h->threaded)
		return h->done;
	pthread_mutex_lock(&h->mu);
	uint64_t d = h->done;
	pthread_mutex_unlock(&h->mu);
	return d;
}

void hasher_wait(struct hasher *h, uint64_t upto)
{
	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	while (h->done < upto && h->done < h->fed)
		wait_worker(h);
	pthread_mutex_unlock(&h->mu);
}

/* Waits until the worker is idle with nothing queued; returns with the lock
 * held (threaded) so the context can be used. */
static void quiesce(struct hasher *h)
{
	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	while (h->count || h->busy)
		wait_worker(h);
}

static void unquiesce(struct hasher *h)
{
	if (h->threaded)
		pthread_mutex_unlock(&h->mu);
}

int hasher_peek(struct hasher *h, uint8_t out[RVMIG_DIGEST_LEN])
{
	quiesce(h);
	int rc = md_peek(&h->ctx, out);
	unquiesce(h);
	return rc;
}

int hasher_final(struct hasher *h, uint8_t out[RVMIG_DIGEST_LEN])
{
	stop_thread(h);
	return md_peek(&h->ctx, out);
}

int hasher_reset(struct hasher *h, enum rvmig_digest_alg alg)
{
	quiesce(h);
	int rc = md_init(&h->ctx, alg);
	h->fed = h->done = 0;
	unquiesce(h);
	return rc;
}

enum rvmig_digest_alg hasher_get_alg(const struct hasher *h)
{
	return h->ctx.alg;
}

bool hasher_threaded(const struct hasher *h)
{
	return h->threaded;
}

void rvmig_digest_hex(enum rvmig_digest_alg alg, const uint8_t slot[RVMIG_DIGEST_LEN],
		      char out[2 * RVMIG_DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = rvmig_digest_size(alg);

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[slot[i] >> 4];
		out[2 * i + 1] = hex[slot[i] & 15];
	}
	out[2 * n] = 0;
}
