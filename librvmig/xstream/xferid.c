/* SPDX-License-Identifier: MIT */
/* xferid.c - transfer id of a resumable input (see xferid.h). */
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>

#include "xstream/xferid.h"

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int xfer_id_make(int fd, const char *path, bool raw, uint8_t id[RVMIG_XFER_ID_LEN])
{
	static const char tag[] = "rvmig-xfer-id 1";
	EVP_MD_CTX *c;
	struct stat st;
	uint8_t f[40];
	unsigned int l = RVMIG_XFER_ID_LEN;
	int ok;

	if (fstat(fd, &st))
		return -errno;
	put64(f, (uint64_t)st.st_size);
	put64(f + 8, (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec);
	put64(f + 16, (uint64_t)st.st_dev);
	put64(f + 24, (uint64_t)st.st_ino);
	put64(f + 32, raw ? 1 : 0);
	c = EVP_MD_CTX_new();
	ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(c, tag, sizeof(tag) - 1) && EVP_DigestUpdate(c, f, sizeof(f)) &&
	     EVP_DigestUpdate(c, path, strlen(path) + 1) && EVP_DigestFinal_ex(c, id, &l);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -ENOMEM;
}
