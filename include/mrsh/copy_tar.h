/*
 * --copy --tar: the plan of copy.h as one tar stream (GNU format, what
 * GNU tar and busybox tar read), generated per host as it is sent, with
 * each file's bytes taken from the shared read cache of copy.h, so the
 * local files are still read once for all hosts in flight. The remote
 * side (copy_tar_command) unpacks it into a temporary directory beside
 * the destination, fsyncs every file, and renames each into place: a
 * tree costs one exec channel and no round trip per file. Where the user
 * chose neither --tar nor --sftp, a check run on the host first says
 * whether it can (copy_tar_check_command).
 */
#ifndef MRSH_COPY_TAR_H
#define MRSH_COPY_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "mrsh/copy.h"

/* A host's position in the stream. */
struct copy_tar {
	struct copy_plan	*p;
	size_t			 ientry;	/* the entry being sent */
	int			 phase;		/* CT_* in copy_tar.c */
	char			*hdr;		/* its header blocks */
	size_t			 hlen;
	size_t			 hoff;
	struct copy_reader	 rd;		/* its bytes (CE_FILE) */
	uint64_t		 pad;		/* zeros still to send */
	uint64_t		 sent;		/* the stream so far */
	uint64_t		 file_bytes;	/* of which the files' bytes */
};

/* Start at the beginning of the plan's stream. */
void	copy_tar_init(struct copy_tar *, struct copy_plan *);
void	copy_tar_free(struct copy_tar *);
/*
 * The next bytes of the stream (at most max; *len 0 at its end), valid
 * until the next call. NULL with err set when a local file cannot be
 * read or changed size.
 */
const char *copy_tar_data(struct copy_tar *, size_t max, size_t *len,
	    char *err, size_t errlen);
/* n bytes of what copy_tar_data gave were sent. */
void	copy_tar_advance(struct copy_tar *, size_t n);

/* The remote command for one host's destination (allocated). */
char	*copy_tar_command(const char *dest, int preserve);
/* What a non-zero exit status of that command means, for the summary. */
const char *copy_tar_failure(int status, char *buf, size_t len);

/*
 * Without --tar or --sftp a tree goes by tar where the host can take it:
 * the check's remote command (allocated), run with stdin at EOF, prints
 * one "mrsh-tar:WORD" line. copy_tar_verdict() reads what it printed
 * (the last such line): NULL when tar can be used, else why not, for a
 * -v message (a fixed string: no byte of the host's output in it).
 */
char	*copy_tar_check_command(const char *dest);
const char *copy_tar_verdict(const char *out, size_t len);

#endif
