/*
 * --copy --tar: the copy plan as a tar stream, and the remote command
 * that installs it.
 *
 * The stream is GNU tar format: one 512-byte header per entry (a
 * directory, a file and its bytes padded to 512, a symbolic link), a
 * GNU long-name entry ("././@LongLink", 'L' or 'K') before a header whose
 * name or link does not fit in 100 bytes, mtime in the header, for
 * --preserve the atime in a pax extended header (which GNU tar -x -G
 * applies), owner 0 and no owner names (the
 * remote tar runs with --no-same-owner), then two zero blocks, padded to
 * a 10,240-byte record. Each host walks the plan with its own cursor;
 * file bytes come from the shared cache (copy.c).
 *
 * The remote command is a POSIX sh script on one line (the user's login
 * shell passes it to sh -c; no quote of its own inside): it checks that
 * the destination is a directory, makes DEST/.mrsh-tar.XXXXXXXX, unpacks
 * the stream there (GNU tar: modes as sent, no owners; -m without
 * --preserve, -G with it for the atime), fsyncs every file (coreutils
 * sync FILE...), then, directory by directory from the top, renames a
 * directory that does not exist at the destination as a whole, and the
 * files of one that does one by one over their targets (mv: rename(2),
 * so a target is always either the old or the complete new file). With
 * --preserve the times and modes of directories that existed are set
 * last, deepest first, from a copy of the unpacked directories' attributes
 * (cp --attributes-only). The temporary directory is removed on every
 * exit. What fails says so on the host's stderr (mrsh prints it, made
 * safe, with the host's name) and the exit status names the stage (3-6),
 * which mrsh makes the host's failure (copy_tar_failure).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mrsh/copy.h"
#include "mrsh/copy_tar.h"
#include "mrsh/options.h"
#include "mrsh/xmalloc.h"

#define TAR_BLOCK	512
#define TAR_RECORD	(20 * TAR_BLOCK)

enum { CT_HEADER, CT_DATA, CT_PAD, CT_TRAILER, CT_DONE };

static const char	tar_zeros[TAR_RECORD];

/* value as an octal field of width w (w - 1 digits and a NUL). */
static void
tar_octal(char *field, size_t w, uint64_t value)
{
	size_t	i;

	if (w <= 12 && value >= (uint64_t)1 << (3 * (w - 1))) {
		/* too large for octal: GNU's base-256, big-endian */
		memset(field, 0, w);
		field[0] = (char)0x80;
		for (i = w - 1; i > 0 && value != 0; i--) {
			field[i] = (char)(value & 0xff);
			value >>= 8;
		}
		return;
	}
	field[w - 1] = '\0';
	for (i = w - 1; i > 0; i--) {
		field[i - 1] = (char)('0' + (value & 7));
		value >>= 3;
	}
}

