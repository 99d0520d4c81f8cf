/*
 * --copy / --rcopy without the network: the plan of what to send (the
 * local sources walked once, directories with -r, in an order that
 * creates each directory before its contents and gives it its mode after
 * them), destination name templates, and the shared read cache of
 * copy.h, which lets each local file be read once for all hosts in
 * flight.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/copy.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/pctok.h"
#include "mrsh/xmalloc.h"

struct copy_chunk {
	struct copy_src		*src;
	uint64_t		 off;
	size_t			 len;
	int			 refs;	/* readers not yet past it */
	TAILQ_ENTRY(copy_chunk)	 src_entry;
	TAILQ_ENTRY(copy_chunk)	 lru_entry;
	char			 data[];
};

/* ---- names ---------------------------------------------------------- */

/* %h is the host, %% a '%'; any other % stays as written. */
char *
copy_expand(const char *tmpl, const char *host)
{
	const struct pctok toks[] = { { 'h', host }, { '\0', NULL } };

	return (pctok_expand(tmpl, toks, PCTOK_KEEP_UNKNOWN, NULL));
}

int
copy_has_host(const char *tmpl)
{
	const char	*p;

	for (p = tmpl; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'h')
			return (1);
		if (p[0] == '%' && p[1] == '%')
			p++;
	}
	return (0);
}

char *
copy_basename(const char *path)
{
	size_t		 len = strlen(path);
	const char	*b;

	while (len > 1 && path[len - 1] == '/')
		len--;
	for (b = path + len; b > path && b[-1] != '/'; b--)
		;
	return (xstrndup(b, (size_t)(path + len - b)));
}

/* ---- the plan ------------------------------------------------------- */

static struct copy_entry *
copy_add(struct copy_plan *p, enum copy_kind kind, const char *rel,
    size_t top_len, const struct stat *st)
{
	struct copy_entry	*e;

	p->entries = xreallocarray(p->entries, p->nentries + 1,
	    sizeof *p->entries);
	e = &p->entries[p->nentries++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->rel = xstrdup(rel);
	e->top_len = top_len;
	e->mode = st->st_mode & 07777;
	e->atime = st->st_atim;
	e->mtime = st->st_mtim;
	return (e);
}

static int	copy_walk(struct copy_plan *, const char *, const char *,
		    size_t, const struct stat *);

/* A directory's entries, sorted by name (the order is the same each run). */
static int
copy_walk_dir(struct copy_plan *p, const char *path, const char *rel,
    size_t top_len)
{
	struct dirent	**names;
	struct stat	  st;
	char		 *cpath, *crel;
	int		  n, i, rc = 0;

	if ((n = scandir(path, &names, NULL, alphasort)) == -1) {
		error("%s: %s", path, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0) {
			xasprintf(&cpath, "%s/%s", path, names[i]->d_name);
			xasprintf(&crel, "%s/%s", rel, names[i]->d_name);
			if (lstat(cpath, &st) == -1) {
				error("%s: %s", cpath, strerror(errno));
				rc = -1;
			} else
				rc = copy_walk(p, cpath, crel, top_len, &st);
			free(cpath);
			free(crel);
		}
		free(names[i]);
	}
	free(names);
	return (rc);
}

/* Add path (already stat'ed) as rel, and below it for a directory. */
static int
copy_walk(struct copy_plan *p, const char *path, const char *rel,
    size_t top_len, const struct stat *st)
{
	struct copy_entry	*e;
	char			 buf[4096];
	ssize_t			 n;
	int			 fd;

	if (S_ISREG(st->st_mode)) {
		/* Readable now, or the run does not start. */
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			error("%s: %s", path, strerror(errno));
			return (-1);
		}
		close(fd);
		e = copy_add(p, CE_FILE, rel, top_len, st);
		e->src = xcalloc(1, sizeof *e->src);
		e->src->path = xstrdup(path);
		e->src->fd = -1;
		e->src->size = (uint64_t)st->st_size;
		TAILQ_INIT(&e->src->chunks);
		TAILQ_INIT(&e->src->readers);
		p->total += (uint64_t)st->st_size;
		return (0);
	}
	if (S_ISDIR(st->st_mode)) {
		if (!p->opt->recursive) {
			error("%s: is a directory (use -r)", path);
			return (-1);
		}
		copy_add(p, CE_DIR, rel, top_len, st);
		if (copy_walk_dir(p, path, rel, top_len) != 0)
			return (-1);
		copy_add(p, CE_DIR_END, rel, top_len, st);
		return (0);
	}
	if (S_ISLNK(st->st_mode)) {
		if ((n = readlink(path, buf, sizeof buf - 1)) == -1) {
			error("%s: %s", path, strerror(errno));
			return (-1);
		}
		buf[n] = '\0';
		e = copy_add(p, CE_SYMLINK, rel, top_len, st);
		e->link = xstrdup(buf);
		return (0);
	}
	warnx_m("%s: not a regular file, directory or symbolic link: "
	    "skipped", path);
	return (0);
}

