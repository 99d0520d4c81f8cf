/*
 * One host's --copy / --rcopy over SFTP (libssh2, non-blocking). A chain
 * of steps, one per libssh2 call; a call that says EAGAIN is repeated
 * with the same arguments when the ssh transport wakes us again.
 *
 * Push, per file: open DIR/.NAME.mrsh-PID-N (exclusive, 0600), write
 * through the shared cache of copy.c (pipelined: libssh2 keeps up to
 * COPY_WRITE_MAX bytes of SFTP writes in flight), fsetstat (mode, and
 * times with --preserve), fsync@openssh.com when offered, close, rename
 * over the destination: with posix-rename@openssh.com where libssh2
 * (1.11.1) can send it and the server offers it, an atomic replace.
 * Otherwise OpenSSH's SFTP rename (protocol 3) refuses an existing
 * target, so it is removed and the rename repeated: for a moment the
 * name is absent, but it never names a partial file. On a failure the
 * temporary file is removed and the reason names the host's path and the
 * SFTP status.
 *
 * Pull, per remote file: the same into a local temporary file, renamed to
 * LOCALDIR/NAME.HOST (or NAME inside a per-host %h directory).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "mrsh/copy.h"
#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/session.h"
#include "mrsh/ssh_sftp.h"
#include "mrsh/xmalloc.h"

/* Bytes moved by one host before the others get a turn. */
#define SFTP_FAIR_BYTES		(4 * 1024 * 1024)
#define SFTP_READ_SIZE		COPY_WRITE_MAX
/* SFTP channels per host for a tree of files (sshd's MaxSessions is 10). */
#define SFTP_CHANS		4
/* A step's answer inside this file: moved on, run the next step now. */
#define SFTP_GO			((enum sftp_result)100)

enum sftp_step {
	X_INIT = 0,
	X_DEST_STAT,
	X_NEXT,
	X_MKDIR,
	X_MKDIR_STAT,
	X_DIR_SETSTAT,
	X_SYMLINK,
	X_LINK_CHECK,
	X_LINK_LSTAT,
	X_LINK_REMOVE,
	X_OPEN,
	X_WRITE,
	X_FSETSTAT,
	X_FSYNC,
	X_CLOSE,
	X_RENAME,
	X_RN_LSTAT,
	X_RN_REMOVE,
	X_STATVFS,
	X_ABORT_CLOSE,
	X_ABORT_UNLINK,
	P_NEXT,
	P_STAT,
	P_OPEN,
	P_READ,
	P_CLOSE,
	P_OPENDIR,
	P_READDIR,
	P_CLOSEDIR,
	P_READLINK,
	X_SHUTDOWN,
	X_DONE
};

static const char *sftp_step_names[] = {
	"INIT", "DEST_STAT", "NEXT", "MKDIR", "MKDIR_STAT", "DIR_SETSTAT",
	"SYMLINK", "LINK_CHECK", "LINK_LSTAT", "LINK_REMOVE", "OPEN", "WRITE", "FSETSTAT",
	"FSYNC", "CLOSE", "RENAME", "RN_LSTAT", "RN_REMOVE", "STATVFS",
	"ABORT_CLOSE", "ABORT_UNLINK", "P_NEXT", "P_STAT", "P_OPEN", "P_READ",
	"P_CLOSE", "P_OPENDIR", "P_READDIR", "P_CLOSEDIR", "P_READLINK",
	"SHUTDOWN", "DONE"
};

/* --rcopy work: a remote path and where it goes here. */
enum pull_kind { PK_TOP, PK_FILE, PK_DIR, PK_DIR_END, PK_LINK };

struct pull_item {
	enum pull_kind		 kind;
	char			*rpath;
	char			*lpath;
	LIBSSH2_SFTP_ATTRIBUTES	 attrs;
};

/* One SFTP channel (a sftp-server on the host) and the file it works on. */
struct sftp_chan {
	struct sftp_xfer	*xf;
	int			 id;
	struct session		*s;
	LIBSSH2_SESSION		*ssh;
	LIBSSH2_SFTP		*sftp;
	LIBSSH2_SFTP_HANDLE	*h;
	struct copy_plan	*p;
	enum sftp_step		 step;

	size_t			 ientry;	/* the entry it works on */
	int			 busy;		/* ientry taken, not done */
	int			 init_started;
	char			*path;		/* what the step works on */
	char			*tmp;		/* temporary name */
	struct copy_reader	 rd;
	int			 rd_attached;
	int			 retried;
	int			 no_posix_rename;
	unsigned long		 rn_status;	/* of the first rename */
	uint64_t		 bytes;
	uint64_t		 fair;		/* bytes in this turn */
	LIBSSH2_SFTP_ATTRIBUTES	 attrs;
	enum sftp_step		 err_step;
	char			 linkbuf[4096];	/* for the statvfs hint */

	/* pull */
	struct pull_item	*items;		/* a stack */
	size_t			 nitems;
	struct pull_item	 cur;
	int			 isrc;
	int			 fd;
	char			*buf;
	struct pull_item	*kids;		/* one directory's entries */
	size_t			 nkids;
};

/*
 * One host's copy: up to SFTP_CHANS channels on its SSH session, each
 * working on one entry of the plan at a time, so that the round trips
 * of successive small files overlap. Entries are handed out in order; a
 * directory is made before anything after it starts, and its mode and
 * times are set once everything before them is done.
 */
struct sftp_xfer {
	struct session		*s;
	struct copy_plan	*p;
	const size_t		*rx;		/* bytes libssh2 read this turn */
	struct sftp_chan	*chans[SFTP_CHANS];
	int			 nchans;
	struct sftp_chan	*sending;	/* its call is half-sent */
	int			 aborting;	/* sftp_xfer_abort() was called */
	int			 ninit;		/* channels started (in order) */
	char			*dest;		/* --dest for this host */
	int			 dest_is_dir;
	int			 dest_known;	/* X_DEST_STAT done */
	unsigned char		*created;	/* per entry: mkdir made it */
	size_t			 next;		/* next entry to hand out */
	int			 busy_dirs;	/* CE_DIR entries in flight */
	int			 busy;		/* entries in flight */
	uint64_t		 bytes;
	char			*error;
};

static unsigned int	sftp_tmp_seq;

/*
 * The one setter of the sub-step: traces "FROM -> TO" at -vvv with the
 * caller's function and line, as session_set_state().
 */
#define sftp_set_step(x, st) sftp_set_step_at((x), (st), __func__, __LINE__)
static void
sftp_set_step_at(struct sftp_chan *x, enum sftp_step step, const char *func,
    int line)
{
	if (x->step == step)
		return;
	log_msg(LOG_DEBUG2, func, line, "%s: sftp %d: %s -> %s",
	    x->s->host->label, x->id, sftp_step_names[x->step],
	    sftp_step_names[step]);
	x->step = step;
}

