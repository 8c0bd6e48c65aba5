/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <rvmig/common.h>

static const char *const rvmig_errstr[RVMIG_ELAST - RVMIG_EBASE] = {
	[RVMIG_EPROTO_VERSION - RVMIG_EBASE] = "peer speaks an incompatible rvmig protocol version",
	[RVMIG_EBADMSG - RVMIG_EBASE] = "malformed message from peer",
	[RVMIG_EPEER - RVMIG_EBASE] = "peer failed or closed the connection",
	[RVMIG_ETIMEDOUT - RVMIG_EBASE] = "peer silent for longer than the timeout",
	[RVMIG_EMEMLOCK - RVMIG_EBASE] = "RLIMIT_MEMLOCK too small to register memory (raise ulimit -l)",
	[RVMIG_ENOTRANSPORT - RVMIG_EBASE] = "transport not available in this build",
	[RVMIG_ESTREAM - RVMIG_EBASE] = "malformed Xen save stream",
	[RVMIG_EINTEGRITY - RVMIG_EBASE] = "data integrity check failed",
	[RVMIG_EACCESS - RVMIG_EBASE] = "peer accessed memory outside its grant",
	[RVMIG_ECANCELED - RVMIG_EBASE] = "request cancelled",
	[RVMIG_ENOXEN - RVMIG_EBASE] = "no Xen hypervisor here",
	[RVMIG_EAUTH - RVMIG_EBASE] = "peer failed authentication",
	[RVMIG_ECONNLIMIT - RVMIG_EBASE] = "too many connections",
};

RVMIG_API const char *rvmig_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	if (err >= RVMIG_EBASE && err < RVMIG_ELAST)
		return rvmig_errstr[err - RVMIG_EBASE];
	return strerror(err);
}
