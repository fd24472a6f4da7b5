/* SPDX-License-Identifier: MIT */
/*
 * uoomd - a configurable OOM handler daemon on libuoom.
 *
 *   uoomd [-c FILE] [-n|--dry-run] [--check] [-f|--foreground] [-v]
 *
 * Main loop: poll libuoom's fd and a signalfd; dispatch libuoom events (the
 * handler is action.c); rescan the globs every `rescan`; write metrics every
 * `metrics_interval` and after each episode; SIGHUP reloads, SIGTERM/SIGINT
 * unregister and exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "uoomd.h"

#define ERRLEN 8192

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uoomd [-c FILE] [-n|--dry-run] [--check] [-f|--foreground] [-v]\n"
		"  -c, --config FILE  configuration (default /etc/uoomd.conf)\n"
		"  -n, --dry-run      watch, snapshot, log, but take no action\n"
		"      --check        validate the configuration and exit (0 valid, 1 not)\n"
		"  -f, --foreground   do not detach\n"
		"  -v, --verbose      debug messages\n"
		"See uoomd(8) and uoomd.conf(5).\n");
}

void uoomd_write_metrics(struct uoomd_daemon *d)
{
	struct uoomd_metrics *m = &d->metrics;
	size_t ng = 0;
	int n, ret;

	d->metrics_dirty = false;
	if (!d->cfg->metrics[0])
		return;
	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++) {
		const struct uoomd_entry *e = &d->e[i];

		if (!e->used || !e->w)
			continue;
		d->gauges[ng].watch = d->cfg->watch[e->sec].name;
		d->gauges[ng].cgroup = e->cgroup;
		d->gauges[ng].backend = uoom_backend_name(uoom_watch_backend(e->w));
		ng++;
	}
	m->log_records = atomic_load(&d->log.records);
	m->log_dropped = atomic_load(&d->log.dropped);
	m->drop_names = uoomd_drop_names;
	m->ndrop = UOOMD_DROP_N;
	for (unsigned int i = 0; i < UOOMD_DROP_N; i++)
		m->log_drop_why[i] = atomic_load(&d->log.drop_why[i]);
	m->enq_count = d->log.enq_count;
	m->enq_sum_ns = d->log.enq_sum_ns;
	m->enq_max_ns = d->log.enq_max_ns;
	n = uoomd_metrics_format(m, d->gauges, ng, d->metrics_buf, UOOMD_METRICS_LEN);
	if (n < 0) {
		uoomd_log_msg(&d->log, UOOMD_ERR, "metrics: more than %u bytes, not written",
			      UOOMD_METRICS_LEN);
		return;
	}
	ret = uoomd_metrics_write(d->cfg->metrics, d->metrics_buf, (size_t)n);
	if (ret) {
		static int warned;

		if (!warned++)
			uoomd_log_msg(&d->log, UOOMD_ERR, "metrics file %s: %s (check that its directory exists and is writable)",
				      d->cfg->metrics, strerror(-ret));
	}
}

static void reload_count(struct uoomd_daemon *d, const char *result)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "result=\"%s\"", result);
	uoomd_metric_add(&d->metrics, M_RELOADS, labels, 1);
	d->metrics_dirty = true;
}

/*
 * SIGHUP: parse the whole new file first; on any error keep the old config.
 * Then swap and rescan: kept cgroups keep their registration (rescan
 * re-applies settings in place), new ones are added, unwanted ones dropped.
 */
