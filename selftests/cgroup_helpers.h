/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers for uoom's in-VM selftests: make a memcg under the cgroup2
 * root, write and read its files, run a child inside it. Each returns 0 or a
 * negative errno, so a test can assert the exact error a write gives.
 */
#ifndef UOOM_CGROUP_HELPERS_H
#define UOOM_CGROUP_HELPERS_H

#include <stddef.h>
#include <sys/types.h>

#define CG_ROOT "/sys/fs/cgroup"

/* Create CG_ROOT/name (removing a leftover first); path gets the full path. */
int cg_create(const char *name, char *path, size_t len);
/* Kill everything in it and remove it. */
int cg_destroy(const char *path);
/* Write a string to path/file: bytes written or -errno. */
int cg_write(const char *path, const char *file, const char *val);
/* Read path/file into buf (NUL-terminated): bytes read or -errno. */
int cg_read(const char *path, const char *file, char *buf, size_t len);
/* Value of "key N" in a flat-keyed file, or -errno (-ENOENT: no such key). */
long long cg_read_key(const char *path, const char *file, const char *key);
/* Value of a single-number file ("max" reads as -1). */
long long cg_read_num(const char *path, const char *file);
/* Move pid into the cgroup. */
int cg_enter(const char *path, pid_t pid);
/* Number of processes in cgroup.procs. */
int cg_nr_procs(const char *path);

/*
 * Fork a child that joins the cgroup and runs fn(arg); the parent returns its
 * pid. The child exits with fn's return value.
 */
pid_t cg_spawn(const char *path, int (*fn)(void *arg), void *arg);
/* Wait for pid; returns the exit status, or 128 + signal if it was killed. */
int cg_wait(pid_t pid);

/* Touch size bytes of anonymous memory, one write per page; 0 when done. */
int alloc_anon(void *size_bytes);
/* Touch size bytes in a new mapping and keep it mapped; 0 when done. */
int alloc_anon_and_keep(size_t size);
/* Same as alloc_anon, then sleep forever holding it. */
int alloc_anon_and_hold(void *size_bytes);

/* Monotonic milliseconds. */
long long now_ms(void);

#endif
