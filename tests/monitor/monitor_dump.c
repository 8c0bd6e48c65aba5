/* SPDX-License-Identifier: MIT */
/*
 * monitor_dump BACKEND SAMPLES DELAY_MS: opens a monitor on BACKEND, takes
 * SAMPLES samples DELAY_MS apart and prints every domain and vCPU of each
 * sample after the first, one "key=value" line each, for the Xen tier's
 * scripts (tests/xen/xen_monitor.sh) to check with awk.  Exit 1 on a
 * failure, with the library's log on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <rvmig.h>

int main(int argc, char **argv)
{
	struct rvmig_ctx_attr ca = {
		.size = sizeof(ca),
		.logger = { .fn = rvmig_log_stderr, .max_level = RVMIG_LOG_INFO },
	};
	rvmig_ctx *ctx;
	rvmig_monitor *mon;
	int n, ms, rc;

	if (argc != 4 || (n = atoi(argv[2])) < 2 || (ms = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: monitor_dump BACKEND SAMPLES DELAY_MS\n");
		return 2;
	}
	if (rvmig_ctx_create(&ca, &ctx) < 0)
		return 1;
	rc = rvmig_monitor_open(ctx, argv[1], &mon);
	if (rc < 0) {
		fprintf(stderr, "monitor_dump: open %s: %s\n", argv[1], rvmig_strerror(rc));
		return 1;
	}
	printf("backend=%s\n", rvmig_monitor_backend(mon));
	for (int k = 0; k < n; k++) {
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
		rvmig_monitor_snap *s;

		if (k)
			nanosleep(&ts, NULL);
		if ((rc = rvmig_monitor_sample(mon, &s)) < 0) {
			fprintf(stderr, "monitor_dump: sample: %s\n", rvmig_strerror(rc));
			return 1;
		}
		if (k == 0) {
			rvmig_monitor_snap_free(s);
			continue;
		}
		printf("sample=%d interval_ms=%.1f ncpus=%u mem_total=%llu mem_free=%llu cpu0_idle=%.3f cpu0_khz=%u\n",
		       k, rvmig_monitor_snap_interval_ns(s) / 1e6, rvmig_monitor_host_ncpus(s),
		       (unsigned long long)rvmig_monitor_host_mem_total(s),
		       (unsigned long long)rvmig_monitor_host_mem_free(s),
		       rvmig_monitor_host_cpu_idle_share(s, 0), rvmig_monitor_host_cpu_freq_khz(s, 0));
		for (unsigned i = 0; i < rvmig_monitor_snap_ndomains(s); i++) {
			const rvmig_monitor_dom *d = rvmig_monitor_domain(s, i);

			printf("sample=%d dom=%llu name=%s flags=%u nvcpus=%u cpu_pct=%.1f run=%.3f blocked=%.3f wait=%.3f execs=%.1f mem=%llu maxmem=%llu nnets=%u ndisks=%u\n",
			       k, (unsigned long long)rvmig_monitor_domain_id(d),
			       rvmig_monitor_domain_name(d), rvmig_monitor_domain_flags(d),
			       rvmig_monitor_domain_nvcpus(d), rvmig_monitor_domain_cpu_pct(d),
			       rvmig_monitor_domain_run_share(d), rvmig_monitor_domain_blocked_share(d),
			       rvmig_monitor_domain_wait_share(d), rvmig_monitor_domain_execs_per_s(d),
			       (unsigned long long)rvmig_monitor_domain_mem_cur(d),
			       (unsigned long long)rvmig_monitor_domain_mem_max(d),
			       rvmig_monitor_domain_nnets(d), rvmig_monitor_domain_ndisks(d));
			for (unsigned j = 0; j < rvmig_monitor_domain_nvcpus(d); j++) {
				const rvmig_monitor_vcpu *v = rvmig_monitor_domain_vcpu(d, j);

				printf("sample=%d dom=%llu vcpu=%llu vflags=%u pcpu=%u cpu_ns=%llu run_ns=%llu wait_ns=%llu blocked_ns=%llu\n",
				       k, (unsigned long long)rvmig_monitor_domain_id(d),
				       (unsigned long long)rvmig_monitor_vcpu_id(v),
				       rvmig_monitor_vcpu_flags(v), rvmig_monitor_vcpu_pcpu(v),
				       (unsigned long long)rvmig_monitor_vcpu_cpu_ns(v),
				       (unsigned long long)rvmig_monitor_vcpu_run_ns(v),
				       (unsigned long long)rvmig_monitor_vcpu_wait_ns(v),
				       (unsigned long long)rvmig_monitor_vcpu_blocked_ns(v));
			}
		}
		fflush(stdout);
		rvmig_monitor_snap_free(s);
	}
	rvmig_monitor_close(mon);
	rvmig_ctx_destroy(ctx);
	return 0;
}
