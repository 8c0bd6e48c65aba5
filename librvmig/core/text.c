/* SPDX-License-Identifier: MIT */
/*
 * text.c - rvmig_text_escape(): text that came from a peer, made safe to
 * print on one line of a log or a terminal.
 */
#include <stdint.h>
#include <string.h>

#include <rvmig/common.h>

/* The escape of byte c into e (at most 4 characters + NUL); its length. */
static size_t escape_byte(uint8_t c, char e[5])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '\\': memcpy(e, "\\\\", 3); return 2;
	case '\n': memcpy(e, "\\n", 3); return 2;
	case '\r': memcpy(e, "\\r", 3); return 2;
	case '\t': memcpy(e, "\\t", 3); return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		e[0] = (char)c;
		e[1] = 0;
		return 1;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 15];
	e[4] = 0;
	return 4;
}

RVMIG_API size_t rvmig_text_escape(char *out, size_t cap, const void *text, size_t len)
{
	const uint8_t *p = text;
	size_t total = 0, n = 0, room;
	char e[5];

	if (!out || !cap)
		return 0;
	if (!p)
		len = 0;
	for (size_t i = 0; i < len; i++)
		total += escape_byte(p[i], e);
	/* All of it, or as many whole escapes as leave room for "...". */
	room = total < cap ? cap - 1 : cap > 4 ? cap - 4 : 0;
	for (size_t i = 0; i < len; i++) {
		size_t el = escape_byte(p[i], e);

		if (n + el > room)
			break;
		memcpy(out + n, e, el);
		n += el;
	}
	if (total >= cap && n + 3 < cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = 0;
	return n;
}
