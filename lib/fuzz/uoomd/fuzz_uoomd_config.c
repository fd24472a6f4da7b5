/* SPDX-License-Identifier: MIT */
/*
 * uoomd.conf (uoomd_config_parse, tools/uoomd/config.c). Built by
 * "make -C lib fuzz" when tools/uoomd exists.
 *
 * It returns 0 with no message or -EINVAL with messages "NAME:LINE: ..."
 * one per line; an accepted file has 1..64 watches, each with a cgroup, its
 * lists NULL-terminated with non-empty items inside their own text, rules
 * in -1000..1000, a warn-kill grace below the delay; parsing is
 * deterministic, and a small error buffer gets a prefix of the same text.
 */
#include <errno.h>
#include "fuzz.h"
#include "config.h"

#define ERRLEN 65536

static void check_list(const struct uoomd_list *l, const char *what)
{
	FUZZ_CHECK(l->n <= UOOMD_MAX_LIST, "%s: %u items", what, l->n);
	FUZZ_CHECK(l->item[l->n] == NULL, "%s: list not NULL-terminated", what);
	for (unsigned int i = 0; i < l->n; i++) {
		const char *it = l->item[i];

		FUZZ_CHECK(it >= l->text && it < l->text + sizeof(l->text),
			   "%s: item %u outside its text", what, i);
		FUZZ_CHECK(memchr(it, '\0', (size_t)(l->text + sizeof(l->text) - it)),
			   "%s: item %u not terminated", what, i);
		FUZZ_CHECK(*it, "%s: item %u empty", what, i);
	}
}

static void check_cfg(const struct uoomd_config *c)
{
	FUZZ_CHECK(c->nwatches >= 1 && c->nwatches <= UOOMD_MAX_SECTIONS, "%u watches", c->nwatches);
	FUZZ_CHECK(memchr(c->log_path, '\0', sizeof(c->log_path)) &&
		   memchr(c->metrics, '\0', sizeof(c->metrics)) &&
		   memchr(c->cgroup_root, '\0', sizeof(c->cgroup_root)) &&
		   memchr(c->proc_root, '\0', sizeof(c->proc_root)), "daemon path not terminated");
	for (unsigned int i = 0; i < c->nwatches; i++) {
		const struct uoomd_watch_cfg *w = &c->watch[i];

		FUZZ_CHECK(memchr(w->name, '\0', sizeof(w->name)), "watch name not terminated");
		FUZZ_CHECK(memchr(w->psi_trigger, '\0', sizeof(w->psi_trigger)), "psi_trigger");
		check_list(&w->cgroup, "cgroup");
		FUZZ_CHECK(w->cgroup.n >= 1, "[watch %s] accepted without a cgroup", w->name);
		check_list(&w->prefer, "prefer");
		check_list(&w->avoid, "avoid");
		check_list(&w->protect, "protect");
		check_list(&w->priority, "priority");
		FUZZ_CHECK(w->nrules <= UOOMD_MAX_LIST, "%u rules", w->nrules);
		for (unsigned int r = 0; r < w->nrules; r++) {
			FUZZ_CHECK(w->rules[r].glob == w->rule_glob[r], "rule %u glob", r);
			FUZZ_CHECK(memchr(w->rule_glob[r], '\0', sizeof(w->rule_glob[r])), "rule glob");
			FUZZ_CHECK(w->rules[r].priority >= -1000 && w->rules[r].priority <= 1000,
				   "rule priority %d", w->rules[r].priority);
		}
		FUZZ_CHECK(w->action <= UOOMD_ACT_LOG, "action %d", (int)w->action);
		FUZZ_CHECK(w->policy <= UOOM_POLICY_PRIORITY, "policy %d", (int)w->policy);
		if (w->action == UOOMD_ACT_WARN_KILL && w->delay_ms &&
		    w->backends != UOOM_BACKEND_MASK(UOOM_BACKEND_EVENTS))
			FUZZ_CHECK(w->grace_ms < w->delay_ms, "[watch %s] grace %u >= delay %u",
				   w->name, w->grace_ms, w->delay_ms);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct uoomd_config *a, *b;
	static char *err, *err2;
	size_t small = size ? 1 + data[0] % 200 : 1, elen;
	char *buf = fuzz_dup(data, size);
	int ret, ret2;

	if (!a) {
		a = malloc(sizeof(*a));
		b = malloc(sizeof(*b));
		err = malloc(ERRLEN);
		err2 = malloc(256);
		if (!a || !b || !err || !err2)
			abort();
	}
	ret = uoomd_config_parse("fuzz.conf", buf, size, a, err, ERRLEN);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "ret %d", ret);
	FUZZ_CHECK(memchr(err, '\0', ERRLEN), "message not terminated");
	elen = strlen(err);
	if (ret == 0) {
		FUZZ_CHECK(elen == 0, "accepted with messages: %s", err);
		check_cfg(a);
	} else {
		FUZZ_CHECK(elen > 0, "rejected without a message");
		FUZZ_CHECK(!strncmp(err, "fuzz.conf:", 10), "message without the file name: %.80s", err);
		if (elen < ERRLEN - 1) {
			FUZZ_CHECK(err[elen - 1] == '\n', "last message not ended");
			for (const char *p = strchr(err, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
				FUZZ_CHECK(!strncmp(p + 1, "fuzz.conf:", 10),
					   "a message line without the file name: %.80s", p + 1);
		}
	}

	ret2 = uoomd_config_parse("fuzz.conf", buf, size, b, err2, small);
	FUZZ_CHECK(ret2 == ret, "second parse %d, first %d", ret2, ret);
	FUZZ_CHECK(memchr(err2, '\0', small), "small message buffer not terminated");
	FUZZ_CHECK(!strncmp(err, err2, strlen(err2)), "small buffer: not a prefix");
	if (!ret) {
		FUZZ_CHECK(a->nwatches == b->nwatches && a->log == b->log &&
			   a->dry_run == b->dry_run && a->rescan_ms == b->rescan_ms,
			   "not deterministic");
		for (unsigned int i = 0; i < a->nwatches; i++)
			FUZZ_CHECK(a->watch[i].delay_ms == b->watch[i].delay_ms &&
				   a->watch[i].reserve == b->watch[i].reserve &&
				   a->watch[i].nrules == b->watch[i].nrules &&
				   a->watch[i].cgroup.n == b->watch[i].cgroup.n &&
				   !strcmp(a->watch[i].name, b->watch[i].name), "watch %u differs", i);
	}
	free(buf);
	return 0;
}