/* An SFTP status code in words (OpenSSH sends only the code's text). */
static const char *
sftp_status_str(unsigned long st)
{
	switch (st) {
	case LIBSSH2_FX_EOF:
		return ("end of file");
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
		return ("no such file or directory");
	case LIBSSH2_FX_PERMISSION_DENIED:
		return ("permission denied");
	case LIBSSH2_FX_FAILURE:
		return ("failure");
	case LIBSSH2_FX_BAD_MESSAGE:
		return ("bad message");
	case LIBSSH2_FX_OP_UNSUPPORTED:
		return ("operation unsupported");
	case LIBSSH2_FX_FILE_ALREADY_EXISTS:
		return ("file exists");
	case LIBSSH2_FX_WRITE_PROTECT:
		return ("read-only file system");
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
		return ("no space left on device");
	case LIBSSH2_FX_QUOTA_EXCEEDED:
		return ("disk quota exceeded");
	case LIBSSH2_FX_DIR_NOT_EMPTY:
		return ("directory not empty");
	case LIBSSH2_FX_NOT_A_DIRECTORY:
		return ("not a directory");
	case LIBSSH2_FX_INVALID_FILENAME:
		return ("invalid file name");
	case LIBSSH2_FX_LINK_LOOP:
		return ("too many levels of symbolic links");
	default:
		return ("SFTP error");
	}
}

/* The status of the last failed SFTP request, or 0 for no status. */
static unsigned long
sftp_status(struct sftp_chan *x, int rc)
{
	if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return (0);
	return (libssh2_sftp_last_error(x->sftp));
}

static int
sftp_eagain(struct sftp_chan *x)
{
	return (libssh2_session_last_errno(x->ssh) == LIBSSH2_ERROR_EAGAIN);
}

