/* SPDX-License-Identifier: MIT */
/*
 * The streamed queue rvmig-policy --apply runs a batch's migrations in
 * (tools/policy/mig_queue.c), with real threads and jobs that end in a
 * scripted order: the trace of starts and ends is exact, at most k run at
 * once, the next in the planner's order starts the moment one ends (not
 * in waves: a wave runner would never start job k before all of the first
 * k ended, and the scripted end that needs it times out), a failure
 * starts no more.  No Xen: what runs is the queue, not a migration.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "policy/mig_queue.h"

#define MAXJ 16

struct script {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned k, n;
	size_t turn_of[MAXJ];   /* job i ends at its turn */
	int fail_of[MAXJ];      /* its status */
	size_t turn;            /* turns taken */
	size_t starts;          /* MQ_START events seen */
	int no_start_wait;      /* a job waits for its turn only */
	unsigned max_running;
	char trace[1024];
	int timed_out;
};

static void trace_add(struct script *s, char what, size_t i)
{
	size_t n = strlen(s->trace);

	snprintf(s->trace + n, sizeof(s->trace) - n, "%c%zu ", what, i);
}

/* Job i ends at its turn (a turn is taken when the queue reports the
 * end before it), once every start that must come before that turn has
 * been seen (min(n, k + turn): a streamed queue has started that many by
 * then), so the trace does not depend on thread timing. */
static int job(void *arg, size_t i)
{
	struct script *s = arg;
	struct timespec dl;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&s->mu);
	while (s->turn != s->turn_of[i] ||
	       (!s->no_start_wait &&
		s->starts < (s->k + s->turn < s->n ? s->k + s->turn : s->n))) {
		if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT) {
			s->timed_out = 1;
			rc = -ETIMEDOUT;
			break;
		}
	}
	if (!rc)
		rc = s->fail_of[i];
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Called with the queue's lock held (one at a time); our own lock for
 * the script's state. */
static void event(void *arg, enum mq_event ev, size_t i, unsigned running, int rc)
{
	struct script *s = arg;

	(void)rc;
	pthread_mutex_lock(&s->mu);
	trace_add(s, ev == MQ_START ? 's' : 'e', i);
	if (ev == MQ_START)
		s->starts++;
	else
		s->turn++;
	if (running > s->max_running)
		s->max_running = running;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int run(struct script *s, unsigned k, unsigned n, const size_t *end_order)
{
	int rc;

	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->k = k;
	s->n = n;
	for (size_t t = 0; t < n; t++)
		s->turn_of[end_order[t]] = t;
	rc = mq_run(n, k, NULL, job, s, event, s);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	return rc;
}

Test(mig_queue, streamed_k2)
{
	/* k = 2, five jobs ending 1, 0, 3, 2, 4: each end lets the next in
	 * order start at once */
	static const size_t ends[] = { 1, 0, 3, 2, 4 };
	struct script s = { 0 };

	cr_assert_eq(run(&s, 2, 5, ends), 5);
	cr_assert_not(s.timed_out);
	cr_assert_str_eq(s.trace, "s0 s1 e1 s2 e0 s3 e3 s4 e2 e4 ");
	cr_assert_eq(s.max_running, 2);
}

Test(mig_queue, k1_one_at_a_time)
{
	/* k = 1 (the default, as Nova): strictly one after the other */
	static const size_t ends[] = { 0, 1, 2 };
	struct script s = { 0 };

	cr_assert_eq(run(&s, 1, 3, ends), 3);
	cr_assert_str_eq(s.trace, "s0 e0 s1 e1 s2 e2 ");
	cr_assert_eq(s.max_running, 1);
}

Test(mig_queue, k3_long_first_job)
{
	/* k = 3, job 0 the longest: 3, 4, 5 start as 1, 2, 3 end, while 0
	 * still runs -- never more than 3 */
	static const size_t ends[] = { 1, 2, 3, 4, 0, 5 };
	struct script s = { 0 };

	cr_assert_eq(run(&s, 3, 6, ends), 6);
	cr_assert_str_eq(s.trace, "s0 s1 s2 e1 s3 e2 s4 e3 s5 e4 e0 e5 ");
	cr_assert_eq(s.max_running, 3);
}

Test(mig_queue, k_above_n_and_zero)
{
	static const size_t ends[] = { 1, 0 };
	struct script s = { 0 }, z = { 0 };

	cr_assert_eq(run(&s, 8, 2, ends), 2);
	cr_assert_str_eq(s.trace, "s0 s1 e1 e0 ");
	cr_assert_eq(run(&z, 0, 2, (const size_t[]){ 0, 1 }), 2, "k 0 is 1");
	cr_assert_str_eq(z.trace, "s0 e0 s1 e1 ");
}

Test(mig_queue, failure_starts_no_more)
{
	/* k = 2, job 1 fails first: job 0 runs on to its end, 2 and 3 never
	 * start, the failure is returned */
	static const size_t ends[] = { 1, 0, 2, 3 };
	struct script s = { 0 };

	s.fail_of[1] = -EIO;
	s.no_start_wait = 1; /* no start comes after the failure */
	cr_assert_eq(run(&s, 2, 4, ends), -EIO);
	cr_assert_not(s.timed_out);
	cr_assert_str_eq(s.trace, "s0 s1 e1 e0 ");
}

Test(mig_queue, refusals)
{
	cr_assert_eq(mq_run(MQ_MAX_JOBS + 1, 1, NULL, job, NULL, NULL, NULL), -EINVAL);
	cr_assert_eq(mq_run(1, MQ_MAX_K + 1, NULL, job, NULL, NULL, NULL), -EINVAL);
	cr_assert_eq(mq_run(1, 1, NULL, NULL, NULL, NULL, NULL), -EINVAL);
	cr_assert_eq(mq_run(0, 1, NULL, job, NULL, NULL, NULL), 0, "nothing to run");
}

/* A stop request (rvmig-policy's tool_stop) made while job 0 runs starts
 * no further job: -EINTR, job 0 alone ran. */
static volatile sig_atomic_t stop_flag;

static int stopping_job(void *arg, size_t i)
{
	size_t *ran = arg;

	(void)i;
	(*ran)++;
	stop_flag = 1;
	return 0;
}

Test(mig_queue, stop_starts_no_more)
{
	size_t ran = 0;

	cr_assert_eq(mq_run(3, 1, &stop_flag, stopping_job, &ran, NULL, NULL), -EINTR);
	cr_assert_eq(ran, 1, "%zu jobs ran after the stop", ran);
	cr_assert_eq(mq_run(2, 1, &stop_flag, stopping_job, &ran, NULL, NULL), -EINTR);
	cr_assert_eq(ran, 1, "a job started with the stop asked already");
}
