/* SPDX-License-Identifier: MIT */
/* allow.c - command allow-list of rvmigd (see allow.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/allow.h"

int allow_add(struct allow_list *a, const char *cmdline)
{
	char *copy = strdup(cmdline), *save = NULL, *w;
	char **words = NULL, ***n;
	unsigned nw = 0;

	if (!copy)
		return -ENOMEM;
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char **nwords = realloc(words, (nw + 2) * sizeof(*words));

		if (!nwords || !(nwords[nw] = strdup(w))) {
			free(nwords ? nwords : words);
			free(copy);
			return -ENOMEM;
		}
		words = nwords;
		words[++nw] = NULL;
	}
	free(copy);
	if (!nw)
		return -EINVAL;
	n = realloc(a->entries, (a->n + 1) * sizeof(*n));
	if (!n) {
		for (unsigned i = 0; i < nw; i++)
			free(words[i]);
		free(words);
		return -ENOMEM;
	}
	a->entries = n;
	a->entries[a->n++] = words;
	return 0;
}

static bool match_one(char **e, int argc, char *const argv[])
{
	int i = 1;

	if (argc < 1 || strcmp(e[0], argv[0]))
		return false;
	if (e[1])
		while (i < argc && argv[i][0] == '-')
			i++;
	for (unsigned k = 1; e[k]; k++, i++)
		if (i >= argc || strcmp(e[k], argv[i]))
			return false;
	return true;
}

bool allow_match(const struct allow_list *a, int argc, char *const argv[])
{
	for (unsigned i = 0; i < a->n; i++)
		if (match_one(a->entries[i], argc, argv))
			return true;
	return false;
}

void allow_free(struct allow_list *a)
{
	for (unsigned i = 0; i < a->n; i++) {
		for (char **w = a->entries[i]; *w; w++)
			free(*w);
		free(a->entries[i]);
	}
	free(a->entries);
	a->entries = NULL;
	a->n = 0;
}
