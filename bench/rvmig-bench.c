/* SPDX-License-Identifier: MIT */
/*
 * rvmig-bench - bandwidth, message rate, latency percentiles and CPU cost of
 * rvmig bulk transfers over verbs or TCP, push or pull.  Everything but the
 * option parsing lives in the shared harness (harness.h).
 *
 *   rvmig-bench --listen verbs://10.77.0.1:7471            # receiver
 *   rvmig-bench --connect verbs://10.77.0.1:7471 -s 4K:4M  # source
 *   rvmig-bench --loopback -t tcp -m pull -s 1M --json     # both, one host
 */
#include "harness.h"

int main(int argc, char **argv)
{
	struct bench_opts o;
	int rc = bench_parse_args(argc, argv, &o);

	if (rc)
		return rc > 0 ? 0 : 2;
	return bench_main(&o);
}
