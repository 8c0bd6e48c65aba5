/* SPDX-License-Identifier: MIT */
/*
 * testhooks.h - what the conformance tests may change in the protocol
 * engine: the wire version this side speaks (to see a peer refuse another),
 * one chunk damaged on arrival (to see CRC32C catch it) and a pause after
 * each link a client connected (link setup as slow as rdma_cm's address
 * and route resolution under load).
 *
 * Only the static test library (rvmig_static, never installed) has the
 * hooks: setup.c and recv.c are compiled twice (librvmig/proto/CMakeLists.txt),
 * with RVMIG_TEST_HOOKS for it and without for the shared library, where
 * the functions below are constants and the variables do not exist (so a
 * program that sets a hook cannot link against the shipped library, and
 * unit.abi_exports checks that no proto_test_ symbol is in it).
 */
#ifndef PROTO_TESTHOOKS_H
#define PROTO_TESTHOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/wire.h"

/* The protocol version this side sends in its hello and accepts from a
 * peer; WIRE_VERSION unless a test sets another.  Defined in testhooks.c. */
extern uint16_t proto_test_wire_version;
/* Sequence number of the chunk the receiver damages (one bit flipped)
 * before its CRC32C check; UINT64_MAX (the default): none. */
extern uint64_t proto_test_corrupt_seq;
/* Milliseconds rvmig_connect() sleeps after each link but the last is up;
 * 0 (the default): none. */
extern uint32_t proto_test_link_pause_ms;

#ifdef RVMIG_TEST_HOOKS
static inline uint16_t proto_wire_version(void)
{
	return proto_test_wire_version;
}

static inline bool proto_damages_chunk(uint64_t seq)
{
	return seq == proto_test_corrupt_seq;
}

static inline uint32_t proto_link_pause_ms(void)
{
	return proto_test_link_pause_ms;
}
#else
static inline uint16_t proto_wire_version(void)
{
	return WIRE_VERSION;
}

static inline bool proto_damages_chunk(uint64_t seq)
{
	(void)seq;
	return false;
}

static inline uint32_t proto_link_pause_ms(void)
{
	return 0;
}
#endif

#endif /* PROTO_TESTHOOKS_H */