static void
sftp_set_error(struct sftp_chan *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
sftp_set_error(struct sftp_chan *x, const char *fmt, ...)
{
	va_list	ap;

	if (x->xf->error != NULL)
		return;
	va_start(ap, fmt);
	if (xvasprintf(&x->xf->error, fmt, ap) == -1)
		fatalx("vasprintf");
	va_end(ap);
}

/*
 * A request failed with rc. An SFTP status: record "PATH: OP: why",
 * clean up (close, remove the temporary file), shut SFTP down and report
 * SFTP_FAILED. Anything else broke the connection: SFTP_LOST at once.
 */
static enum sftp_result
sftp_failed(struct sftp_chan *x, int rc, const char *path, const char *op)
{
	unsigned long	st = sftp_status(x, rc);

	if (st == 0) {
		sftp_set_error(x, "connection lost during %s of %s", op, path);
		return (SFTP_LOST);
	}
	sftp_set_error(x, "%s: %s: %s", path, op, sftp_status_str(st));
	x->err_step = x->step;
	if (st == LIBSSH2_FX_FAILURE && (x->step == X_WRITE ||
	    x->step == X_FSYNC || x->step == X_CLOSE)) {
		/*
		 * OpenSSH says "failure" for ENOSPC: look (at close, the
		 * handle is gone: by the temporary file's name).
		 */
		sftp_set_step(x, X_STATVFS);
		return (SFTP_GO);
	}
	/* (A pull's temporary file is local: freed with the channel.) */
	sftp_set_step(x, x->h != NULL ? X_ABORT_CLOSE :
	    x->tmp != NULL && x->p->opt->copy == COPY_PUSH ? X_ABORT_UNLINK :
	    X_SHUTDOWN);
	return (SFTP_GO);
}

/* A local failure (a source file, a local destination). */
static enum sftp_result
sftp_local(struct sftp_chan *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static enum sftp_result
sftp_local(struct sftp_chan *x, const char *fmt, ...)
{
	va_list	ap;

	if (x->xf->error == NULL) {
		va_start(ap, fmt);
		if (xvasprintf(&x->xf->error, fmt, ap) == -1)
			fatalx("vasprintf");
		va_end(ap);
	}
	return (SFTP_LOCAL);
}

/* How many channels: one per file of the plan, at most SFTP_CHANS. */
static int
sftp_nchans(const struct copy_plan *p)
{
	size_t	i;
	int	n = 0;

	if (p->opt->copy != COPY_PUSH)
		return (1);
	for (i = 0; i < p->nentries && n < SFTP_CHANS; i++) {
		if (p->entries[i].kind == CE_FILE)
			n++;
	}
	return (n > 0 ? n : 1);
}

struct sftp_xfer *
sftp_xfer_new(struct session *s, LIBSSH2_SESSION *ssh, struct copy_plan *p,
    const size_t *rx)
{
	struct sftp_xfer	*xf;
	struct sftp_chan	*x;
	size_t			 len;
	int			 i;

	xf = xcalloc(1, sizeof *xf);
	xf->s = s;
	xf->p = p;
	xf->rx = rx;
	xf->dest = copy_expand(p->opt->copy_dest, s->host->label);
	len = strlen(xf->dest);
	while (len > 1 && xf->dest[len - 1] == '/')
		xf->dest[--len] = '\0';
	if (p->nentries > 0)
		xf->created = xcalloc(p->nentries, 1);
	xf->nchans = sftp_nchans(p);
	for (i = 0; i < xf->nchans; i++) {
		x = xf->chans[i] = xcalloc(1, sizeof *x);
		x->xf = xf;
		x->id = i;
		x->s = s;
		x->ssh = ssh;
		x->p = p;
		x->fd = -1;
	}
	s->copy_total = p->total;
	s->copy_via = "sftp";
	return (xf);
}

const char *
sftp_xfer_error(const struct sftp_xfer *xf)
{
	return (xf->error != NULL ? xf->error : "unknown error");
}

/* The channel moved n more file bytes. */
static void
sftp_count(struct sftp_chan *x, uint64_t n)
{
	x->bytes += n;
	x->xf->bytes += n;
	x->s->copy_bytes = x->xf->bytes;
}

static void
sftp_pull_item_free(struct pull_item *it)
{
	free(it->rpath);
	free(it->lpath);
	it->rpath = it->lpath = NULL;
}

static void
sftp_chan_free(struct sftp_chan *x)
{
	size_t	i;

	if (x == NULL)
		return;
	if (x->h != NULL)
		(void)libssh2_sftp_close_handle(x->h);
	if (x->sftp != NULL)
		(void)libssh2_sftp_shutdown(x->sftp);
	if (x->rd_attached)
		copy_reader_detach(x->p, &x->rd);
	if (x->fd != -1) {
		close(x->fd);
		if (x->tmp != NULL && x->p->opt->copy == COPY_PULL)
			(void)unlink(x->tmp);
	}
	for (i = 0; i < x->nitems; i++)
		sftp_pull_item_free(&x->items[i]);
	for (i = 0; i < x->nkids; i++)
		sftp_pull_item_free(&x->kids[i]);
	sftp_pull_item_free(&x->cur);
	free(x->items);
	free(x->kids);
	free(x->buf);
	free(x->path);
	free(x->tmp);
	free(x);
}

void
sftp_xfer_free(struct sftp_xfer *xf)
{
	int	i;

	if (xf == NULL)
		return;
	for (i = 0; i < xf->nchans; i++)
		sftp_chan_free(xf->chans[i]);
	free(xf->created);
	free(xf->dest);
	free(xf->error);
	free(xf);
}

/* ---- push ----------------------------------------------------------- */

/* Where entry e goes on this host. */
static char *
sftp_target(struct sftp_chan *x, const struct copy_entry *e)
{
	char	*r;

	if (x->xf->dest_is_dir)
		xasprintf(&r, "%s%s%s", x->xf->dest,
		    strcmp(x->xf->dest, "/") == 0 ? "" : "/", e->rel);
	else
		xasprintf(&r, "%s%s", x->xf->dest, e->rel + e->top_len);
	return (r);
}

/* DIR/.NAME.mrsh-PID-N beside path. */
static char *
sftp_tmpname(const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*r;
	int		 dirlen = slash != NULL ? (int)(slash - path + 1) : 0;

	xasprintf(&r, "%.*s.%s.mrsh-%ld-%u", dirlen, path,
	    slash != NULL ? slash + 1 : path, (long)getpid(), ++sftp_tmp_seq);
	return (r);
}

static mode_t
sftp_mode(struct sftp_chan *x, mode_t mode)
{
	return (mode & (x->p->opt->preserve ? 07777 : 0777));
}

/* Attributes to set: the mode, and the times with --preserve. */
static void
sftp_entry_attrs(struct sftp_chan *x, const struct copy_entry *e)
{
	memset(&x->attrs, 0, sizeof x->attrs);
	x->attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
	x->attrs.permissions = sftp_mode(x, e->mode);
	if (x->p->opt->preserve) {
		x->attrs.flags |= LIBSSH2_SFTP_ATTR_ACMODTIME;
		x->attrs.atime = (unsigned long)e->atime.tv_sec;
		x->attrs.mtime = (unsigned long)e->mtime.tv_sec;
	}
}

/* The channel's entry is done (or skipped): it is free for the next. */
static void
sftp_push_done(struct sftp_chan *x)
{
	if (x->busy) {
		x->busy = 0;
		x->xf->busy--;
		if (x->p->entries[x->ientry].kind == CE_DIR)
			x->xf->busy_dirs--;
	}
	free(x->path);
	x->path = NULL;
	free(x->tmp);
	x->tmp = NULL;
	x->retried = 0;
	sftp_set_step(x, X_NEXT);
}

/*
 * X_NEXT: take the next entry of the plan, SHUTDOWN when there is none
 * (or another channel failed), or SFTP_AGAIN while the entry must wait:
 * anything waits for the directories in flight (they may be its
 * parents), a directory's mode and times for everything before them.
 */
static enum sftp_result
sftp_push_take(struct sftp_chan *x)
{
	struct sftp_xfer	*xf = x->xf;
	const struct copy_entry	*e;

	if (xf->error != NULL || xf->next >= x->p->nentries) {
		sftp_set_step(x, X_SHUTDOWN);
		return (SFTP_GO);
	}
	e = &x->p->entries[xf->next];
	if (e->kind == CE_DIR_END ? xf->busy > 0 : xf->busy_dirs > 0)
		return (SFTP_AGAIN);
	x->ientry = xf->next++;
	x->busy = 1;
	xf->busy++;
	if (e->kind == CE_DIR)
		xf->busy_dirs++;
	x->path = sftp_target(x, e);
	switch (e->kind) {
	case CE_DIR:
		sftp_set_step(x, X_MKDIR);
		break;
	case CE_DIR_END:
		sftp_entry_attrs(x, e);
		if (!x->p->opt->preserve && !xf->created[x->ientry]) {
			/* An existing directory keeps its mode (as cp). */
			sftp_push_done(x);
			break;
		}
		sftp_set_step(x, X_DIR_SETSTAT);
		break;
	case CE_SYMLINK:
		sftp_set_step(x, X_SYMLINK);
		break;
	case CE_FILE:
		x->tmp = sftp_tmpname(x->path);
		sftp_set_step(x, X_OPEN);
		break;
	}
	return (SFTP_GO);
}

/* Mark the CE_DIR_END of the directory entry i as created by us. */
static void
sftp_mark_created(struct sftp_chan *x, size_t i)
{
	const char	*rel = x->p->entries[i].rel;
	size_t		 j;

	for (j = i + 1; j < x->p->nentries; j++) {
		if (x->p->entries[j].kind == CE_DIR_END &&
		    strcmp(x->p->entries[j].rel, rel) == 0) {
			x->xf->created[j] = 1;
			return;
		}
	}
}

/* X_WRITE: hand the server the file, a pipelined window at a time. */
static enum sftp_result
sftp_write(struct sftp_chan *x)
{
	const char	*data;
	char		 err[512];
	size_t		 len;
	ssize_t		 n;

	for (;;) {
		if (x->rd.off >= x->rd.src->size)
			break;
		if (x->fair >= SFTP_FAIR_BYTES) {
			x->fair = 0;
			return (SFTP_YIELD);
		}
		data = copy_reader_data(x->p, &x->rd, COPY_WRITE_MAX, &len,
		    err, sizeof err);
		if (data == NULL)
			return (sftp_local(x, "%s", err));
		n = libssh2_sftp_write(x->h, data, len);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (n < 0)
			return (sftp_failed(x, (int)n, x->path, "write"));
		copy_reader_advance(x->p, &x->rd, (size_t)n);
		sftp_count(x, (uint64_t)n);
		x->fair += (uint64_t)n;
	}
	copy_reader_detach(x->p, &x->rd);
	x->rd_attached = 0;
	sftp_entry_attrs(x, &x->p->entries[x->ientry]);
	sftp_set_step(x, X_FSETSTAT);
	return (SFTP_GO);
}

/* One push step: SFTP_GO when it moved on, or what to tell the caller. */
static enum sftp_result
sftp_push_step(struct sftp_chan *x)
{
	const struct copy_entry	*e = x->ientry < x->p->nentries ?
				    &x->p->entries[x->ientry] : NULL;
	LIBSSH2_SFTP_ATTRIBUTES	 st;
	int			 rc, plain;

	switch (x->step) {
	case X_DEST_STAT:
		/* Every channel starts first: nothing else is in flight. */
		if (x->xf->ninit < x->xf->nchans)
			return (SFTP_AGAIN);
		rc = libssh2_sftp_stat_ex(x->sftp, x->xf->dest,
		    (unsigned int)strlen(x->xf->dest), LIBSSH2_SFTP_STAT, &st);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc == 0 && LIBSSH2_SFTP_S_ISDIR(st.permissions))
			x->xf->dest_is_dir = 1;
		else if (rc == 0 && !x->p->top_is_file) {
			sftp_set_error(x, "%s: not a directory", x->xf->dest);
			sftp_set_step(x, X_SHUTDOWN);
			return (SFTP_GO);
		} else if (rc != 0 && (x->p->ntop > 1 ||
		    sftp_status(x, rc) != LIBSSH2_FX_NO_SUCH_FILE))
			return (sftp_failed(x, rc, x->xf->dest, "stat"));
		x->xf->dest_known = 1;
		sftp_set_step(x, X_NEXT);
		return (SFTP_GO);
	case X_MKDIR:
		rc = libssh2_sftp_mkdir_ex(x->sftp, x->path,
		    (unsigned int)strlen(x->path), 0700);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0) {
			if (sftp_status(x, rc) == 0)
				return (sftp_failed(x, rc, x->path, "mkdir"));
			/* It may exist already: fine if a directory. */
			sftp_set_step(x, X_MKDIR_STAT);
			return (SFTP_GO);
		}
		sftp_mark_created(x, x->ientry);
		sftp_push_done(x);
		return (SFTP_GO);
	case X_MKDIR_STAT:
		rc = libssh2_sftp_stat_ex(x->sftp, x->path,
		    (unsigned int)strlen(x->path), LIBSSH2_SFTP_STAT, &st);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0)
			return (sftp_failed(x, rc, x->path, "mkdir"));
		if (!LIBSSH2_SFTP_S_ISDIR(st.permissions)) {
			sftp_set_error(x, "%s: mkdir: file exists and is not "
			    "a directory", x->path);
			sftp_set_step(x, X_SHUTDOWN);
			return (SFTP_GO);
		}
		sftp_push_done(x);
		return (SFTP_GO);
	case X_DIR_SETSTAT:
		rc = libssh2_sftp_stat_ex(x->sftp, x->path,
		    (unsigned int)strlen(x->path), LIBSSH2_SFTP_SETSTAT,
		    &x->attrs);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0)
			return (sftp_failed(x, rc, x->path, "setstat"));
		sftp_push_done(x);
		return (SFTP_GO);
	case X_SYMLINK:
		/* OpenSSH's sftp-server takes (target, link) swapped. */
		rc = libssh2_sftp_symlink_ex(x->sftp, e->link,
		    (unsigned int)strlen(e->link), x->path,
		    (unsigned int)strlen(x->path), LIBSSH2_SFTP_SYMLINK);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0) {
			if (sftp_status(x, rc) == 0)
				return (sftp_failed(x, rc, x->path,
				    "symlink"));
			/*
			 * libssh2 1.10 reports an error for some symlinks
			 * the server made: read the link back.
			 */
			sftp_set_step(x, X_LINK_CHECK);
			return (SFTP_GO);
		}
		sftp_push_done(x);
		return (SFTP_GO);
	case X_LINK_CHECK:
		rc = libssh2_sftp_symlink_ex(x->sftp, x->path,
		    (unsigned int)strlen(x->path), x->linkbuf,
		    sizeof x->linkbuf - 1, LIBSSH2_SFTP_READLINK);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc < 0 && sftp_status(x, rc) == 0)
			return (sftp_failed(x, rc, x->path, "symlink"));
		if (rc >= 0) {
			x->linkbuf[rc] = '\0';
			if (strcmp(x->linkbuf, e->link) == 0) {
				sftp_push_done(x);
				return (SFTP_GO);
			}
		}
		if (rc < 0 && sftp_status(x, rc) == LIBSSH2_FX_NO_SUCH_FILE) {
			sftp_set_error(x, "%s: symlink: cannot create",
			    x->path);
			sftp_set_step(x, X_SHUTDOWN);
			return (SFTP_GO);
		}
		if (x->retried) {
			sftp_set_error(x, "%s: symlink: file exists", x->path);
			sftp_set_step(x, X_SHUTDOWN);
			return (SFTP_GO);
		}
		x->retried = 1;
		sftp_set_step(x, X_LINK_LSTAT);
		return (SFTP_GO);
	case X_LINK_LSTAT:
	case X_RN_LSTAT:
		rc = libssh2_sftp_stat_ex(x->sftp, x->path,
		    (unsigned int)strlen(x->path), LIBSSH2_SFTP_LSTAT, &st);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0) {
			if (x->step == X_RN_LSTAT && sftp_status(x, rc) ==
			    LIBSSH2_FX_NO_SUCH_FILE) {
				/* No target in the way: the rename's reason. */
				sftp_set_error(x, "%s: rename: %s", x->path,
				    sftp_status_str(x->rn_status));
				sftp_set_step(x, X_ABORT_UNLINK);
				return (SFTP_GO);
			}
			if (x->step == X_RN_LSTAT) {
				sftp_set_step(x, X_RENAME);
				return (sftp_failed(x, rc, x->path,
				    "rename"));
			}
			return (sftp_failed(x, rc, x->path, "symlink"));
		}
		if (LIBSSH2_SFTP_S_ISDIR(st.permissions)) {
			sftp_set_error(x, "%s: is a directory", x->path);
			sftp_set_step(x, x->tmp != NULL ? X_ABORT_UNLINK :
			    X_SHUTDOWN);
			return (SFTP_GO);
		}
		sftp_set_step(x, x->step == X_RN_LSTAT ? X_RN_REMOVE :
		    X_LINK_REMOVE);
		return (SFTP_GO);
	case X_LINK_REMOVE:
	case X_RN_REMOVE:
		rc = libssh2_sftp_unlink_ex(x->sftp, x->path,
		    (unsigned int)strlen(x->path));
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0)
			return (sftp_failed(x, rc, x->path, "replace"));
		sftp_set_step(x, x->step == X_RN_REMOVE ? X_RENAME :
		    X_SYMLINK);
		return (SFTP_GO);
	case X_OPEN:
		x->h = libssh2_sftp_open_ex(x->sftp, x->tmp,
		    (unsigned int)strlen(x->tmp), LIBSSH2_FXF_WRITE |
		    LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL | LIBSSH2_FXF_TRUNC,
		    0600, LIBSSH2_SFTP_OPENFILE);
		if (x->h == NULL) {
			if (sftp_eagain(x))
				return (SFTP_AGAIN);
			rc = libssh2_session_last_errno(x->ssh);
			free(x->tmp);
			x->tmp = NULL;	/* not ours to remove */
			return (sftp_failed(x, rc, x->path, "open"));
		}
		copy_reader_attach(x->p, &x->rd, e->src);
		x->rd_attached = 1;
		sftp_set_step(x, X_WRITE);
		return (SFTP_GO);
	case X_WRITE:
		return (sftp_write(x));
	case X_FSETSTAT:
		rc = libssh2_sftp_fsetstat(x->h, &x->attrs);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0)
			return (sftp_failed(x, rc, x->path, "chmod"));
		sftp_set_step(x, X_FSYNC);
		return (SFTP_GO);
	case X_FSYNC:
		rc = libssh2_sftp_fsync(x->h);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0 &&
		    sftp_status(x, rc) != LIBSSH2_FX_OP_UNSUPPORTED)
			return (sftp_failed(x, rc, x->path, "fsync"));
		sftp_set_step(x, X_CLOSE);
		return (SFTP_GO);
	case X_CLOSE:
		rc = libssh2_sftp_close_handle(x->h);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		x->h = NULL;	/* freed whatever the answer */
		if (rc != 0)
			return (sftp_failed(x, rc, x->path, "close"));
		sftp_set_step(x, X_RENAME);
		return (SFTP_GO);
	case X_RENAME:
		plain = 1;
