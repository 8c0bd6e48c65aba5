/* SPDX-License-Identifier: MIT */
/* restore.c - the libxl side of rvmig-restore (restore.h). */
#include "restore.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xentool.h"
#include "xlread.h"

static int failf(struct restore_job *j, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int failf(struct restore_job *j, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
	return rc;
}

/* The configuration from the header, the name to restore under set. */
static int load_config(struct restore_job *j, const struct xl_saved *s, libxl_domain_config *dc)
{
	const char *name;

	if (!s->config)
		return failf(j, -EBADMSG, "the xl header carries no domain configuration (xl save "
					  "always writes one; was this stream written by xl?)");
	if (!(s->mandatory_flags & RVMIG_XL_FLAG_JSON))
		return failf(j, -EBADMSG, "the domain configuration in the xl header is in xl's old "
					  "text format, not JSON (xl restore reads it; rvmig-restore "
					  "only JSON)");
	if (libxl_domain_config_from_json(j->ctx, dc, s->config))
		return failf(j, -EBADMSG, "the domain configuration in the xl header (%u octets of "
					  "JSON) does not parse (libxl's message above says where)",
			     s->config_len);
	name = j->name ? j->name : dc->c_info.name;
	if (!name || !*name || strlen(name) >= RESTORE_NAME_MAX)
		return failf(j, -EBADMSG, "the domain configuration in the xl header has %s name",
			     name && *name ? "too long a" : "no");
	snprintf(j->final, sizeof(j->final), "%s", name);
	snprintf(j->incoming, sizeof(j->incoming), "%s%s", name, RESTORE_INCOMING_SUFFIX);
	free(dc->c_info.name);
	dc->c_info.name = strdup(j->incoming);
	if (!dc->c_info.name)
		return failf(j, -ENOMEM, "out of memory");
	return 0;
}

int restore_run(void *arg)
{
	struct restore_job *j = arg;
	libxl_domain_restore_params params;
	libxl_domain_config dc;
	struct xl_saved s;
	char why[400];
	int rc;

	j->domid = XENTOOL_NO_DOMID;
	libxl_domain_config_init(&dc);
	libxl_domain_restore_params_init(&params);
	rc = xl_saved_read(j->fd, j->header_timeout_ms, &s, why, sizeof(why));
	if (rc) {
		failf(j, rc, "%s", why);
		goto out;
	}
	j->stream_version = s.stream_version;
	j->config_len = s.config_len;
	if ((rc = load_config(j, &s, &dc)))
		goto out;
	params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
	params.stream_version = (uint32_t)s.stream_version;
	/* Paused: restore_finish() unpauses it once the stream is verified. */
	rc = libxl_domain_create_restore(j->ctx, &dc, &j->domid, j->fd, -1, &params, NULL, NULL);
	if (rc) {
		failf(j, -EIO, "libxl_domain_create_restore of %s failed: libxl error %d (%s); "
			       "libxl's messages in rvmig-restore's log say why",
		      j->incoming, rc, libxl_error_to_string(rc));
		rc = -EIO;
		if (!xentool_domain_exists(j->ctx, j->domid))
			j->domid = XENTOOL_NO_DOMID; /* libxl cleaned up after itself */
	}
out:
	close(j->fd);
	j->fd = -1;
	xl_saved_free(&s);
	libxl_domain_restore_params_dispose(&params);
	libxl_domain_config_dispose(&dc);
	return rc;
}

int restore_finish(struct restore_job *j, bool paused)
{
	uint32_t other;

	if (libxl_domain_rename(j->ctx, j->domid, j->incoming, j->final)) {
		if (libxl_name_to_domid(j->ctx, j->final, &other) == 0 && other != j->domid)
			return failf(j, -EEXIST, "domain %u (%s) was restored, but libxl refused to "
						 "rename it to %s: domain %u has that name",
				     j->domid, j->incoming, j->final, other);
		return failf(j, -EIO, "domain %u (%s) was restored, but renaming it to %s failed "
				      "(libxl's message in rvmig-restore's log)",
			     j->domid, j->incoming, j->final);
	}
	if (!paused && libxl_domain_unpause(j->ctx, j->domid, NULL))
		return failf(j, -EIO, "domain %u (%s) was restored, but unpausing it failed "
				      "(libxl's message in rvmig-restore's log)",
			     j->domid, j->final);
	return 0;
}

void restore_discard(struct restore_job *j)
{
	if (j->domid == XENTOOL_NO_DOMID)
		return;
	libxl_domain_destroy(j->ctx, j->domid, NULL);
	j->domid = XENTOOL_NO_DOMID;
}
