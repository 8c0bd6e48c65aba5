/* SPDX-License-Identifier: MIT */
/*
 * testhooks.c - the hooks of testhooks.h; linked into the static test
 * library only.
 */
#include "proto/testhooks.h"

uint16_t proto_test_wire_version = WIRE_VERSION;
uint64_t proto_test_corrupt_seq = UINT64_MAX;
uint32_t proto_test_link_pause_ms;
