/* SPDX-License-Identifier: MIT */
/* mig_queue.c - a streamed queue of jobs, at most k at once (mig_queue.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "policy/mig_queue.h"

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t ended;
	mq_job_fn *job;
	void *arg;
	mq_event_fn *ev;
	void *evarg;
	unsigned running;
	size_t ok;
	int first_rc; /* the first failure, 0 */
};

struct slot {
	struct queue *q;
	size_t i;
	pthread_t th;
	int started;
};

static void event(struct queue *q, enum mq_event e, size_t i, int rc)
{
	if (q->ev)
		q->ev(q->evarg, e, i, q->running, rc);
}

static void *job_main(void *p)
{
	struct slot *s = p;
	struct queue *q = s->q;
	int rc = q->job(q->arg, s->i);

	pthread_mutex_lock(&q->mu);
	q->running--;
	if (rc < 0 && !q->first_rc)
		q->first_rc = rc;
	q->ok += rc >= 0;
	event(q, MQ_END, s->i, rc);
	pthread_cond_signal(&q->ended);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int mq_run(size_t n, unsigned k, const volatile sig_atomic_t *stop, mq_job_fn *job, void *arg,
	   mq_event_fn *ev, void *evarg)
{
	struct queue q = { .job = job, .arg = arg, .ev = ev, .evarg = evarg };
	struct slot *s;
	size_t next = 0;
	int rc;

	if (!job || n > MQ_MAX_JOBS || k > MQ_MAX_K)
		return -EINVAL;
	k = k ? k : 1;
	if (!(s = calloc(n ? n : 1, sizeof(*s))))
		return -ENOMEM;
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.ended, NULL);
	pthread_mutex_lock(&q.mu);
	for (;;) {
		/* every free slot filled, in order, until a failure or a stop */
		if (next < n && stop && *stop && !q.first_rc)
			q.first_rc = -EINTR;
		while (next < n && q.running < k && !q.first_rc) {
			s[next] = (struct slot){ .q = &q, .i = next };
			q.running++;
			event(&q, MQ_START, next, 0);
			if ((rc = pthread_create(&s[next].th, NULL, job_main, &s[next])) != 0) {
				q.running--;
				q.first_rc = -rc;
				event(&q, MQ_END, next, -rc);
				break;
			}
			s[next++].started = 1;
		}
		if (q.running == 0 && (next == n || q.first_rc))
			break;
		pthread_cond_wait(&q.ended, &q.mu);
	}
	pthread_mutex_unlock(&q.mu);
	for (size_t i = 0; i < next; i++)
		if (s[i].started)
			pthread_join(s[i].th, NULL);
	pthread_cond_destroy(&q.ended);
	pthread_mutex_destroy(&q.mu);
	free(s);
	return q.first_rc ? q.first_rc : (int)q.ok;
}
