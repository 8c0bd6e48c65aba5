/* SPDX-License-Identifier: MIT */
/*
 * The measurement CSV (librvmig/policy/csv.c, samples.c): a good file read
 * back field by field, and hostile ones refused with line, column and
 * field named.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

#define HDR RVMIG_SAMPLES_HEADER "\n"

static int parse(const char *text, rvmig_samples **out, char *err, size_t errlen)
{
	return rvmig_samples_parse(text, strlen(text), out, err, errlen);
}

Test(policy_csv, good_file)
{
	const char *text =
		"# nginx + wrk2 sweep, host: 2 CPUs\n"
		"# made by bench/policy\n"
		"\n"
		HDR
		"nginx,alone,0.05,2000,1999.5,0.8,3.2,1.1,0,30\n"
		"# a comment between rows\n"
		"nginx,shared-cpu,2,40000,38000.25,1.5e0,12.75,2,17,30.5\r\n"
		"nginx,alone,0.8,1000,1000,0.1,.5,0.2,0,1E1\n"
		"nginx,alone,2,0,19594.1,1.2,4.5,1.6,0,10.002";
	struct rvmig_sample s = { .size = sizeof(s) };
	rvmig_samples *set;
	char err[256] = "";

	cr_assert_eq(parse(text, &set, err, sizeof(err)), 4, "%s", err);
	cr_assert_eq(rvmig_samples_count(set), 4);
	cr_assert_eq(rvmig_samples_get(set, 1, &s), 0);
	cr_assert_str_eq(s.app, "nginx");
	cr_assert_str_eq(s.scenario, "shared-cpu");
	cr_assert_eq(s.cpu_share, 2);
	cr_assert_eq(s.offered_rps, 40000);
	cr_assert_eq(s.achieved_rps, 38000.25);
	cr_assert_eq(s.p50_ms, 1.5);
	cr_assert_eq(s.p99_ms, 12.75);
	cr_assert_eq(s.mean_ms, 2);
	cr_assert_eq(s.errors, 17);
	cr_assert_eq(s.duration_s, 30.5);
	cr_assert_eq(s.line, 7);
	cr_assert_eq(rvmig_samples_get(set, 2, &s), 0);
	cr_assert_eq(s.p99_ms, 0.5);
	cr_assert_eq(s.duration_s, 10);
	cr_assert_eq(s.line, 8);
	/* offered_rps 0: a closed-loop run. */
	cr_assert_eq(rvmig_samples_get(set, 3, &s), 0);
	cr_assert_eq(s.offered_rps, 0);
	cr_assert_eq(s.achieved_rps, 19594.1);
	cr_assert_eq(rvmig_samples_get(set, 4, &s), -ERANGE);
	rvmig_samples_free(set);
}

Test(policy_csv, header_only_is_empty)
{
	rvmig_samples *set;

	cr_assert_eq(parse("#x\n" HDR, &set, NULL, 0), 0);
	cr_assert_eq(rvmig_samples_count(set), 0);
	rvmig_samples_free(set);
}

struct bad {
	const char *text;
	int rc;
	const char *msg; /* must appear in the error */
};