static void reload(struct uoomd_daemon *d)
{
	struct uoomd_config *nc = malloc(sizeof(*nc)), *old = d->cfg;
	char *err = malloc(ERRLEN);
	int ret;

	if (!nc || !err) {
		uoomd_log_msg(&d->log, UOOMD_ERR, "reload: out of memory, keeping the old configuration");
		reload_count(d, "failure");
		free(nc);
		free(err);
		return;
	}
	ret = uoomd_config_load(d->cfg_path, nc, err, ERRLEN);
	if (ret) {
		uoomd_log_msg(&d->log, UOOMD_ERR, "reload of %s failed, keeping the old configuration:\n%s",
			      d->cfg_path, err);
		reload_count(d, "failure");
		free(nc);
		free(err);
		return;
	}
	if (strcmp(nc->cgroup_root, old->cgroup_root) || strcmp(nc->proc_root, old->proc_root)) {
		uoomd_log_msg(&d->log, UOOMD_WARNING,
			      "reload: cgroup_root and proc_root changes take effect at the next start; keeping %s and %s",
			      old->cgroup_root, old->proc_root);
		strcpy(nc->cgroup_root, old->cgroup_root);
		strcpy(nc->proc_root, old->proc_root);
	}
	if (nc->log != old->log && nc->log != UOOMD_LOG_FILE)
		uoomd_log_msg(&d->log, UOOMD_WARNING,
			      "reload: switching log to stderr/journal takes effect at the next start");
	d->cfg = nc;
	uoomd_log_reconfigure(&d->log, nc);
	/* entries point at sections of the old config: rescan re-points them */
	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++)
		if (d->e[i].used && d->e[i].sec >= nc->nwatches)
			d->e[i].sec = 0;	/* re-pointed or dropped by the rescan */
	uoomd_rescan(d);
	free(old);
	free(err);
	d->metrics.last_reload_ok_s = uoomd_now_ns(CLOCK_REALTIME) / 1000000000ull;
	reload_count(d, "success");
	uoomd_log_msg(&d->log, UOOMD_INFO, "reloaded %s: %u cgroups watched", d->cfg_path,
		      uoomd_nwatched(d));
}

static int make_ctx(struct uoomd_daemon *d)
{
	struct uoom_params p;
	char err[256] = "";
	unsigned int flags[] = {
		UOOM_F_MLOCKALL | UOOM_F_OOM_SCORE_ADJ,
		UOOM_F_MLOCKALL, UOOM_F_OOM_SCORE_ADJ, 0,
	};
	int ret = -EINVAL;

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		uoom_params_init(&p);
		p.proc_root = d->cfg->proc_root;
		p.cgroup_root = d->cfg->cgroup_root;
		p.flags = flags[i];
		p.oom_score_adj = -1000;
		p.max_watches = UOOMD_MAX_WATCHES;
		p.errbuf = err;
		p.errbuf_len = sizeof(err);
		ret = uoom_ctx_new(&p, &d->ctx);
		if (!ret) {
			if (i)
				uoomd_log_msg(&d->log, UOOMD_WARNING,
					      "running without %s%s%s: %s (needs CAP_IPC_LOCK and CAP_SYS_RESOURCE)",
					      flags[i] & UOOM_F_MLOCKALL ? "" : "mlockall",
					      !(flags[i] & (UOOM_F_MLOCKALL | UOOM_F_OOM_SCORE_ADJ)) ? " and " : "",
					      flags[i] & UOOM_F_OOM_SCORE_ADJ ? "" : "oom_score_adj -1000",
					      err);
			return 0;
		}
		if (ret != -EACCES && ret != -EPERM && ret != -ENOMEM && ret != -EAGAIN)
			break;
	}
	uoomd_log_msg(&d->log, UOOMD_ERR, "cannot start libuoom: %s", err);
	return ret;
}

