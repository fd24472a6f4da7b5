/* SPDX-License-Identifier: MIT */
/*
 * config.h - uoomd's configuration: an INI file parsed by libinih.
 *
 * uoomd_config_parse() is a pure function over a buffer (no file or cgroup
 * access, no globals) so a fuzzer and the unit tests can drive it directly.
 */
#ifndef UOOMD_CONFIG_H
#define UOOMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uoom.h>

#define UOOMD_MAX_SECTIONS	64	/* [watch NAME] sections */
#define UOOMD_MAX_LIST		32	/* globs / patterns / rules per key */
#define UOOMD_NAME_LEN		64
#define UOOMD_LIST_LEN		1024	/* a list key's text, continuations joined */
#define UOOMD_PATH_LEN		512

enum uoomd_log_kind { UOOMD_LOG_STDERR = 0, UOOMD_LOG_JOURNAL, UOOMD_LOG_FILE };

enum uoomd_action {
	UOOMD_ACT_KILL = 0,
	UOOMD_ACT_KILL_CGROUP,
	UOOMD_ACT_THROTTLE,
	UOOMD_ACT_WARN_KILL,
	UOOMD_ACT_LOG,
};

/* A space-separated list, split in place: items point into text. */
struct uoomd_list {
	char text[UOOMD_LIST_LEN];
	const char *item[UOOMD_MAX_LIST + 1];	/* NULL-terminated */
	unsigned int n;
};

struct uoomd_watch_cfg {
	char name[UOOMD_NAME_LEN];
	unsigned int line;		/* of the [watch NAME] header */
	struct uoomd_list cgroup;	/* globs relative to cgroup_root */
	unsigned int backends;		/* UOOM_BACKEND_MASK()s, 0: auto */
	unsigned int delay_ms;
	uint64_t reserve;
	char psi_trigger[64];
	enum uoom_policy_kind policy;
	enum uoomd_action action;
	struct uoomd_list prefer, avoid, protect, priority;
	struct uoom_prio_rule rules[UOOMD_MAX_LIST];
	char rule_glob[UOOMD_MAX_LIST][128];
	unsigned int nrules;
	uint64_t min_rss;
	unsigned int snapshot;		/* UOOM_SNAP_* */
	unsigned int top;
	uint64_t grant, high;
	int warn_signal;
	unsigned int grace_ms;
	unsigned int kill_timeout_ms;
	unsigned int settle_ms;		/* after a kill: wait, don't kill more */
};

struct uoomd_config {
	char file[UOOMD_PATH_LEN];	/* name used in messages */
	enum uoomd_log_kind log;
	char log_path[UOOMD_PATH_LEN];
	enum uoom_format log_format;
	char metrics[UOOMD_PATH_LEN];	/* "" = none */
	unsigned int metrics_interval_ms;
	unsigned int rescan_ms;		/* 0 = no rescans */
	char cgroup_root[UOOMD_PATH_LEN];
	char proc_root[UOOMD_PATH_LEN];
	bool dry_run;
	unsigned int nwatches;
	struct uoomd_watch_cfg watch[UOOMD_MAX_SECTIONS];
};

/* Defaults for everything (no watches). */
void uoomd_config_defaults(struct uoomd_config *cfg);
/* Initialise a [watch] section's defaults. */
void uoomd_watch_defaults(struct uoomd_watch_cfg *w);

/*
 * Parse @len bytes of @buf (need not be NUL-terminated) into @cfg, which is
 * reset to the defaults first. @name is the file name used in messages.
 * Returns 0, or -EINVAL with every problem found in @err, one per line, each
 * "NAME:LINE: what is wrong: what is allowed" (at most @errlen bytes).
 */
int uoomd_config_parse(const char *name, const char *buf, size_t len,
		       struct uoomd_config *cfg, char *err, size_t errlen);
/* Read @path and parse it; errors as above (plus open/read errors). */
int uoomd_config_load(const char *path, struct uoomd_config *cfg,
		      char *err, size_t errlen);

/* Value parsers shared with the tests: 0 or -EINVAL / -ERANGE. */
int uoomd_parse_size(const char *s, uint64_t *out);	/* 4096 64K 16M 1G */
int uoomd_parse_duration(const char *s, uint64_t *ms);	/* 500ms 2s 1m; bare=ms */
int uoomd_parse_bool(const char *s, bool *out);
int uoomd_parse_signal(const char *s, int *sig);
const char *uoomd_signal_name(int sig);
const char *uoomd_action_name(enum uoomd_action a);
const char *uoomd_policy_name(enum uoom_policy_kind p);

#endif
