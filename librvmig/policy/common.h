/* SPDX-License-Identifier: MIT */
/* Internal helpers of the policy model (librvmig/policy/): size-prefixed
 * structs in and out, the error text buffer, SLA defaults. */
#ifndef RVMIG_POLICY_COMMON_H
#define RVMIG_POLICY_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rvmig/policy.h>

/*
 * Copies a caller's size-prefixed struct into *dst (dstsz bytes): the
 * fields its `size` covers, the rest zero (their defaults).  src NULL: all
 * defaults.  -EINVAL for a size smaller than the size member itself.
 */
static inline int pol_in(void *dst, size_t dstsz, const void *src)
{
	size_t n;

	memset(dst, 0, dstsz);
	if (!src)
		return 0;
	memcpy(&n, src, sizeof(n));
	if (n < sizeof(size_t))
		return -EINVAL;
	memcpy(dst, src, n < dstsz ? n : dstsz);
	memcpy(dst, &dstsz, sizeof(dstsz));
	return 0;
}

/* Copies *src (srcsz bytes, a full struct) into the caller's *dst up to
 * dst->size, leaving dst->size alone.  -EINVAL for a size below `need`. */
static inline int pol_out(void *dst, const void *src, size_t srcsz, size_t need)
{
	size_t n;

	memcpy(&n, dst, sizeof(n));
	if (n < need || n < sizeof(size_t))
		return -EINVAL;
	if (n > srcsz)
		n = srcsz;
	memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
	       n - sizeof(size_t));
	return 0;
}

/* Formats a message into err (errlen bytes, NUL-terminated); nothing when
 * err is NULL.  Returns rc, so `return pol_err(err, len, -EINVAL, ...)`. */
__attribute__((format(printf, 4, 5)))
int pol_err(char *err, size_t errlen, int rc, const char *fmt, ...);

/* An SLA checked and with its defaults filled (the nested struct of an
 * attr: its size is that of the outer struct, so `size` is ignored).
 * -EINVAL with err saying why. */
int pol_sla_norm(const struct rvmig_sla *in, struct rvmig_sla *out, char *err, size_t errlen);

/* Name of the metric an SLA reads ("p99_ms", ..., "cpu_share"). */
const char *pol_metric_name(const struct rvmig_sla *sla);

/* true for a finite x >= lo (strictly > lo when `strict`). */
static inline int pol_num_ok(double x, double lo, int strict)
{
	return x == x && x < __builtin_inf() && x > -__builtin_inf() && (strict ? x > lo : x >= lo);
}

#endif
