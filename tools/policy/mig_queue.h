/* SPDX-License-Identifier: MIT */
/*
 * mig_queue.h - a batch of migrations run as a streamed queue: jobs 0..n-1
 * in that order (the planner's queue), at most k at once, each started the
 * moment a running one ends -- not in fixed waves of k -- as the planner's
 * simulation assumes (rvmig_planner(3)).  What rvmig-policy --apply does
 * with a batch's due migrations at the planner's k.
 *
 * Threads: mq_run() runs each job in a thread of its own (a job is a
 * blocking xl migrate of minutes) and waits for them on the caller's
 * thread; the event callback is called with the queue's lock held, from
 * the caller's thread (start) or the job's (end), one at a time.  A job
 * that fails stops the queue from starting more; those running finish.
 */
#ifndef RVMIG_TOOLS_POLICY_MIG_QUEUE_H
#define RVMIG_TOOLS_POLICY_MIG_QUEUE_H

#include <signal.h>
#include <stddef.h>

#define MQ_MAX_JOBS 4096
#define MQ_MAX_K 256

/* Runs job i; 0 or a negative errno. */
typedef int mq_job_fn(void *arg, size_t i);

enum mq_event { MQ_START = 1, MQ_END = 2 };

/* A job started or ended; `running`: how many run now (after a start,
 * with it; after an end, without it); rc: an end's status. */
typedef void mq_event_fn(void *arg, enum mq_event ev, size_t i, unsigned running, int rc);

/*
 * Runs jobs 0..n-1, at most k at once (k 0 is 1), in order; once *stop
 * is non-zero (stop NULL: never; tool_stop of common/stop.h) no further
 * job is started, those running finish.  Returns how many ran and
 * succeeded when all did, or the first failure's negative errno (a thread
 * that could not be started: its -errno), or -EINTR when a stop left jobs
 * unstarted; never before every started job has ended.  -EINVAL
 * (n > MQ_MAX_JOBS, k > MQ_MAX_K).
 */
int mq_run(size_t n, unsigned k, const volatile sig_atomic_t *stop, mq_job_fn *job, void *arg,
	   mq_event_fn *ev, void *evarg);

#endif
