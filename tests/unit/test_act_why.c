/* SPDX-License-Identifier: MIT */
/*
 * The picker of a failed command's stderr lines (librvmig/act/why.c; no
 * I/O): what rvmig_act_run() puts in its error and rvmigd in its log of
 * the command's exit.  The lines are those of xl 4.17 -vvv migrate when
 * the destination failed, as the shape of its messages goes
 * ("CONTEXT: LEVEL: ..."); the runner itself with real processes:
 * tests/policy/test_act_migrate.c.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "act/why.h"

static void lines(struct act_why *w, const char *const *v)
{
	act_why_init(w);
	for (; *v; v++)
		act_why_line(w, *v, strlen(*v));
}

static const char *text(const struct act_why *w)
{
	static char out[4096];

	act_why_text(w, out, sizeof(out));
	return out;
}

Test(act_why, debug_lines_skipped_failures_first_and_last)
{
	static const char *const v[] = {
		"libxl: debug: libxl_domain.c:2293:libxl_retrieve_domain_configuration: Domain 1:ao 0x5: create",
		"migration target: Ready to receive domain.",
		"xc: detail: Saving domain 1, type x86 HVM",
		"libxl: error: libxl_stream_read.c:850:libxl__xc_domain_restore_done: restoring domain: Cannot allocate memory",
		"libxl: debug: libxl_event.c:1: an error word in a debug line does not count",
		"libxl: error: libxl_create.c:1: cannot (re-)build domain: -3",
		"migration target: Domain creation failed (code -3).",
		"libxl: info: libxl_exec.c:1: migration transport process [1] exited with error status 1",
		"migration sender: Target reported an error during restore",
		"Migration failed, resuming at sender.",
		"libxl: debug: libxl_domain.c:1: resumed",
		NULL,
	};
	struct act_why w;

	lines(&w, v);
	cr_assert_str_eq(text(&w),
			 "libxl: error: libxl_stream_read.c:850:libxl__xc_domain_restore_done: restoring "
			 "domain: Cannot allocate memory | ... | migration target: Domain creation failed "
			 "(code -3). | migration sender: Target reported an error during restore | "
			 "Migration failed, resuming at sender.");
}

Test(act_why, few_failures_all_kept_in_order)
{
	static const char *const v[] = { "libxl: debug: x", "a: error: one", "b: warning: two",
					 "c: ERROR: three", NULL };
	struct act_why w;

	lines(&w, v);
	cr_assert_str_eq(text(&w), "a: error: one | c: ERROR: three");
}

Test(act_why, no_failure_word_first_and_last_message)
{
	static const char *const one[] = { "libxl: debug: x", "oops", "libxl: verbose: y", NULL };
	static const char *const three[] = { "usage: x", "  -a", "  -b", NULL };
	static const char *const debug[] = { "libxl: debug: first", "xc: detail: last", NULL };
	static const char *const none[] = { NULL };
	struct act_why w;

	lines(&w, one);
	cr_assert_str_eq(text(&w), "oops");
	lines(&w, three);
	cr_assert_str_eq(text(&w), "usage: x | ... |   -b");
	/* every line below warning: the last one rather than nothing */
	lines(&w, debug);
	cr_assert_str_eq(text(&w), "xc: detail: last");
	lines(&w, none);
	cr_assert_str_eq(text(&w), "");
}

static void count(void *arg, const char *line)
{
	(*(int *)arg)++;
	cr_assert(strlen(line) < ACT_WHY_LINE);
}

Test(act_why, fed_bytes_split_escaped_and_bounded)
{
	char big[3 * ACT_WHY_LINE], out[64];
	struct act_why w;
	int n = 0;

	act_why_init(&w);
	w.each = count;
	w.each_arg = &n;
	/* lines split across reads, '\r' as an end, a control byte escaped */
	act_why_feed(&w, "libxl: debug: a\nxl: err", 23);
	act_why_feed(&w, "or: bad \x01 thing\r", 16);
	memset(big, 'f', sizeof(big));
	memcpy(big, "failed: ", 8);
	act_why_feed(&w, big, sizeof(big)); /* no end: flushed below */
	act_why_flush(&w);
	cr_assert_eq(n, 3);
	cr_assert_eq(w.nfail, 2);
	cr_assert_eq(strlen(w.fail[1]), ACT_WHY_LINE - 1, "a long line is cut");
	act_why_text(&w, out, sizeof(out));
	cr_assert(!strncmp(out, "xl: error: bad \\x01 thing | failed: fff", 39), "%s", out);
	cr_assert_eq(strlen(out), sizeof(out) - 1, "the text is cut to the buffer");
	/* nothing but a cap of 1: an empty string, no overrun */
	cr_assert_eq(act_why_text(&w, out, 1), 0);
	cr_assert_str_eq(out, "");
}
