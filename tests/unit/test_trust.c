// SPDX-License-Identifier: BSD-2-Clause
// UNIT-DEPS: trust
/*
 * The trust rule for code a privileged luprobe loads (src/trust.c), on files
 * made here: who owns them and who can write them and the directories above,
 * privileged and not. Run as root (the suite is): files are given to nobody.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "log.h"
#include "trust.h"
#include "unit.h"

#define NOBODY 65534

static char root_dir[64];

static const struct trust privileged = {.privileged = true, .uids = {0}, .nuids = 1};
static const struct trust unprivileged = {.privileged = false, .uids = {NOBODY}, .nuids = 1};

/* A file at root_dir/name with mode, owned by uid. */
static const char *make(const char *name, mode_t mode, uid_t uid)
{
	static char path[8][128];
	static int next;
	char *p = path[next++ % 8];
	FILE *f;

	snprintf(p, 128, "%s/%s", root_dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs("return 1\n", f);
		fclose(f);
	}
	if (chmod(p, mode) || chown(p, uid, (gid_t)-1))
		CHECK(0, "%s: %s", p, strerror(errno));
	return p;
}

static bool setup(void)
{
	snprintf(root_dir, sizeof(root_dir), "/tmp/luprobe-trust-XXXXXX");
	if (geteuid() != 0 || !mkdtemp(root_dir))
		return false;
	return true;
}

static void test_own_files_are_trusted(void)
{
	const char *f = make("own.lua", 0644, 0);

	CHECK(trust__file(&privileged, f) == 0, "%s", lp_lasterr());
	CHECK(trust__candidate(&privileged, f) == 0, "%s", lp_lasterr());
}

static void test_world_writable_file_refused_only_privileged(void)
{
	const char *f = make("ww.lua", 0666, 0);
	char want[512];

	CHECK(trust__file(&privileged, f) == -EPERM, "privileged");
	snprintf(want, sizeof(want),
		 "%s: writable by every user (mode 0666): luprobe runs with privileges and "
		 "loads no code another user could change; chmod o-w %s",
		 f, f);
	CHECK_STR(lp_lasterr(), want);
	lp_clearerr();
	CHECK(trust__file(&unprivileged, f) == 0, "unprivileged: %s", lp_lasterr());
}

static void test_another_users_file_refused_the_invokers_accepted(void)
{
	const struct trust as_nobody = {.privileged = true, .uids = {NOBODY}, .nuids = 1};
	const char *f = make("nobody.lua", 0644, NOBODY);
	char want[512];

	CHECK(trust__file(&privileged, f) == -EPERM, "owned by nobody");
	snprintf(want, sizeof(want),
		 "%s: writable by user nobody (its owner): luprobe runs with privileges and "
		 "loads no code another user could change; chown root %s",
		 f, f);
	CHECK_STR(lp_lasterr(), want);
	lp_clearerr();
	CHECK(trust__file(&as_nobody, f) == 0, "nobody runs it: %s", lp_lasterr());
}

static void test_group_writable_file_refused_unless_roots_group(void)
{
	const char *f = make("gw.lua", 0664, 0);

	CHECK(chown(f, (uid_t)-1, 0) == 0, "chgrp root");
	CHECK(trust__file(&privileged, f) == 0, "root's group: %s", lp_lasterr());
	CHECK(chown(f, (uid_t)-1, NOBODY) == 0, "chgrp nogroup");
	CHECK(trust__file(&privileged, f) == -EPERM, "another group");
	CHECK(strstr(lp_lasterr(), ": writable by group ") && strstr(lp_lasterr(), "chmod g-w "),
	      "%s", lp_lasterr());
	lp_clearerr();
}

static void test_writable_directory_above_refused_sticky_allowed(void)
{
	char dir[128], file[160], want[600];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/sub", root_dir);
	snprintf(file, sizeof(file), "%s/m.lua", dir);
	CHECK(mkdir(dir, 0777) == 0 && chmod(dir, 0777) == 0, "mkdir %s", dir);
	f = fopen(file, "w");
	if (f)
		fclose(f);
	CHECK(trust__file(&privileged, file) == -EPERM, "under a world-writable directory");
	snprintf(want, sizeof(want),
		 "%s: its directory %s is writable by every user (mode 0777): luprobe runs "
		 "with privileges and loads no code another user could change; chmod o-w %s",
		 file, dir, dir);
	CHECK_STR(lp_lasterr(), want);
	lp_clearerr();
	/* like /tmp: others cannot replace a file they do not own */
	CHECK(chmod(dir, 01777) == 0, "chmod");
	CHECK(trust__file(&privileged, file) == 0, "sticky: %s", lp_lasterr());
	/* but they can plant one there: not a directory to look modules up in */
	CHECK(trust__candidate(&privileged, file) == -EPERM, "sticky module directory");
	snprintf(want, sizeof(want),
		 "%s, a directory on the module path, is writable by every user (mode 1777): "
		 "luprobe runs with privileges and loads no code another user could change (a "
		 "module could be planted in it); keep scripts and modules in directories only "
		 "root and you can write",
		 dir);
	CHECK_STR(lp_lasterr(), want);
	lp_clearerr();
	CHECK(trust__candidate(&unprivileged, file) == 0, "unprivileged");
	unlink(file);
	rmdir(dir);
}

static void test_missing_candidate_checks_the_nearest_directory(void)
{
	char dir[128], cand[200];

	snprintf(dir, sizeof(dir), "%s/open", root_dir);
	snprintf(cand, sizeof(cand), "%s/pl/pretty.lua", dir);
	CHECK(mkdir(dir, 0755) == 0, "mkdir");
	CHECK(trust__candidate(&privileged, cand) == 0, "%s", lp_lasterr());
	CHECK(chmod(dir, 0777) == 0, "chmod");
	/* pl/ could be made in it, and pretty.lua in that */
	CHECK(trust__candidate(&privileged, cand) == -EPERM, "writable nearest directory");
	CHECK(strncmp(lp_lasterr(), dir, strlen(dir)) == 0, "%s", lp_lasterr());
	lp_clearerr();
	rmdir(dir);
}

int main(void)
{
	char cmd[128];

	if (!setup()) {
		printf("skip test_trust (needs root to give files away)\n");
		unit_skipped++;
		return unit_summary();
	}
	RUN(test_own_files_are_trusted);
	RUN(test_world_writable_file_refused_only_privileged);
	RUN(test_another_users_file_refused_the_invokers_accepted);
	RUN(test_group_writable_file_refused_unless_roots_group);
	RUN(test_writable_directory_above_refused_sticky_allowed);
	RUN(test_missing_candidate_checks_the_nearest_directory);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", root_dir);
	return unit_summary();
}
