/* SPDX-License-Identifier: MIT */
/* keyfile.h - the key in a pre-shared key file (rvmig_key_load()). */
#ifndef RVMIG_PROTO_KEYFILE_H
#define RVMIG_PROTO_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_KEY_MIN 16  /* bytes; rvmig_ep_attr.psk_len's bounds */
#define KEYFILE_KEY_MAX 256

/* The key in a key file's bytes: without its trailing newlines (\n, \r),
 * *len set to its length.  0, -EINVAL when shorter than KEYFILE_KEY_MIN or
 * -EMSGSIZE when longer than max (a key is never cut short).  No I/O
 * (fuzzed: tests/fuzz/fuzz_keyfile.c). */
int key_parse(const uint8_t *data, size_t n, size_t max, size_t *len);

#endif
