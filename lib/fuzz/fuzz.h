/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets: the input copied to a heap block of
 * exactly its size (no NUL after it, so ASan sees any read past the end),
 * a byte reader for structured inputs, an assertion that names the broken
 * invariant, and a small JSON checker.
 */
#ifndef UOOM_FUZZ_H
#define UOOM_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "invariant broken: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			abort();					\
		}							\
	} while (0)

/* The input in its own block of exactly size bytes (1 for an empty one). */
static inline char *fuzz_dup(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (!p)
		abort();
	memcpy(p, data, size);
	return p;
}

/* Structured inputs: the data read a byte at a time, 0 once it runs out. */
struct fuzz_in {
	const uint8_t *d;
	size_t n;
};

static inline unsigned int fuzz_take(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->d++;
}

/* Minimal JSON validator: one value, then only the end. */
struct jcur {
	const char *s, *e;
	int depth;
};

static inline void j_ws(struct jcur *c)
{
	while (c->s < c->e && (*c->s == ' ' || *c->s == '\t' || *c->s == '\r' ||
			       *c->s == '\n'))
		c->s++;
}

static inline bool j_lit(struct jcur *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->e - c->s) < n || memcmp(c->s, w, n))
		return false;
	c->s += n;
	return true;
}

static inline bool j_string(struct jcur *c)
{
	if (c->s >= c->e || *c->s != '"')
		return false;
	for (c->s++; c->s < c->e; c->s++) {
		unsigned char ch = (unsigned char)*c->s;

		if (ch == '"') {
			c->s++;
			return true;
		}
		if (ch < 0x20 || ch >= 0x7f)	/* we promise ASCII output */
			return false;
		if (ch == '\\') {
			if (++c->s >= c->e)
				return false;
			if (*c->s == 'u') {
				for (int i = 0; i < 4; i++) {
					c->s++;
					if (c->s >= c->e || !strchr("0123456789abcdefABCDEF", *c->s) || !*c->s)
						return false;
				}
			} else if (!strchr("\"\\/bfnrt", *c->s) || !*c->s) {
				return false;
			}
		}
	}
	return false;
}

static inline bool j_number(struct jcur *c)
{
	const char *st = c->s;

	if (c->s < c->e && *c->s == '-')
		c->s++;
	if (c->s >= c->e || *c->s < '0' || *c->s > '9')
		return false;
	if (*c->s == '0' && c->s + 1 < c->e && c->s[1] >= '0' && c->s[1] <= '9')
		return false;	/* no leading zeros */
	while (c->s < c->e && *c->s >= '0' && *c->s <= '9')
		c->s++;
	if (c->s < c->e && *c->s == '.') {
		c->s++;
		if (c->s >= c->e || *c->s < '0' || *c->s > '9')
			return false;
		while (c->s < c->e && *c->s >= '0' && *c->s <= '9')
			c->s++;
	}
	return c->s > st;
}

static inline bool j_value(struct jcur *c);

static inline bool j_container(struct jcur *c, char open, char close, bool obj)
{
	if (c->s >= c->e || *c->s != open || ++c->depth > 32)
		return false;
	c->s++;
	j_ws(c);
	if (c->s < c->e && *c->s == close) {
		c->s++;
		c->depth--;
		return true;
	}
	for (;;) {
		j_ws(c);
		if (obj) {
			if (!j_string(c))
				return false;
			j_ws(c);
			if (c->s >= c->e || *c->s++ != ':')
				return false;
		}
		if (!j_value(c))
			return false;
		j_ws(c);
		if (c->s >= c->e)
			return false;
		if (*c->s == ',') {
			c->s++;
			continue;
		}
		if (*c->s++ != close)
			return false;
		c->depth--;
		return true;
	}
}

static inline bool j_value(struct jcur *c)
{
	j_ws(c);
	if (c->s >= c->e)
		return false;
	switch (*c->s) {
	case '{':
		return j_container(c, '{', '}', true);
	case '[':
		return j_container(c, '[', ']', false);
	case '"':
		return j_string(c);
	case 't':
		return j_lit(c, "true");
	case 'f':
		return j_lit(c, "false");
	case 'n':
		return j_lit(c, "null");
	default:
		return j_number(c);
	}
}

/* Is [s, s+n) exactly one JSON value (surrounding white space allowed)? */
static inline bool json_valid(const char *s, size_t n)
{
	struct jcur c = { s, s + n, 0 };

	if (!j_value(&c))
		return false;
	j_ws(&c);
	return c.s == c.e;
}

#endif