Test(policy_csv, hostile)
{
	static const struct bad bad[] = {
		{ "", -EINVAL, "no header line" },
		{ "# only comments\n", -EINVAL, "no header line" },
		{ "app,scenario\n", -EINVAL, "line 1: \"app,scenario\" is not the header" },
		{ HDR "nginx,alone,0.05,2000,2000,1,2,1,0\n", -EINVAL, "line 2: 9 columns" },
		{ HDR "nginx,alone,0.05,2000,2000,1,2,1,0,30,7\n", -EINVAL, "line 2: more than 10 columns" },
		{ HDR "nginx,alone,nan,2000,2000,1,2,1,0,30\n", -EINVAL,
		  "line 2, column 3 (cpu_share): \"nan\" is not a decimal number" },
		{ HDR "nginx,alone,0.1,inf,2000,1,2,1,0,30\n", -EINVAL,
		  "column 4 (offered_rps): \"inf\" is not a decimal number" },
		{ HDR "nginx,alone,0.1,1e999,2000,1,2,1,0,30\n", -EINVAL,
		  "column 4 (offered_rps): \"1e999\" is not a finite number" },
		{ HDR "nginx,alone,0.1,2000,-5,1,2,1,0,30\n", -EINVAL,
		  "column 5 (achieved_rps): \"-5\" is negative" },
		{ HDR "nginx,alone,0.1,2000,2000,1,2,1,-1,30\n", -EINVAL,
		  "column 9 (errors): \"-1\" is negative" },
		{ HDR "nginx,alone,0.1,2000,2000,1,2,1,1.5,30\n", -EINVAL,
		  "column 9 (errors): \"1.5\" is not a whole number" },
		{ HDR "nginx,alone,0.1,2000,2000,1,2,1,99999999999999999999,30\n", -EINVAL,
		  "column 9 (errors): \"99999999999999999999\" is too large" },
		{ HDR "nginx,alone,0x10,2000,2000,1,2,1,0,30\n", -EINVAL,
		  "column 3 (cpu_share): \"0x10\" is not a decimal number" },
		{ HDR "nginx,alone,0,2000,2000,1,2,1,0,30\n", -EINVAL, "line 2: cpu_share: 0 is not" },
		{ HDR "nginx,alone,0.1,2000,2000,1,2,1,0,0\n", -EINVAL, "line 2: duration_s: 0 is not" },
		{ HDR "nginx,alone,0.1,2000,2000,5,2,1,0,30\n", -EINVAL, "p50_ms 5 is above p99_ms 2" },
		{ HDR "nginx,alone,0.1, 2000,2000,1,2,1,0,30\n", -EINVAL,
		  "column 4 (offered_rps): \" 2000\" is not a decimal number" },
		{ HDR "nginx,alone,0.1,,2000,1,2,1,0,30\n", -EINVAL, "column 4 (offered_rps): \"\" is empty" },
		{ HDR "\"nginx\",alone,0.1,2000,2000,1,2,1,0,30\n", -EINVAL,
		  "column 1 (app): \"\"nginx\"\" is not 1..64 characters" },
		{ HDR "ngi\x1b[31mnx,alone,0.1,2000,2000,1,2,1,0,30\n", -EINVAL,
		  "column 1 (app): \"ngi\\x1b[31mnx\"" },
		{ HDR "nginx,al\xc3\xa9,0.1,2000,2000,1,2,1,0,30\n", -EINVAL,
		  "column 2 (scenario): \"al\\xc3\\xa9\"" },
		{ HDR "nginx,alone,0.1,2000,2000,1,2,1,0,30\rx\n", -EINVAL,
		  "line 2, byte 37: a carriage return" },
		{ HDR "nginx,alone,1.,2000,2000,1,2,1,0,3e\n", -EINVAL,
		  "column 10 (duration_s): \"3e\" is not a decimal number" },
		{ HDR "nginx,alone,.,2000,2000,1,2,1,0,30\n", -EINVAL,
		  "column 3 (cpu_share): \".\" is not a decimal number" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rvmig_samples *set = (void *)1;

		err[0] = 0;
		cr_assert_eq(parse(bad[i].text, &set, err, sizeof(err)), bad[i].rc,
			     "case %zu: rc, err \"%s\"", i, err);
		cr_assert_null(set, "case %zu: a set despite the error", i);
		cr_assert(strstr(err, bad[i].msg), "case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].msg);
	}
}

Test(policy_csv, nul_byte)
{
	static const char text[] = HDR "nginx,alone,0.1,2000\0,2000,1,2,1,0,30\n";
	rvmig_samples *set;
	char err[256] = "";

	cr_assert_eq(rvmig_samples_parse(text, sizeof(text) - 1, &set, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "line 2, byte 21: a NUL byte"), "%s", err);
}

Test(policy_csv, limits)
{
	size_t hl = strlen(HDR), cap = hl + (RVMIG_SAMPLES_MAX_ROWS + 1) * 40 + 2000;
	char *text = malloc(cap), err[256] = "";
	const char *row = "a,b,0.1,2000,2000,1,2,1,0,30\n";
	size_t len = hl, rl = strlen(row);
	rvmig_samples *set;

	cr_assert_not_null(text);
	memcpy(text, HDR, hl);
	for (int i = 0; i < RVMIG_SAMPLES_MAX_ROWS; i++, len += rl)
		memcpy(text + len, row, rl);
	cr_assert_eq(rvmig_samples_parse(text, len, &set, err, sizeof(err)), RVMIG_SAMPLES_MAX_ROWS,
		     "%s", err);
	rvmig_samples_free(set);
	memcpy(text + len, row, rl);
	cr_assert_eq(rvmig_samples_parse(text, len + rl, &set, err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "more than 100000 rows"), "%s", err);
	/* A line longer than the limit (a comment, even). */
	memcpy(text, "#", 1);
	memset(text + 1, 'x', RVMIG_SAMPLES_MAX_LINE + 1);
	cr_assert_eq(rvmig_samples_parse(text, RVMIG_SAMPLES_MAX_LINE + 2, &set, err, sizeof(err)),
		     -E2BIG);
	cr_assert(strstr(err, "line 1: longer than 4096 bytes"), "%s", err);
	/* A name of 65 bytes. */
	len = hl;
	memcpy(text, HDR, hl);
	memset(text + len, 'n', 65);
	len += 65;
	memcpy(text + len, ",b,0.1,2000,2000,1,2,1,0,30\n", 28);
	len += 28;
	cr_assert_eq(rvmig_samples_parse(text, len, &set, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "column 1 (app)"), "%s", err);
	free(text);
}

Test(policy_csv, errors_cut_to_the_buffer)
{
	rvmig_samples *set;
	char err[16];

	memset(err, 'z', sizeof(err));
	cr_assert_eq(parse(HDR "nginx,alone,nan,1,1,1,1,1,0,1\n", &set, err, sizeof(err)), -EINVAL);
	cr_assert_eq(strlen(err), sizeof(err) - 1);
	cr_assert_eq(parse(HDR "nginx,alone,nan,1,1,1,1,1,0,1\n", &set, NULL, 0), -EINVAL);
}

Test(policy_csv, add_checks_like_parse)
{
	struct rvmig_sample s = { .size = sizeof(s), .app = "nginx", .scenario = "alone",
				  .cpu_share = 0.1, .offered_rps = 100, .achieved_rps = 100,
				  .p50_ms = 1, .p99_ms = 2, .mean_ms = 1, .duration_s = 10 };
	struct rvmig_sample back = { .size = sizeof(back) };
	rvmig_samples *set;
	char err[128] = "";

	cr_assert_eq(rvmig_samples_create(&set), 0);
	cr_assert_eq(rvmig_samples_add(set, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rvmig_samples_get(set, 0, &back), 0);
	cr_assert_str_eq(back.app, "nginx");
	cr_assert_eq(back.line, 0);
	s.p99_ms = NAN;
	cr_assert_eq(rvmig_samples_add(set, &s, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "p99_ms"), "%s", err);
	s.p99_ms = 2;
	s.app = "has space";
	cr_assert_eq(rvmig_samples_add(set, &s, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "app"), "%s", err);
	s.app = NULL;
	cr_assert_eq(rvmig_samples_add(set, &s, err, sizeof(err)), -EINVAL);
	cr_assert_eq(rvmig_samples_count(set), 1);
	rvmig_samples_free(set);
}