#ifdef HAVE_LIBSSH2_SFTP_POSIX_RENAME_EX
		if (!x->no_posix_rename && !x->retried) {
			/* rename(2) on the server: an atomic replace. */
			plain = 0;
			rc = libssh2_sftp_posix_rename_ex(x->sftp, x->tmp,
			    strlen(x->tmp), x->path, strlen(x->path));
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return (SFTP_AGAIN);
			if (rc > 0 ||
			    sftp_status(x, rc) == LIBSSH2_FX_OP_UNSUPPORTED) {
				/*
				 * Not offered: 1.11.1 returns the status
				 * LIBSSH2_FX_OP_UNSUPPORTED as a positive
				 * number. Protocol 3's rename from now on.
				 */
				x->no_posix_rename = 1;
				plain = 1;
			}
		}
#endif
		if (plain)
			rc = libssh2_sftp_rename_ex(x->sftp, x->tmp,
			    (unsigned int)strlen(x->tmp), x->path,
			    (unsigned int)strlen(x->path),
			    LIBSSH2_SFTP_RENAME_OVERWRITE |
			    LIBSSH2_SFTP_RENAME_ATOMIC |
			    LIBSSH2_SFTP_RENAME_NATIVE);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0) {
			if (sftp_status(x, rc) == 0 || x->retried)
				return (sftp_failed(x, rc, x->path,
				    "rename"));
			/* Protocol 3 does not replace: look at the target. */
			x->retried = 1;
			x->rn_status = sftp_status(x, rc);
			sftp_set_step(x, X_RN_LSTAT);
			return (SFTP_GO);
		}
		sftp_push_done(x);
		return (SFTP_GO);
	default:
		fatalx("sftp push: bad step %d", x->step);
	}
}