/* --rcopy: the local destination must be a directory (or a %h template). */
static int
copy_plan_pull(struct copy_plan *p)
{
	const char	*dest = p->opt->copy_dest;
	struct stat	 st;

	if (copy_has_host(dest))
		return (0);	/* made per host */
	if (stat(dest, &st) == -1) {
		error("--dest %s: %s", dest, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		error("--dest %s: not a directory", dest);
		return (-1);
	}
	return (0);
}

/*
 * A source must have a name of its own to be copied under: not / (whose
 * base name is empty), . or .. (which would put the tree into the
 * destination itself, or above it).
 */
static int
copy_check_name(const char *src)
{
	char	*base = copy_basename(src);
	int	 bad;

	bad = base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0;
	free(base);
	if (bad) {
		error("%s: name the directory itself (not / . or ..)", src);
		return (-1);
	}
	return (0);
}

struct copy_plan *
copy_plan_new(const struct options *opt, size_t nhosts)
{
	struct copy_plan	*p;
	struct stat		 st;
	char			*base;
	int			 i;

	p = xcalloc(1, sizeof *p);
	p->opt = opt;
	p->window = COPY_WINDOW;
	p->nhosts = nhosts;
	p->ntop = opt->ncopy_src;
	TAILQ_INIT(&p->lru);
	if (opt->copy == COPY_PULL) {
		for (i = 0; i < opt->ncopy_src; i++) {
			if (copy_check_name(opt->copy_src[i]) != 0)
				goto fail;
		}
		if (copy_plan_pull(p) != 0)
			goto fail;
		return (p);
	}
	for (i = 0; i < opt->ncopy_src; i++) {
		/* A source named on the command line is followed (as cp). */
		if (stat(opt->copy_src[i], &st) == -1) {
			error("%s: %s", opt->copy_src[i], strerror(errno));
			goto fail;
		}
		if (copy_check_name(opt->copy_src[i]) != 0)
			goto fail;
		base = copy_basename(opt->copy_src[i]);
		if (copy_walk(p, opt->copy_src[i], base, strlen(base),
		    &st) != 0) {
			free(base);
			goto fail;
		}
		free(base);
	}
	p->top_is_file = p->ntop == 1 && p->nentries == 1 &&
	    p->entries[0].kind == CE_FILE;
	return (p);
fail:
	copy_plan_free(p);
	return (NULL);
}

static void
copy_chunk_free(struct copy_plan *p, struct copy_chunk *c)
{
	TAILQ_REMOVE(&c->src->chunks, c, src_entry);
	TAILQ_REMOVE(&p->lru, c, lru_entry);
	p->cached -= c->len;
	free(c);
}

void
copy_plan_free(struct copy_plan *p)
{
	struct copy_entry	*e;
	size_t			 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nentries; i++) {
		e = &p->entries[i];
		if (e->src != NULL) {
			while (!TAILQ_EMPTY(&e->src->chunks))
				copy_chunk_free(p,
				    TAILQ_FIRST(&e->src->chunks));
			if (e->src->fd != -1)
				close(e->src->fd);
			free(e->src->path);
			free(e->src);
		}
		free(e->rel);
		free(e->link);
	}
	free(p->entries);
	free(p);
}

/* ---- the shared cache ----------------------------------------------- */

void
copy_reader_attach(struct copy_plan *p, struct copy_reader *r,
    struct copy_src *src)
{
	struct copy_chunk	*c;

	(void)p;
	memset(r, 0, sizeof *r);
	r->src = src;
	TAILQ_INSERT_TAIL(&src->readers, r, entry);
	TAILQ_FOREACH(c, &src->chunks, src_entry)
		c->refs++;
}

void
copy_reader_detach(struct copy_plan *p, struct copy_reader *r)
{
	struct copy_src		*src = r->src;
	struct copy_chunk	*c, *next;

	if (src == NULL)
		return;
	TAILQ_REMOVE(&src->readers, r, entry);
	TAILQ_FOREACH(c, &src->chunks, src_entry) {
		if (c->off + c->len > r->off)
			c->refs--;
	}
	/*
	 * Idle chunks stay for hosts that have not reached this file yet,
	 * until the window needs the room or every host is past the file.
	 */
	if (++src->finished >= p->nhosts) {
		for (c = TAILQ_FIRST(&src->chunks); c != NULL; c = next) {
			next = TAILQ_NEXT(c, src_entry);
			if (c->refs <= 0)
				copy_chunk_free(p, c);
		}
	}
	if (TAILQ_EMPTY(&src->readers) && src->fd != -1) {
		close(src->fd);
		src->fd = -1;
	}
	free(r->priv);
	r->priv = NULL;
	r->src = NULL;
}

void
copy_reader_advance(struct copy_plan *p, struct copy_reader *r, size_t n)
{
	struct copy_chunk	*c;
	uint64_t		 from = r->off, to = r->off + n, end;

	(void)p;
	r->off = to;
	TAILQ_FOREACH(c, &r->src->chunks, src_entry) {
		end = c->off + c->len;
		if (end > from && end <= to)
			c->refs--;	/* idle at 0: evicted first */
	}
}