static uint64_t now_ms(void)
{
	return uoomd_now_ns(CLOCK_MONOTONIC) / 1000000ull;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "check", no_argument, NULL, 'C' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct uoomd_daemon *d = calloc(1, sizeof(*d));
	const char *path = "/etc/uoomd.conf";
	bool check = false, fg = false;
	char *err = malloc(ERRLEN);
	sigset_t set;
	int c, sfd, ret, rc = 0;

	if (!d || !err)
		return 1;
	memset(d, 0, sizeof(*d));	/* resident before mlockall (see log.c) */
	while ((c = getopt_long(argc, argv, "c:nfvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'n': d->dry_run_cli = true; break;
		case 'C': check = true; break;
		case 'f': fg = true; break;
		case 'v': d->verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "uoomd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	snprintf(d->cfg_path, sizeof(d->cfg_path), "%s", path);
	d->cfg = malloc(sizeof(*d->cfg));
	if (!d->cfg)
		return 1;
	ret = uoomd_config_load(path, d->cfg, err, ERRLEN);
	if (ret) {
		fprintf(stderr, "%s", err);
		fprintf(stderr, "uoomd: %s is not valid%s\n", path, check ? "" : ", not starting");
		return 1;
	}
	if (check) {
		printf("%s: OK, %u watch section%s\n", path, d->cfg->nwatches,
		       d->cfg->nwatches == 1 ? "" : "s");
		return 0;
	}

	ret = uoomd_log_init(&d->log, d->cfg, err, ERRLEN);
	if (ret) {
		fprintf(stderr, "uoomd: %s\n", err);
		return 1;
	}
	d->log.verbose = d->verbose;
	d->metrics_buf = malloc(UOOMD_METRICS_LEN);
	if (!d->metrics_buf)
		return 1;
	memset(d->metrics_buf, 0, UOOMD_METRICS_LEN);
	if (!fg && daemon(0, 1)) {
		fprintf(stderr, "uoomd: daemon: %s\n", strerror(errno));
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);	/* before the logger thread starts */
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || uoomd_log_start(&d->log)) {
		fprintf(stderr, "uoomd: signalfd/logger thread: %s\n", strerror(errno));
		return 1;
	}
	if (make_ctx(d)) {
		uoomd_log_fini(&d->log);
		return 1;
	}
	d->metrics.start_s = uoomd_now_ns(CLOCK_REALTIME) / 1000000000ull;
	d->metrics.last_reload_ok_s = d->metrics.start_s;
	uoomd_rescan(d);
	uoomd_log_msg(&d->log, UOOMD_NOTICE,
		      "started: config %s, %u cgroups watched, loop %s, log pipe %zu KiB, ring %d records%s",
		      path, uoomd_nwatched(d), uoom_ctx_loop(d->ctx), d->log.snap_pipe_size >> 10,
		      UOOMD_LOG_SLOTS, uoomd_dry_run(d) ? ", DRY RUN: no actions" : "");
	uoomd_write_metrics(d);

	uint64_t next_rescan = now_ms() + d->cfg->rescan_ms;
	uint64_t next_metrics = now_ms() + d->cfg->metrics_interval_ms;
	uint64_t next_cache = 0;
	bool stop = false;

	while (!stop) {
		struct pollfd pfd[2] = {
			{ .fd = uoom_fd(d->ctx), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		uint64_t now = now_ms(), next = next_metrics;
		int timeout;

		if (d->cfg->rescan_ms && next_rescan < next)
			next = next_rescan;
		timeout = next > now ? (int)(next - now) : 0;
		if (timeout > 1000)
			timeout = 1000;	/* libuoom's idle cmdline refresh */
		if (uoomd_ncached(d) && timeout > UOOMD_CACHE_MS)
			timeout = UOOMD_CACHE_MS;	/* root snapshots */
		ret = poll(pfd, 2, timeout);
		if (ret < 0 && errno != EINTR) {
			uoomd_log_msg(&d->log, UOOMD_ERR, "poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		ret = uoom_dispatch(d->ctx, 0);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
			uoomd_log_msg(&d->log, UOOMD_ERR, "dispatch: %s", strerror(-ret));
		uoomd_drop_gone(d);
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					uoomd_log_msg(&d->log, UOOMD_NOTICE, "SIGHUP: reloading %s",
						      d->cfg_path);
					reload(d);
					next_rescan = now_ms() + d->cfg->rescan_ms;
				} else {
					uoomd_log_msg(&d->log, UOOMD_NOTICE, "%s: exiting",
						      strsignal((int)si.ssi_signo));
					stop = true;
				}
			}
		}
		now = now_ms();
		if (now >= next_cache) {
			/* ahead of a system OOM: see uoomd_cache_snapshots */
			uoomd_cache_snapshots(d);
			next_cache = now + UOOMD_CACHE_MS;
		}
		if (d->cfg->rescan_ms && now >= next_rescan) {
			uoomd_rescan(d);
			next_rescan = now + d->cfg->rescan_ms;
		}
		if (d->metrics_dirty || now >= next_metrics) {
			uoomd_write_metrics(d);
			if (now >= next_metrics)
				next_metrics = now + d->cfg->metrics_interval_ms;
		}
	}
	uoomd_unwatch_all(d);
	uoomd_write_metrics(d);
	uoomd_log_msg(&d->log, UOOMD_INFO,
		      "log: %llu records queued by the handling path, enqueue max %llu ns, mean %llu ns; %llu dropped",
		      (unsigned long long)d->log.enq_count, (unsigned long long)d->log.enq_max_ns,
		      (unsigned long long)(d->log.enq_count ? d->log.enq_sum_ns / d->log.enq_count : 0),
		      (unsigned long long)atomic_load(&d->log.dropped));
	uoom_ctx_free(d->ctx);
	uoomd_log_fini(&d->log);
	free(d->metrics_buf);
	free(d->cfg);
	free(d);
	free(err);
	return rc;
}