/* ---- pull ----------------------------------------------------------- */

static void
sftp_pull_push(struct sftp_chan *x, enum pull_kind kind, const char *rpath,
    const char *lpath, const LIBSSH2_SFTP_ATTRIBUTES *attrs)
{
	struct pull_item	*it;

	x->items = xreallocarray(x->items, x->nitems + 1, sizeof *x->items);
	it = &x->items[x->nitems++];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->rpath = xstrdup(rpath);
	it->lpath = lpath != NULL ? xstrdup(lpath) : NULL;
	if (attrs != NULL)
		it->attrs = *attrs;
}

/* Where remote source i goes here. */
static char *
sftp_pull_target(struct sftp_chan *x, const char *src)
{
	char	*base, *r;

	base = copy_basename(src);
	if (copy_has_host(x->p->opt->copy_dest))
		xasprintf(&r, "%s/%s", x->xf->dest, base);
	else
		xasprintf(&r, "%s/%s.%s", x->xf->dest, base, x->s->host->label);
	free(base);
	return (r);
}

/* Mode and times of a finished local file or directory. */
static int
sftp_pull_attrs(struct sftp_chan *x, int fd, const char *path,
    const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	struct timespec	ts[2];
	mode_t		mode;

	if (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) {
		mode = sftp_mode(x, (mode_t)a->permissions);
		if ((fd != -1 ? fchmod(fd, mode) : chmod(path, mode)) == -1)
			return (-1);
	}
	if (x->p->opt->preserve && (a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME)) {
		ts[0].tv_sec = (time_t)a->atime;
		ts[1].tv_sec = (time_t)a->mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if ((fd != -1 ? futimens(fd, ts) :
		    utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW)) == -1)
			return (-1);
	}
	return (0);
}

/* Take the next item off the stack. */
static enum sftp_result
sftp_pull_next(struct sftp_chan *x)
{
	const struct options	*opt = x->p->opt;
	struct stat		 sb;
	char			*name;

	sftp_pull_item_free(&x->cur);
	free(x->tmp);
	x->tmp = NULL;
	if (x->nitems == 0) {
		if (x->isrc >= opt->ncopy_src) {
			sftp_set_step(x, X_SHUTDOWN);
			return (SFTP_GO);
		}
		name = sftp_pull_target(x, opt->copy_src[x->isrc]);
		sftp_pull_push(x, PK_TOP, opt->copy_src[x->isrc], name, NULL);
		free(name);
		x->isrc++;
	}
	x->cur = x->items[--x->nitems];
	switch (x->cur.kind) {
	case PK_TOP:
		sftp_set_step(x, P_STAT);
		break;
	case PK_FILE:
		sftp_set_step(x, P_OPEN);
		break;
	case PK_LINK:
		sftp_set_step(x, P_READLINK);
		break;
	case PK_DIR:
		if (mkdir(x->cur.lpath, 0700) == -1) {
			if (errno != EEXIST)
				return (sftp_local(x, "%s: %s", x->cur.lpath,
				    strerror(errno)));
			/* Fine if a directory (or a link to one). */
			if (stat(x->cur.lpath, &sb) == -1 ||
			    !S_ISDIR(sb.st_mode))
				return (sftp_local(x, "%s: file exists and "
				    "is not a directory", x->cur.lpath));
		}
		sftp_pull_push(x, PK_DIR_END, x->cur.rpath, x->cur.lpath,
		    &x->cur.attrs);
		sftp_set_step(x, P_OPENDIR);
		break;
	case PK_DIR_END:
		if (sftp_pull_attrs(x, -1, x->cur.lpath, &x->cur.attrs) != 0)
			return (sftp_local(x, "%s: %s", x->cur.lpath,
			    strerror(errno)));
		return (sftp_pull_next(x));
	}
	return (SFTP_GO);
}