/* Free idle chunks (no reader before their end), oldest first. */
static void
copy_evict_idle(struct copy_plan *p, size_t need)
{
	struct copy_chunk	*c, *next;

	for (c = TAILQ_FIRST(&p->lru); c != NULL &&
	    p->cached + need > p->window; c = next) {
		next = TAILQ_NEXT(c, lru_entry);
		if (c->refs <= 0)
			copy_chunk_free(p, c);
	}
}

/* Read len bytes at off completely; -1 with err set otherwise. */
static int
copy_pread(struct copy_plan *p, struct copy_src *src, char *buf, size_t len,
    uint64_t off, char *err, size_t errlen)
{
	size_t	 done = 0;
	ssize_t	 n;

	if (src->fd == -1 &&
	    (src->fd = open(src->path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", src->path, strerror(errno));
		return (-1);
	}
	while (done < len) {
		n = pread(src->fd, buf + done, len - done,
		    (off_t)(off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", src->path,
			    strerror(errno));
			return (-1);
		}
		if (n == 0) {
			snprintf(err, errlen, "%s: the file shrank while "
			    "being copied", src->path);
			return (-1);
		}
		done += (size_t)n;
	}
	p->bytes_read += len;
	if (off + len > src->read_end) {
		/* Bytes never read before: each file's are counted once. */
		p->bytes_first += off + len - (off > src->read_end ? off :
		    src->read_end);
		src->read_end = off + len;
	}
	return (0);
}

/* Is there no cached chunk of the file after off (the reader leads)? */
static int
copy_reader_leads(struct copy_reader *r)
{
	struct copy_chunk	*last = TAILQ_LAST(&r->src->chunks,
				    copy_chunk_q);

	return (last == NULL || last->off + last->len <= r->off);
}

const char *
copy_reader_data(struct copy_plan *p, struct copy_reader *r, size_t max,
    size_t *len, char *err, size_t errlen)
{
	struct copy_src		*src = r->src;
	struct copy_chunk	*c, *at;
	struct copy_reader	*o;
	uint64_t		 off = r->off, start;
	size_t			 n;

	*len = 0;
	if (off >= src->size)
		return ("");
	TAILQ_FOREACH(c, &src->chunks, src_entry) {
		if (c->off <= off && off < c->off + c->len) {
			n = (size_t)(c->off + c->len - off);
			*len = n < max ? n : max;
			return (c->data + (off - c->off));
		}
	}
	if (r->priv != NULL && r->priv_off <= off &&
	    off < r->priv_off + r->priv_len) {
		n = (size_t)(r->priv_off + r->priv_len - off);
		*len = n < max ? n : max;
		return (r->priv + (off - r->priv_off));
	}

	start = off - off % COPY_CHUNK;
	n = src->size - start < COPY_CHUNK ? (size_t)(src->size - start) :
	    COPY_CHUNK;
	if (p->cached + n > p->window)
		copy_evict_idle(p, n);
	if (p->cached + n > p->window && copy_reader_leads(r)) {
		/* The host in front makes room; those behind pread. */
		while (p->cached + n > p->window && !TAILQ_EMPTY(&p->lru))
			copy_chunk_free(p, TAILQ_FIRST(&p->lru));
	}
	if (p->cached + n > p->window) {
		/* Behind a full window: a buffer of its own. */
		n = src->size - off < COPY_WRITE_MAX ?
		    (size_t)(src->size - off) : COPY_WRITE_MAX;
		if (r->priv == NULL)
			r->priv = xmalloc(COPY_WRITE_MAX);
		if (copy_pread(p, src, r->priv, n, off, err, errlen) != 0)
			return (NULL);
		r->priv_off = off;
		r->priv_len = n;
		*len = n < max ? n : max;
		return (r->priv);
	}

	c = xmalloc(sizeof *c + n);
	c->src = src;
	c->off = start;
	c->len = n;
	if (copy_pread(p, src, c->data, n, start, err, errlen) != 0) {
		free(c);
		return (NULL);
	}
	c->refs = 0;
	TAILQ_FOREACH(o, &src->readers, entry) {
		if (o->off < start + n)
			c->refs++;
	}
	TAILQ_FOREACH(at, &src->chunks, src_entry) {
		if (at->off > start)
			break;
	}
	if (at != NULL)
		TAILQ_INSERT_BEFORE(at, c, src_entry);
	else
		TAILQ_INSERT_TAIL(&src->chunks, c, src_entry);
	TAILQ_INSERT_TAIL(&p->lru, c, lru_entry);
	p->cached += n;
	n = (size_t)(start + n - off);
	*len = n < max ? n : max;
	return (c->data + (off - start));
}

void
copy_plan_report(const struct copy_plan *p, size_t nhosts)
{
	if (p == NULL || p->opt->copy != COPY_PUSH)
		return;
	info("read %llu bytes of local files for %zu host%s: %llu the first "
	    "time, %llu again (hosts behind the window)",
	    (unsigned long long)p->bytes_read, nhosts, nhosts == 1 ? "" : "s",
	    (unsigned long long)p->bytes_first,
	    (unsigned long long)(p->bytes_read - p->bytes_first));
}