/* One header block at h. */
static void
tar_block(char *h, const char *name, size_t namelen, int type, mode_t mode,
    uint64_t size, const struct copy_entry *e, const char *link,
    size_t linklen)
{
	unsigned int	sum = 0;
	size_t		i;

	memset(h, 0, TAR_BLOCK);
	memcpy(h, name, namelen < 100 ? namelen : 100);
	tar_octal(h + 100, 8, mode);
	tar_octal(h + 108, 8, 0);		/* uid */
	tar_octal(h + 116, 8, 0);		/* gid */
	tar_octal(h + 124, 12, size);
	tar_octal(h + 136, 12, e != NULL && e->mtime.tv_sec > 0 ?
	    (uint64_t)e->mtime.tv_sec : 0);
	h[156] = (char)type;
	if (link != NULL)
		memcpy(h + 157, link, linklen < 100 ? linklen : 100);
	memcpy(h + 257, "ustar  ", 8);		/* GNU magic and version */
	memset(h + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += (unsigned char)h[i];
	tar_octal(h + 148, 7, sum);		/* six digits, NUL, space */
	h[155] = ' ';
}

/* A GNU long name (type 'L') or link ('K') entry for s; returns its size. */
static size_t
tar_long(char *h, int type, const char *s, size_t len)
{
	static const char	ll[] = "././@LongLink";

	tar_block(h, ll, sizeof ll - 1, type, 0, len + 1, NULL, NULL, 0);
	memset(h + TAR_BLOCK, 0, (len + 1 + TAR_BLOCK - 1) / TAR_BLOCK *
	    TAR_BLOCK);
	memcpy(h + TAR_BLOCK, s, len);
	return (TAR_BLOCK + (len + 1 + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK);
}

/*
 * A pax extended header ('x') with the atime: GNU tar -x -G sets a file's
 * atime from it (not from the GNU header's atime field).
 */
static size_t
tar_atime(char *h, long long atime)
{
	static const char	pn[] = "././@PaxHeader";
	char			rec[64];
	int			n, len;

	/* "LEN atime=SECS\n", LEN counting itself */
	n = snprintf(rec, sizeof rec, " atime=%lld\n", atime);
	len = n + 1;
	while (snprintf(NULL, 0, "%d", len) + n > len)
		len++;
	snprintf(rec, sizeof rec, "%d atime=%lld\n", len, atime);
	tar_block(h, pn, sizeof pn - 1, 'x', 0644, (uint64_t)len, NULL, NULL,
	    0);
	memset(h + TAR_BLOCK, 0, TAR_BLOCK);
	memcpy(h + TAR_BLOCK, rec, (size_t)len);
	return (2 * TAR_BLOCK);
}

/* The header blocks of entry e (NULL for one that has none). */
static void
tar_header(struct copy_tar *t, const struct copy_entry *e)
{
	int		 preserve = t->p->opt->preserve;
	mode_t		 mode = e->mode & (preserve ? 07777 : 0777);
	char		*name;
	size_t		 namelen, linklen = 0, cap, off = 0;
	int		 type;
	uint64_t	 size = 0;

	free(t->hdr);
	t->hdr = NULL;
	t->hlen = t->hoff = 0;
	switch (e->kind) {
	case CE_DIR:
		type = '5';
		xasprintf(&name, "%s/", e->rel);
		break;
	case CE_FILE:
		type = '0';
		size = e->src->size;
		name = xstrdup(e->rel);
		break;
	case CE_SYMLINK:
		type = '2';
		mode = 0777;
		name = xstrdup(e->rel);
		linklen = strlen(e->link);
		break;
	case CE_DIR_END:
	default:
		return;
	}
	namelen = strlen(name);
	cap = 5 * TAR_BLOCK + namelen + linklen + 2 * TAR_BLOCK;
	t->hdr = xmalloc(cap);
	if (preserve && e->atime.tv_sec > 0)
		off += tar_atime(t->hdr + off, (long long)e->atime.tv_sec);
	if (linklen > 100)
		off += tar_long(t->hdr + off, 'K', e->link, linklen);
	if (namelen > 100)
		off += tar_long(t->hdr + off, 'L', name, namelen);
	tar_block(t->hdr + off, name, namelen, type, mode, size, e,
	    e->link, linklen);
	t->hlen = off + TAR_BLOCK;
	free(name);
}

/* Move the cursor to entry i (its header), or to the trailer. */
static void
tar_enter(struct copy_tar *t, size_t i)
{
	t->ientry = i;
	while (t->ientry < t->p->nentries &&
	    t->p->entries[t->ientry].kind == CE_DIR_END)
		t->ientry++;
	if (t->ientry >= t->p->nentries) {
		/* two zero blocks, then up to a whole record */
		t->phase = CT_TRAILER;
		t->pad = 2 * TAR_BLOCK;
		t->pad += (TAR_RECORD - (t->sent + t->pad) % TAR_RECORD) %
		    TAR_RECORD;
		return;
	}
	t->phase = CT_HEADER;
	tar_header(t, &t->p->entries[t->ientry]);
}

void
copy_tar_init(struct copy_tar *t, struct copy_plan *p)
{
	memset(t, 0, sizeof *t);
	t->p = p;
	tar_enter(t, 0);
}

void
copy_tar_free(struct copy_tar *t)
{
	if (t->p == NULL)
		return;
	if (t->rd.src != NULL)
		copy_reader_detach(t->p, &t->rd);
	free(t->hdr);
	t->hdr = NULL;
	t->p = NULL;
}

const char *
copy_tar_data(struct copy_tar *t, size_t max, size_t *len, char *err,
    size_t errlen)
{
	const struct copy_entry	*e;
	const char		*d;
	uint64_t		 n;

	*len = 0;
	for (;;) {
		switch (t->phase) {
		case CT_HEADER:
			if (t->hoff < t->hlen) {
				n = t->hlen - t->hoff;
				*len = n < max ? (size_t)n : max;
				return (t->hdr + t->hoff);
			}
			e = &t->p->entries[t->ientry];
			if (e->kind == CE_FILE) {
				copy_reader_attach(t->p, &t->rd, e->src);
				t->phase = CT_DATA;
			} else
				tar_enter(t, t->ientry + 1);
			break;
		case CT_DATA:
			d = copy_reader_data(t->p, &t->rd, max, len, err,
			    errlen);
			if (d == NULL || *len > 0)
				return (d);
			n = t->rd.src->size % TAR_BLOCK;
			copy_reader_detach(t->p, &t->rd);
			t->pad = n == 0 ? 0 : TAR_BLOCK - n;
			t->phase = CT_PAD;
			break;
		case CT_PAD:
		case CT_TRAILER:
			if (t->pad > 0) {
				n = t->pad < sizeof tar_zeros ? t->pad :
				    sizeof tar_zeros;
				*len = n < max ? (size_t)n : max;
				return (tar_zeros);
			}
			if (t->phase == CT_TRAILER) {
				t->phase = CT_DONE;
				return ("");
			}
			tar_enter(t, t->ientry + 1);
			break;
		case CT_DONE:
		default:
			return ("");
		}
	}
}

void
copy_tar_advance(struct copy_tar *t, size_t n)
{
	t->sent += n;
	switch (t->phase) {
	case CT_HEADER:
		t->hoff += n;
		break;
	case CT_DATA:
		copy_reader_advance(t->p, &t->rd, n);
		t->file_bytes += n;
		break;
	case CT_PAD:
	case CT_TRAILER:
		t->pad -= n;
		break;
	default:
		break;
	}
}

/* ---- the remote side ------------------------------------------------ */

/* $1 DEST, $2 1 for --preserve, $3 the install step, $4 the dir times. */
static const char tar_outer[] =
	"d=$1 p=$2 I=$3 F=$4; "
	"[ -d \"$d\" ] || { echo \"$d: no such directory\" >&2; exit 3; }; "
	"cd -- \"$d\" || exit 3; "
	"t=$(mktemp -d .mrsh-tar.XXXXXXXX) || exit 3; "
	"trap \"chmod -R u+rwx $t $t.ref 2>/dev/null; "
	"rm -rf $t $t.ref $t.dirs\" 0; "
	"trap \"exit 129\" 1; trap \"exit 130\" 2; trap \"exit 143\" 15; "
	"if [ \"$p\" = 1 ]; then set -- -G; else set -- -m; fi; "
	"tar -x -p --no-same-owner \"$@\" -C \"$t\" -f - || exit 4; "
	"find \"$t\" -type f -exec sync -- {} + || exit 5; "
	"if [ \"$p\" = 1 ]; then "
	"cp -a --attributes-only -- \"$t\" \"$t.ref\" || exit 5; fi; "
	"find \"$t\" -type d -print0 >\"$t.dirs\" || exit 5; "
	"xargs -0 -r -a \"$t.dirs\" sh -c \"$I\" mrsh-install \"$t\" "
	"|| exit 6; "
	"if [ \"$p\" = 1 ]; then find \"$t.ref\" -mindepth 1 -depth -type d "
	"-exec sh -c \"$F\" mrsh-times \"$t.ref\" {} + || exit 6; fi; "
	"exit 0";

/* $1 the temporary directory, then its directories, parents first. */
static const char tar_install[] =
	"t=$1; shift; for d do "
	"[ -d \"$d\" ] || continue; "
	"if [ \"$d\" = \"$t\" ]; then r=.; else r=${d#\"$t\"/}; "
	"if [ ! -e \"$r\" ] && [ ! -L \"$r\" ]; then "
	"mv -T -- \"$d\" \"$r\" || exit 1; continue; fi; "
	"if [ ! -d \"$r\" ]; then "
	"echo \"$PWD/$r: file exists and is not a directory\" >&2; "
	"exit 1; fi; fi; "
	"find \"$d\" -mindepth 1 -maxdepth 1 ! -type d "
	"-exec mv -f -t \"$r\" -- {} + || exit 1; "
	"done";

/* $1 the attribute copy, then its directories, deepest first. */
static const char tar_times[] =
	"f=$1; shift; for e do r=${e#\"$f\"/}; "
	"touch -h -r \"$e\" -- \"$r\" && chmod --reference=\"$e\" -- \"$r\" "
	"|| exit 1; done";

char *
copy_tar_command(const char *dest, int preserve)
{
	struct evbuffer	*b = xevbuffer_new();

	xevbuffer_addstr(b, "sh -c ");
	xevbuffer_add_shquoted(b, tar_outer);
	xevbuffer_addstr(b, " mrsh-copy ");
	xevbuffer_add_shquoted(b, dest);
	xevbuffer_addstr(b, preserve ? " 1 " : " 0 ");
	xevbuffer_add_shquoted(b, tar_install);
	xevbuffer_addstr(b, " ");
	xevbuffer_add_shquoted(b, tar_times);
	return (xevbuffer_take(b, NULL));
}

const char *
copy_tar_failure(int status, char *buf, size_t len)
{
	switch (status) {
	case 3:
		return ("the destination is not a directory, or no temporary "
		    "directory could be made in it");
	case 4:
		return ("unpacking failed (tar)");
	case 5:
		return ("fsync failed");
	case 6:
		return ("installing failed");
	}
	(void)snprintf(buf, len, "the tar install exited with status %d",
	    status);
	return (buf);
}

/*
 * The check before a tree goes by tar (no --tar, no --sftp): the
 * destination must be a writable directory (a target name, or an error
 * about the destination, is SFTP's to give, with its wording) and the
 * host must have GNU tar, coreutils and findutils. One line on stdout
 * says which; the exit status is not used (a ForceCommand internal-sftp
 * or a login shell that runs nothing exits 0 and prints nothing).
 */
static const char tar_check[] =
	"d=$1; "
	"{ [ -d \"$d\" ] && [ -w \"$d\" ] && [ -x \"$d\" ]; } || "
	"{ echo mrsh-tar:dest; exit 0; }; "
	"case $(tar --version 2>/dev/null) in *\"GNU tar\"*) ;; "
	"*) echo mrsh-tar:tar; exit 0;; esac; "
	"case $(sync --version 2>/dev/null) in *coreutils*) ;; "
	"*) echo mrsh-tar:coreutils; exit 0;; esac; "
	"case $(find --version 2>/dev/null; xargs --version 2>/dev/null) in "
	"*findutils*findutils*) ;; "
	"*) echo mrsh-tar:findutils; exit 0;; esac; "
	"echo mrsh-tar:ok";

char *
copy_tar_check_command(const char *dest)
{
	struct evbuffer	*b = xevbuffer_new();

	xevbuffer_addstr(b, "sh -c ");
	xevbuffer_add_shquoted(b, tar_check);
	xevbuffer_addstr(b, " mrsh-check ");
	xevbuffer_add_shquoted(b, dest);
	return (xevbuffer_take(b, NULL));
}

const char *
copy_tar_verdict(const char *out, size_t len)
{
	static const struct {
		const char	*word;
		const char	*why;
	} words[] = {
		{ "ok", NULL },
		{ "dest", "the destination is not a writable directory" },
		{ "tar", "no GNU tar" },
		{ "coreutils", "no GNU coreutils" },
		{ "findutils", "no GNU findutils" },
	};
	static const char	 tag[] = "mrsh-tar:";
	const char		*p, *last = NULL, *end = out + len;
	size_t			 i, n;

	/* The last line that starts with the tag. */
	for (p = out; p < end; p++) {
		if ((p == out || p[-1] == '\n') &&
		    (size_t)(end - p) >= sizeof tag - 1 &&
		    memcmp(p, tag, sizeof tag - 1) == 0)
			last = p + sizeof tag - 1;
	}
	if (last == NULL)
		return ("the check printed no answer (no shell, or a "
		    "forced command)");
	for (n = 0; last + n < end && last[n] != '\n' && last[n] != '\r';
	    n++)
		;
	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strlen(words[i].word) == n &&
		    memcmp(words[i].word, last, n) == 0)
			return (words[i].why);
	}
	return ("the check printed no answer (no shell, or a forced "
	    "command)");
}
