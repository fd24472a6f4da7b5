/* SPDX-License-Identifier: MIT */
/*
 * uoomd-jsoncheck [KEY...] < LOG: every line must be one complete JSON
 * object; lines whose "type" is "episode" must have every KEY at the top
 * level. Prints "objects N episodes M" and exits 1 on the first bad line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *p;
static char keys[64][64];
static int nkeys, depth;

static void ws(void)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
}

static bool value(void);

static bool string(char *out, size_t cap)
{
	size_t n = 0;

	if (*p++ != '"')
		return false;
	while (*p && *p != '"') {
		char c = *p++;

		if ((unsigned char)c < 0x20)
			return false;
		if (c == '\\') {
			c = *p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++)
					if (!strchr("0123456789abcdefABCDEF", *p++) || !p[-1])
						return false;
				c = '?';
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return false;
			}
		}
		if (out && n + 1 < cap)
			out[n++] = c;
	}
	if (out)
		out[n] = '\0';
	return *p++ == '"';
}

static bool number(void)
{
	const char *s = p;

	if (*p == '-')
		p++;
	while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' ||
	       *p == '+' || *p == '-')
		p++;
	return p > s;
}

static bool object(void)
{
	int top = depth++ == 0;

	p++;
	ws();
	if (*p == '}')
		return p++, depth--, true;
	for (;;) {
		char k[64];

		ws();
		if (!string(k, sizeof(k)))
			return false;
		if (top && nkeys < 64)
			strcpy(keys[nkeys++], k);
		ws();
		if (*p++ != ':')
			return false;
		if (!value())
			return false;
		ws();
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p++ != '}')
			return false;
		depth--;
		return true;
	}
}

static bool array(void)
{
	p++;
	ws();
	if (*p == ']')
		return p++, true;
	for (;;) {
		if (!value())
			return false;
		ws();
		if (*p == ',') {
			p++;
			continue;
		}
		return *p++ == ']';
	}
}

static bool value(void)
{
	ws();
	switch (*p) {
	case '{': return object();
	case '[': return array();
	case '"': return string(NULL, 0);
	case 't': return !strncmp(p, "true", 4) && (p += 4);
	case 'f': return !strncmp(p, "false", 5) && (p += 5);
	case 'n': return !strncmp(p, "null", 4) && (p += 4);
	default: return number();
	}
}

int main(int argc, char **argv)
{
	static char line[1 << 20];
	unsigned long objects = 0, episodes = 0, ln = 0;

	while (fgets(line, sizeof(line), stdin)) {
		size_t l = strlen(line);

		ln++;
		if (l && line[l - 1] == '\n')
			line[--l] = '\0';
		p = line;
		nkeys = depth = 0;
		ws();
		if (*p != '{' || !object() || (ws(), *p)) {
			printf("bad line %lu at column %ld: %.200s\n", ln, (long)(p - line), line);
			return 1;
		}
		objects++;
		if (!strstr(line, "\"type\":\"episode\""))
			continue;
		episodes++;
		for (int a = 1; a < argc; a++) {
			int i;

			for (i = 0; i < nkeys; i++)
				if (!strcmp(keys[i], argv[a]))
					break;
			if (i == nkeys) {
				printf("line %lu: episode record without key '%s': %.200s\n", ln,
				       argv[a], line);
				return 1;
			}
		}
	}
	printf("objects %lu episodes %lu\n", objects, episodes);
	return 0;
}
