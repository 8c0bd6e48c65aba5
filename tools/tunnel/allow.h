/* SPDX-License-Identifier: MIT */
/*
 * allow.h - rvmigd's list of commands a tunnel may start.
 *
 * An entry is a command line split at blanks ("xl migrate-receive").  An
 * argv matches when its first word equals the entry's first word and the
 * entry's remaining words follow in order; options (words starting with
 * '-') right after the first word are skipped before that comparison, so
 * "xl migrate-receive" also matches what xl runs with global options,
 * `xl -t -vv migrate-receive -e`.  Words after the entry's are free (argv
 * prefix match).  No shell is involved anywhere.
 */
#ifndef RVMIG_TOOLS_TUNNEL_ALLOW_H
#define RVMIG_TOOLS_TUNNEL_ALLOW_H

#include <stdbool.h>

#define ALLOW_DEFAULT "xl migrate-receive"

struct allow_list {
	char ***entries; /* each a NULL-terminated word list */
	unsigned n;
};

/* Adds one entry.  Returns 0, -EINVAL (empty) or -ENOMEM. */
int allow_add(struct allow_list *a, const char *cmdline);
bool allow_match(const struct allow_list *a, int argc, char *const argv[]);
void allow_free(struct allow_list *a);

#endif
