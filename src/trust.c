// SPDX-License-Identifier: BSD-2-Clause
/*
 * The trust rule for code a privileged luprobe loads (trust.h). Paths are
 * resolved (realpath) and every component from the file up to / is looked
 * at: whoever can change a directory on the way can swap what is below it.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "log.h"
#include "trust.h"

#define WHY "luprobe runs with privileges and loads no code another user could change"

static bool held_privileges(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	uint64_t eff;

	if (geteuid() == 0)
		return true;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return true; /* cannot tell: be strict */
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	return eff & (1ULL << CAP_SYS_ADMIN | 1ULL << CAP_BPF | 1ULL << CAP_PERFMON);
}

void trust__init(struct trust *t)
{
	const char *sudo = getenv("SUDO_UID");
	char *end;
	unsigned long u;

	memset(t, 0, sizeof(*t));
	t->privileged = held_privileges();
	t->uids[t->nuids++] = getuid();
	/* root's environment: only a root that means it sets SUDO_UID */
	if (getuid() == 0 && sudo && *sudo) {
		u = strtoul(sudo, &end, 10);
		if (!*end && u > 0 && u < (uid_t)-1)
			t->uids[t->nuids++] = (uid_t)u;
	}
}

static bool trusted_uid(const struct trust *t, uid_t uid)
{
	int i;

	for (i = 0; i < t->nuids; i++)
		if (t->uids[i] == uid)
			return true;
	return uid == 0;
}

static const char *user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "user %s", pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
	return buf;
}

/*
 * One component: `what` is the file checked, `name` the component (the file
 * itself or a directory above or around it). A sticky directory may be
 * writable by others unless `lookup`: then a file could be planted in it.
 */
enum part {
	P_FILE,	  /* the file loaded */
	P_PARENT, /* a directory above it */
	P_LOOKUP, /* a directory modules are looked up in */
};

static int check_one(const struct trust *t, const char *what, const char *name,
		     const struct stat *st, enum part part)
{
	bool lookup = part == P_LOOKUP;
	bool sticky = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && !lookup;
	char who[300], fix[PATH_MAX + 32], where[PATH_MAX + 64] = "";
	struct group *gr;

	if (!trusted_uid(t, st->st_uid)) {
		snprintf(fix, sizeof(fix), "chown root %s", name);
		user_name(st->st_uid, who, sizeof(who));
		strcat(who, " (its owner)");
	} else if ((st->st_mode & S_IWOTH) && !sticky) {
		snprintf(fix, sizeof(fix), "chmod o-w %s", name);
		snprintf(who, sizeof(who), "every user (mode %04o)", st->st_mode & 07777);
	} else if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && !sticky) {
		gr = getgrgid(st->st_gid);
		snprintf(fix, sizeof(fix), "chmod g-w %s", name);
		if (gr)
			snprintf(who, sizeof(who), "group %s (mode %04o)", gr->gr_name,
				 st->st_mode & 07777);
		else
			snprintf(who, sizeof(who), "group %u (mode %04o)", (unsigned)st->st_gid,
				 st->st_mode & 07777);
	} else {
		return 0;
	}
	if (lookup) {
		/* not chmod: /tmp, say, is meant to be writable */
		lp_seterr("%s, a directory on the module path, is writable by %s: " WHY
			  " (a module could be planted in it); keep scripts and modules in "
			  "directories only root and you can write",
			  name, who);
		return -EPERM;
	}
	if (part == P_PARENT)
		snprintf(where, sizeof(where), "its directory %s is ", name);
	lp_seterr("%s: %swritable by %s: " WHY "; %s", what, where, who, fix);
	return -EPERM;
}

/* Every directory above real (a resolved path), up to /. */
static int check_parents(const struct trust *t, const char *what, const char *real)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;
	int err;

	snprintf(dir, sizeof(dir), "%s", real);
	while ((slash = strrchr(dir, '/'))) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) < 0)
			return 0; /* vanished meanwhile: loading it will fail anyway */
		err = check_one(t, what, dir, &st, P_PARENT);
		if (err || slash == dir)
			return err;
	}
	return 0;
}

int trust__file(const struct trust *t, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	int err;

	if (!t->privileged)
		return 0;
	if (!realpath(path, real) || stat(real, &st) < 0)
		return 0; /* loading it says why it cannot be read */
	err = check_one(t, path, real, &st, P_FILE);
	return err ? err : check_parents(t, path, real);
}

int trust__candidate(const struct trust *t, const char *path)
{
	char dir[PATH_MAX], real[PATH_MAX];
	struct stat st;
	char *slash;
	int err;

	if (!t->privileged)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	/* the nearest existing directory: one could make the rest of the way in it */
	do {
		slash = strrchr(dir, '/');
		if (!slash)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	} while (slash && slash != dir && stat(dir, &st) < 0);
	if (!realpath(dir, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	err = check_one(t, path, real, &st, P_LOOKUP);
	if (!err)
		err = check_parents(t, path, real);
	if (!err && access(path, F_OK) == 0)
		err = trust__file(t, path);
	return err;
}
