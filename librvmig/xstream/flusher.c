/* SPDX-License-Identifier: MIT */
/* flusher.c - fdatasync() of a file output in a worker thread (flusher.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "xstream/flusher.h"

struct flusher {
	int fd;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool want, stop;
	int err;
};

static void *worker(void *arg)
{
	struct flusher *f = arg;

	pthread_mutex_lock(&f->mu);
	while (!f->stop) {
		int rc;

		if (!f->want) {
			pthread_cond_wait(&f->cv, &f->mu);
			continue;
		}
		f->want = false;
		pthread_mutex_unlock(&f->mu);
		rc = fdatasync(f->fd) ? -errno : 0;
		pthread_mutex_lock(&f->mu);
		if (rc && rc != -EINTR && !f->err)
			f->err = rc;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

struct flusher *flusher_start(int fd)
{
	struct flusher *f = calloc(1, sizeof(*f));
	sigset_t all, old;
	int rc;

	if (!f)
		return NULL;
	f->fd = fd;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	/* Signals stay with the caller's threads (its stop flag). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&f->thr, NULL, worker, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pthread_cond_destroy(&f->cv);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return NULL;
	}
	return f;
}

void flusher_kick(struct flusher *f)
{
	pthread_mutex_lock(&f->mu);
	f->want = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

int flusher_error(struct flusher *f)
{
	int err;

	pthread_mutex_lock(&f->mu);
	err = f->err;
	pthread_mutex_unlock(&f->mu);
	return err;
}

int flusher_stop(struct flusher *f)
{
	int err;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thr, NULL);
	err = f->err;
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return err;
}