/* A local temporary file beside lpath. */
static int
sftp_pull_open_local(struct sftp_chan *x)
{
	x->tmp = sftp_tmpname(x->cur.lpath);
	x->fd = open(x->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (x->fd == -1) {
		free(x->tmp);
		x->tmp = NULL;
		return (-1);
	}
	return (0);
}

/* The local file is complete: attributes, rename into place. */
static enum sftp_result
sftp_pull_finish(struct sftp_chan *x)
{
	int	fd = x->fd;

	x->fd = -1;
	if (sftp_pull_attrs(x, fd, x->tmp, &x->cur.attrs) != 0 ||
	    close(fd) == -1) {
		(void)unlink(x->tmp);
		return (sftp_local(x, "%s: %s", x->cur.lpath,
		    strerror(errno)));
	}
	if (rename(x->tmp, x->cur.lpath) == -1) {
		(void)unlink(x->tmp);
		return (sftp_local(x, "%s: %s", x->cur.lpath,
		    strerror(errno)));
	}
	return (sftp_pull_next(x));
}

/* Queue one directory's entries (sorted, for a stable order). */
static int
sftp_kid_cmp(const void *a, const void *b)
{
	const struct pull_item	*ka = a, *kb = b;

	return (-strcmp(ka->rpath, kb->rpath));	/* popped in order */
}

static enum sftp_result
sftp_pull_step(struct sftp_chan *x)
{
	LIBSSH2_SFTP_ATTRIBUTES	 st;
	char			 name[1024], *rp, *lp;
	ssize_t			 n;
	size_t			 i, done;
	int			 rc;

	switch (x->step) {
	case P_NEXT:
		return (sftp_pull_next(x));
	case P_STAT:
		rc = libssh2_sftp_stat_ex(x->sftp, x->cur.rpath,
		    (unsigned int)strlen(x->cur.rpath), LIBSSH2_SFTP_STAT,
		    &x->cur.attrs);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc != 0)
			return (sftp_failed(x, rc, x->cur.rpath, "stat"));
		if (LIBSSH2_SFTP_S_ISDIR(x->cur.attrs.permissions)) {
			if (!x->p->opt->recursive) {
				sftp_set_error(x, "%s: is a directory (use "
				    "-r)", x->cur.rpath);
				sftp_set_step(x, X_SHUTDOWN);
				return (SFTP_GO);
			}
			x->cur.kind = PK_DIR;
			sftp_pull_push(x, PK_DIR, x->cur.rpath, x->cur.lpath,
			    &x->cur.attrs);
			return (sftp_pull_next(x));
		}
		if (!LIBSSH2_SFTP_S_ISREG(x->cur.attrs.permissions)) {
			sftp_set_error(x, "%s: not a regular file",
			    x->cur.rpath);
			sftp_set_step(x, X_SHUTDOWN);
			return (SFTP_GO);
		}
		sftp_set_step(x, P_OPEN);
		return (SFTP_GO);
	case P_OPEN:
		x->h = libssh2_sftp_open_ex(x->sftp, x->cur.rpath,
		    (unsigned int)strlen(x->cur.rpath), LIBSSH2_FXF_READ, 0,
		    LIBSSH2_SFTP_OPENFILE);
		if (x->h == NULL) {
			if (sftp_eagain(x))
				return (SFTP_AGAIN);
			return (sftp_failed(x,
			    libssh2_session_last_errno(x->ssh), x->cur.rpath,
			    "open"));
		}
		if (sftp_pull_open_local(x) != 0)
			return (sftp_local(x, "%s: %s", x->cur.lpath,
			    strerror(errno)));
		if (x->buf == NULL)
			x->buf = xmalloc(SFTP_READ_SIZE);
		sftp_set_step(x, P_READ);
		return (SFTP_GO);
	case P_READ:
		for (;;) {
			if (x->fair >= SFTP_FAIR_BYTES) {
				x->fair = 0;
				return (SFTP_YIELD);
			}
			n = libssh2_sftp_read(x->h, x->buf, SFTP_READ_SIZE);
			if (n == LIBSSH2_ERROR_EAGAIN)
				return (SFTP_AGAIN);
			if (n < 0)
				return (sftp_failed(x, (int)n, x->cur.rpath,
				    "read"));
			if (n == 0)
				break;
			for (done = 0; done < (size_t)n; ) {
				rc = (int)write(x->fd, x->buf + done,
				    (size_t)n - done);
				if (rc == -1 && errno == EINTR)
					continue;
				if (rc == -1)
					return (sftp_local(x, "%s: %s",
					    x->cur.lpath, strerror(errno)));
				done += (size_t)rc;
			}
			sftp_count(x, (uint64_t)n);
			x->fair += (uint64_t)n;
		}
		sftp_set_step(x, P_CLOSE);
		return (SFTP_GO);
	case P_CLOSE:
		rc = libssh2_sftp_close_handle(x->h);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		x->h = NULL;
		if (rc != 0)
			return (sftp_failed(x, rc, x->cur.rpath, "close"));
		return (sftp_pull_finish(x));
	case P_READLINK:
		rc = libssh2_sftp_symlink_ex(x->sftp, x->cur.rpath,
		    (unsigned int)strlen(x->cur.rpath), name, sizeof name - 1,
		    LIBSSH2_SFTP_READLINK);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		if (rc < 0)
			return (sftp_failed(x, rc, x->cur.rpath, "readlink"));
		name[rc] = '\0';
		(void)unlink(x->cur.lpath);
		if (symlink(name, x->cur.lpath) == -1)
			return (sftp_local(x, "%s: %s", x->cur.lpath,
			    strerror(errno)));
		return (sftp_pull_next(x));
	case P_OPENDIR:
		x->h = libssh2_sftp_open_ex(x->sftp, x->cur.rpath,
		    (unsigned int)strlen(x->cur.rpath), 0, 0,
		    LIBSSH2_SFTP_OPENDIR);
		if (x->h == NULL) {
			if (sftp_eagain(x))
				return (SFTP_AGAIN);
			return (sftp_failed(x,
			    libssh2_session_last_errno(x->ssh), x->cur.rpath,
			    "opendir"));
		}
		sftp_set_step(x, P_READDIR);
		return (SFTP_GO);
	case P_READDIR:
		for (;;) {
			rc = libssh2_sftp_readdir_ex(x->h, name, sizeof name,
			    NULL, 0, &st);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return (SFTP_AGAIN);
			if (rc < 0)
				return (sftp_failed(x, rc, x->cur.rpath,
				    "readdir"));
			if (rc == 0)
				break;
			name[rc] = '\0';
			if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
				continue;
			xasprintf(&rp, "%s/%s", x->cur.rpath, name);
			xasprintf(&lp, "%s/%s", x->cur.lpath, name);
			x->kids = xreallocarray(x->kids, x->nkids + 1,
			    sizeof *x->kids);
			memset(&x->kids[x->nkids], 0, sizeof *x->kids);
			x->kids[x->nkids].rpath = rp;
			x->kids[x->nkids].lpath = lp;
			x->kids[x->nkids].attrs = st;
			x->kids[x->nkids].kind =
			    LIBSSH2_SFTP_S_ISDIR(st.permissions) ? PK_DIR :
			    LIBSSH2_SFTP_S_ISLNK(st.permissions) ? PK_LINK :
			    LIBSSH2_SFTP_S_ISREG(st.permissions) ? PK_FILE :
			    PK_DIR_END;	/* other types: skipped */
			x->nkids++;
		}
		sftp_set_step(x, P_CLOSEDIR);
		return (SFTP_GO);
	case P_CLOSEDIR:
		rc = libssh2_sftp_close_handle(x->h);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (SFTP_AGAIN);
		x->h = NULL;
		if (rc != 0)
			return (sftp_failed(x, rc, x->cur.rpath, "closedir"));
		if (x->nkids > 0)
			qsort(x->kids, x->nkids, sizeof *x->kids,
			    sftp_kid_cmp);
		for (i = 0; i < x->nkids; i++) {
			if (x->kids[i].kind != PK_DIR_END)
				sftp_pull_push(x, x->kids[i].kind,
				    x->kids[i].rpath, x->kids[i].lpath,
				    &x->kids[i].attrs);
			sftp_pull_item_free(&x->kids[i]);
		}
		x->nkids = 0;
		return (sftp_pull_next(x));
	default:
		fatalx("sftp pull: bad step %d", x->step);
	}
}

