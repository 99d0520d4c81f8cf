/*
 * Copying files (--copy / --rcopy), the part that is not SFTP: the list of
 * what to send (walked once from the local sources), destination names,
 * and the shared read cache that lets every host in flight take its bytes
 * from one read of each local file.
 *
 * The cache holds reference-counted chunks of the files being sent, at most
 * a window of bytes for the whole run. A chunk's count is the number of
 * hosts attached to its file that have not yet written past it; at zero
 * it is idle: kept for hosts that reach the file later, freed when every host
 * is past the file or when the window needs the room (idle chunks go
 * first). When the window is full of chunks in use, the host in front
 * evicts the oldest and the hosts behind it read their part again with
 * pread (from the page cache) into a small buffer of their own: memory
 * stays bounded by the window plus one write buffer per host, whatever the
 * file size and host count.
 */
#ifndef MRSH_COPY_H
#define MRSH_COPY_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct options;
struct copy_chunk;
struct copy_reader;

/* One libssh2_sftp_write() hands at most this much: 8 SFTP packets. */
#define COPY_WRITE_MAX		(8 * 30000)
/* Chunks of the shared cache, and the window for the whole run. */
#define COPY_CHUNK		(32 * 30000)
#define COPY_WINDOW		(16 * COPY_CHUNK)

TAILQ_HEAD(copy_chunk_q, copy_chunk);
TAILQ_HEAD(copy_reader_q, copy_reader);

/* A local file to send. */
struct copy_src {
	char			*path;
	int			 fd;		/* open while readers attached */
	uint64_t		 size;
	struct copy_chunk_q	 chunks;	/* by offset */
	struct copy_reader_q	 readers;
	uint64_t		 read_end;	/* read from disk up to here */
	size_t			 finished;	/* hosts past this file */
};

enum copy_kind {
	CE_FILE,
	CE_DIR,		/* create the directory (contents follow) */
	CE_DIR_END,	/* its contents are done: set its mode and times */
	CE_SYMLINK
};

/* One thing to create on every host, in order. */
struct copy_entry {
	enum copy_kind		 kind;
	char			*rel;		/* "name" or "name/sub/file" */
	size_t			 top_len;	/* length of rel's first part */
	struct copy_src		*src;		/* CE_FILE */
	char			*link;		/* CE_SYMLINK target */
	mode_t			 mode;
	struct timespec		 atime;
	struct timespec		 mtime;
};

struct copy_plan {
	const struct options	*opt;
	struct copy_entry	*entries;
	size_t			 nentries;
	int			 ntop;		/* sources given */
	int			 top_is_file;	/* the single source is a file */
	uint64_t		 total;		/* file bytes per host */

	/* the shared cache */
	struct copy_chunk_q	 lru;		/* every chunk, oldest first */
	size_t			 cached;
	size_t			 window;
	size_t			 nhosts;	/* in the run */
	uint64_t		 bytes_read;	/* from local files, all reads */
	uint64_t		 bytes_first;	/* of which never read before */
};

/* A host's position in one file. */
struct copy_reader {
	struct copy_src		*src;
	uint64_t		 off;
	char			*priv;		/* pread buffer when behind */
	uint64_t		 priv_off;
	size_t			 priv_len;
	TAILQ_ENTRY(copy_reader) entry;
};

/*
 * --copy: walk the local sources (directories with -r). Returns NULL after
 * printing a one-line error (mrsh exits 2). --rcopy: an empty plan after
 * checking the local destination.
 */
struct copy_plan *copy_plan_new(const struct options *, size_t nhosts);
void	copy_plan_free(struct copy_plan *);
/* -v: how much was read from the local disk for how many hosts. */
void	copy_plan_report(const struct copy_plan *, size_t nhosts);

/* A host starts (attach) or stops (detach) reading a file at offset 0. */
void	copy_reader_attach(struct copy_plan *, struct copy_reader *,
	    struct copy_src *);
void	copy_reader_detach(struct copy_plan *, struct copy_reader *);

/*
 * The bytes at the reader's offset: a pointer valid until the next cache
 * call, and *len (at most max, 0 at the end of the file). NULL with err
 * set when the local file cannot be read or changed size.
 */
const char *copy_reader_data(struct copy_plan *, struct copy_reader *,
	    size_t max, size_t *len, char *err, size_t errlen);
/* The host wrote n more bytes (the server acknowledged them). */
void	copy_reader_advance(struct copy_plan *, struct copy_reader *,
	    size_t n);

/* tmpl with %h replaced by host and %% by % (other % kept); allocated. */
char	*copy_expand(const char *tmpl, const char *host);
/* Does tmpl contain %h? */
int	copy_has_host(const char *tmpl);
/* The last path component, without trailing slashes; allocated. */
char	*copy_basename(const char *path);

#endif
