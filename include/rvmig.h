/* SPDX-License-Identifier: MIT */
/*
 * rvmig.h - umbrella header of librvmig: moves VM checkpoints and live
 * migration streams between hosts over RDMA (InfiniBand verbs, RoCE) or TCP.
 *
 *   rvmig/common.h   contexts, errors, logging
 *   rvmig/xfer.h     endpoints, memory regions, client/server/receiver
 *   rvmig/stream.h   push parser for Xen save / migration streams
 *   rvmig/xstream.h  a whole stream over an endpoint: sender, receiver,
 *                    their messages and digest
 *   rvmig/policy.h   utility, good/bad map, decider, parallel-migration planner
 *   rvmig/act.h      actuators: cgroup and Xen CPU settings applied, read back, undone
 *   rvmig/monitor.h  per-domain run / blocked / waiting time, CPU, memory;
 *                    the host's rvmig transfers
 *   rvmig/publish.h  a process shows its transfers to the monitor
 */
#ifndef RVMIG_H
#define RVMIG_H

#include <rvmig/common.h>
#include <rvmig/xfer.h>
#include <rvmig/stream.h>
#include <rvmig/xstream.h>
#include <rvmig/monitor.h>
#include <rvmig/publish.h>
#include <rvmig/policy.h>
#include <rvmig/act.h>

#endif