/* ---- the driver ----------------------------------------------------- */

/* X_STATVFS: after an SFTP "failure" while storing, is the disk full? */
static enum sftp_result
sftp_statvfs(struct sftp_chan *x)
{
	LIBSSH2_SFTP_STATVFS	vfs;
	char			*old;
	int			 rc;

	if (x->h != NULL)
		rc = libssh2_sftp_fstatvfs(x->h, &vfs);
	else
		rc = libssh2_sftp_statvfs(x->sftp, x->tmp,
		    strlen(x->tmp), &vfs);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return (SFTP_AGAIN);
	if (rc == 0 && vfs.f_bavail == 0) {
		old = x->xf->error;
		x->xf->error = NULL;
		sftp_set_error(x, "%s: %s: no space left on device", x->path,
		    x->err_step == X_WRITE ? "write" : x->err_step == X_FSYNC ?
		    "fsync" : "close");
		free(old);
	} else if (rc != 0 && sftp_status(x, rc) == 0) {
		sftp_set_step(x, x->h != NULL ? X_ABORT_CLOSE :
		    X_ABORT_UNLINK);
		return (SFTP_LOST);
	}
	sftp_set_step(x, x->h != NULL ? X_ABORT_CLOSE : X_ABORT_UNLINK);
	return (SFTP_GO);
}

/*
 * Is a channel between the start and the end of libssh2_sftp_init()?
 * libssh2 then holds the session's one SFTP start-up state: closing
 * another channel meanwhile leaves that start-up waiting forever.
 */
static int
sftp_init_busy(const struct sftp_xfer *xf)
{
	int	i;

	for (i = 0; i < xf->nchans; i++) {
		if (xf->chans[i]->step == X_INIT &&
		    xf->chans[i]->init_started)
			return (1);
	}
	return (0);
}

static enum sftp_result
sftp_chan_run(struct sftp_chan *x)
{
	enum sftp_result	r;
	int			rc;

	for (;;) {
		switch (x->step) {
		case X_INIT:
			if (x->id > 0 && !x->init_started &&
			    x->xf->error != NULL) {
				x->xf->ninit++;
				sftp_set_step(x, X_DONE);
				continue;
			}
			if (x->xf->ninit != x->id)
				return (SFTP_AGAIN);	/* one at a time */
			/* Once begun, finished: libssh2 holds its state. */
			x->init_started = 1;
			x->sftp = libssh2_sftp_init(x->ssh);
			if (x->sftp == NULL) {
				if (sftp_eagain(x))
					return (SFTP_AGAIN);
				x->xf->ninit++;
				if (x->id > 0 && libssh2_session_last_errno(
				    x->ssh) == LIBSSH2_ERROR_CHANNEL_FAILURE) {
					/* MaxSessions: fewer channels. */
					debug("%s: SFTP channel %d refused",
					    x->s->host->label, x->id);
					sftp_set_step(x, X_DONE);
					continue;
				}
				sftp_set_error(x, "the SFTP subsystem failed "
				    "to start");
				return (SFTP_LOST);
			}
			x->xf->ninit++;
			if (x->id > 0) {
				sftp_set_step(x, X_NEXT);
				continue;
			}
			/* The SFTP server answered: setup is over. */
			x->s->awaiting = NULL;
			session_event(x->s, SEV_COMMAND_STARTED);
			if (x->p->opt->copy == COPY_PULL) {
				if (copy_has_host(x->p->opt->copy_dest) &&
				    mkdir(x->xf->dest, 0777) == -1 &&
				    errno != EEXIST)
					return (sftp_local(x, "%s: %s",
					    x->xf->dest, strerror(errno)));
				sftp_set_step(x, P_NEXT);
			} else
				sftp_set_step(x, X_DEST_STAT);
			continue;
		case X_STATVFS:
			r = sftp_statvfs(x);
			break;
		case X_ABORT_CLOSE:
			rc = libssh2_sftp_close_handle(x->h);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return (SFTP_AGAIN);
			x->h = NULL;
			if (rc != 0 && sftp_status(x, rc) == 0)
				return (SFTP_LOST);
			if (x->rd_attached) {
				copy_reader_detach(x->p, &x->rd);
				x->rd_attached = 0;
			}
			sftp_set_step(x, x->tmp != NULL &&
			    x->p->opt->copy == COPY_PUSH ? X_ABORT_UNLINK :
			    X_SHUTDOWN);
			continue;
		case X_ABORT_UNLINK:
			rc = libssh2_sftp_unlink_ex(x->sftp, x->tmp,
			    (unsigned int)strlen(x->tmp));
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return (SFTP_AGAIN);
			if (rc != 0 && sftp_status(x, rc) == 0)
				return (SFTP_LOST);
			sftp_set_step(x, X_SHUTDOWN);
			continue;
		case X_SHUTDOWN:
			if (sftp_init_busy(x->xf))
				return (SFTP_AGAIN);
			rc = libssh2_sftp_shutdown(x->sftp);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return (SFTP_AGAIN);
			x->sftp = NULL;
			sftp_set_step(x, X_DONE);
			if (rc != 0) {
				sftp_set_error(x, "closing the SFTP channel "
				    "failed");
				return (SFTP_LOST);
			}
			return (SFTP_DONE);
		case X_DONE:
			return (SFTP_DONE);
		case X_NEXT:
			if (!x->xf->dest_known && x->xf->error == NULL)
				return (SFTP_AGAIN);	/* channel 0 looks */
			r = sftp_push_take(x);
			break;
		default:
			if (x->step >= P_NEXT && x->step <= P_READLINK)
				r = sftp_pull_step(x);
			else
				r = sftp_push_step(x);
			break;
		}
		if (r != SFTP_GO)
			return (r);
	}
}

