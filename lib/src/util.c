/* SPDX-License-Identifier: MIT */
/* Bounded formatting and whole-file I/O; nothing here allocates. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

void ub_init(struct ubuf *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->over = false;
}

void ub_putn(struct ubuf *b, const char *s, size_t n)
{
	if (b->over || n > b->cap - b->len) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void ub_putc(struct ubuf *b, char c)
{
	ub_putn(b, &c, 1);
}

void ub_puts(struct ubuf *b, const char *s)
{
	ub_putn(b, s, strlen(s));
}

void ub_u64(struct ubuf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ub_putn(b, tmp + i, sizeof(tmp) - i);
}

void ub_i64(struct ubuf *b, int64_t v)
{
	if (v < 0) {
		ub_putc(b, '-');
		ub_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		ub_u64(b, (uint64_t)v);
	}
}

void ub_centi(struct ubuf *b, uint32_t v)
{
	ub_u64(b, v / 100);
	ub_putc(b, '.');
	ub_putc(b, (char)('0' + v / 10 % 10));
	ub_putc(b, (char)('0' + v % 10));
}

void ub_json_str(struct ubuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	ub_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			ub_putc(b, '\\');
			ub_putc(b, (char)c);
		} else if (c == '\n') {
			ub_putn(b, "\\n", 2);
		} else if (c == '\t') {
			ub_putn(b, "\\t", 2);
		} else if (c < 0x20 || c >= 0x7f) {
			/* comm/cmdline are arbitrary bytes: keep JSON valid */
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			ub_putn(b, e, sizeof(e));
		} else {
			ub_putc(b, (char)c);
		}
	}
	ub_putc(b, '"');
}

ssize_t uoom__pread_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t n = pread(fd, buf + len, cap - len, (off_t)len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

ssize_t uoom__read_at(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = uoom__pread_all(fd, buf, cap);
	close(fd);
	return n;
}

int uoom__write_fd_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* cgroup and proc control files take their value in a single write(). */
int uoom__write_at(int dirfd, const char *name, const char *s, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

int uoom__set_err(char *dst, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, UOOM_ERR_LEN, fmt, ap);
	va_end(ap);
	if (err && n >= 0 && n < UOOM_ERR_LEN) {
		const char *d = strerrordesc_np(-err);

		snprintf(dst + n, (size_t)(UOOM_ERR_LEN - n), ": %s",
			 d ? d : "unknown error");
	}
	return err;
}