/*
 * A channel waits, but the server's end is at EOF with nothing left to
 * read: the SFTP server exited (killed, or crashed). No answer will come
 * and libssh2 would wait for one for ever; fail the host instead. (Not
 * while shutting down, where the server's EOF is the expected answer.)
 */
static enum sftp_result
sftp_chan_step(struct sftp_chan *x)
{
	enum sftp_result	 r;
	LIBSSH2_CHANNEL		*ch;
	const char		*path;

	r = sftp_chan_run(x);
	if (r != SFTP_AGAIN || x->sftp == NULL || x->step == X_SHUTDOWN ||
	    x->step == X_DONE)
		return (r);
	if ((ch = libssh2_sftp_get_channel(x->sftp)) == NULL ||
	    !libssh2_channel_eof(ch))
		return (r);
	path = x->p->opt->copy == COPY_PULL ? x->cur.rpath : x->path;
	if (path != NULL)
		sftp_set_error(x, "%s: the SFTP server ended", path);
	else
		sftp_set_error(x, "the SFTP server ended");
	(void)libssh2_session_set_last_error(x->ssh,
	    LIBSSH2_ERROR_CHANNEL_CLOSED, "end of file on its channel");
	return (SFTP_LOST);
}

/*
 * Did the last call leave a packet half-sent? libssh2 (1.10
 * transport_send) then completes that packet on the next send of any
 * kind and reports success without sending the new one: until the same
 * call is repeated and finishes, no other channel may call.
 */
static int
sftp_half_sent(const struct sftp_xfer *xf)
{
	return ((libssh2_session_block_directions(xf->chans[0]->ssh) &
	    LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0);
}

int
sftp_xfer_abort(struct sftp_xfer *xf)
{
	if (xf->p->opt->copy != COPY_PUSH || xf->aborting)
		return (0);
	xf->aborting = 1;
	return (1);
}

/*
 * The abort, on every pass once no call is half-sent (a call left so
 * must be repeated alone). A call waiting for its answer is abandoned:
 * libssh2 drops answers nobody asks for at the close of their handle or
 * channel. Some are let finish first: an SFTP start (then it takes
 * nothing), an exclusive open (whether the name became ours is known
 * only from its answer: a name that was not is not ours to remove), a
 * rename and a symbolic link (between the removal of an old target and
 * the rename or the link, stopping would leave the name absent).
 */
static void
sftp_apply_abort(struct sftp_xfer *xf)
{
	struct sftp_chan	*x;
	int			 i;

	if (xf->error == NULL)
		xf->error = xstrdup("interrupted");
	for (i = 0; i < xf->nchans; i++) {
		x = xf->chans[i];
		switch (x->step) {
		case X_INIT:
		case X_OPEN:
		case X_SYMLINK:
		case X_LINK_CHECK:
		case X_LINK_LSTAT:
		case X_LINK_REMOVE:
		case X_RENAME:
		case X_RN_LSTAT:
		case X_RN_REMOVE:
		case X_STATVFS:
		case X_ABORT_CLOSE:
		case X_ABORT_UNLINK:
		case X_SHUTDOWN:
		case X_DONE:
			break;
		default:
			if (x->rd_attached && x->h == NULL) {
				copy_reader_detach(x->p, &x->rd);
				x->rd_attached = 0;
			}
			sftp_set_step(x, x->h != NULL ? X_ABORT_CLOSE :
			    x->tmp != NULL ? X_ABORT_UNLINK : X_SHUTDOWN);
			break;
		}
	}
}

/*
 * Run every channel until none can move. A call on one channel may read
 * the answer another channel waits for into libssh2's buffers, where the
 * socket will not wake us for it: go round again while any channel moved
 * or libssh2 read anything from the socket.
 */
enum sftp_result
sftp_xfer_step(struct sftp_xfer *xf)
{
	struct sftp_chan	*x;
	enum sftp_result	 r;
	enum sftp_step		 step;
	uint64_t		 bytes;
	size_t			 rx;
	int			 i, moved, yield, done;

	if (xf->sending != NULL) {
		/* Only the call that left a packet half-sent may go on. */
		r = sftp_chan_step(xf->sending);
		if (r == SFTP_LOST || r == SFTP_LOCAL)
			return (r);
		if (sftp_half_sent(xf))
			return (SFTP_AGAIN);
		xf->sending = NULL;
	}
	if (xf->aborting)
		sftp_apply_abort(xf);
	for (;;) {
		moved = yield = done = 0;
		rx = *xf->rx;
		for (i = 0; i < xf->nchans; i++) {
			x = xf->chans[i];
			step = x->step;
			bytes = x->bytes;
			r = sftp_chan_step(x);
			if (r == SFTP_LOST || r == SFTP_LOCAL)
				return (r);
			if (r == SFTP_AGAIN && sftp_half_sent(xf)) {
				xf->sending = x;
				return (SFTP_AGAIN);
			}
			if (r == SFTP_YIELD)
				yield = 1;
			if (r == SFTP_DONE)
				done++;
			if (x->step != step || x->bytes != bytes)
				moved = 1;
		}
		if (done == xf->nchans)
			return (xf->error != NULL ? SFTP_FAILED : SFTP_DONE);
		if (yield)
			return (SFTP_YIELD);
		if (!moved && *xf->rx == rx)
			return (SFTP_AGAIN);
	}
}
