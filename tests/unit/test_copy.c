/*
 * Unit tests for copy.c: --dest templates and base names; the shared read
 * cache: hosts in step read the file once and free every chunk; a host
 * behind a full window gets the right bytes from its own pread while the
 * cache stays within the window; a file that shrinks is an error; --tar
 * headers, with GNU base-256 for values octal cannot hold.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/copy.h"
#include "mrsh/copy_tar.h"
#include "mrsh/options.h"
#include "tap.h"

/* The byte at offset off of the test file. */
static unsigned char
pattern(uint64_t off)
{
	return ((unsigned char)((off * 7 + off / 251) & 0xff));
}

/* Read n bytes through r, checking them; 0 if every byte was right. */
static int
pull(struct copy_plan *p, struct copy_reader *r, uint64_t n, size_t *maxcached)
{
	const char	*d;
	char		 err[256];
	size_t		 len, i;
	int		 bad = 0;

	while (n > 0) {
		d = copy_reader_data(p, r, COPY_WRITE_MAX, &len, err,
		    sizeof err);
		if (d == NULL || len == 0)
			return (-1);
		if (len > n)
			len = (size_t)n;
		for (i = 0; i < len; i++) {
			if ((unsigned char)d[i] != pattern(r->off + i))
				bad = 1;
		}
		copy_reader_advance(p, r, len);
		n -= len;
		if (p->cached > *maxcached)
			*maxcached = p->cached;
	}
	return (bad);
}

/* A tar header's checksum field matches its bytes (the field as spaces). */
static int
tar_sum_ok(const char *h)
{
	unsigned long	sum = 0, want;
	int		i;

	for (i = 0; i < 512; i++)
		sum += i >= 148 && i < 156 ? ' ' : (unsigned char)h[i];
	want = strtoul(h + 148, NULL, 8);
	return (sum == want && h[154] == '\0' && h[155] == ' ');
}

int
main(void)
{
	struct options		 opt;
	struct copy_plan	*p;
	struct copy_reader	 a, b, c;
	struct copy_tar		 t;
	const char		*d;
	char			 path[] = "/tmp/mrsh-test-copy.XXXXXX", *s, *cmd;
	char			*srcs[1], err[256];
	unsigned char		*buf;
	uint64_t		 size = 3 * COPY_CHUNK + 12345, i;
	size_t			 maxc = 0, len;
	int			 fd;

	s = copy_expand("/d/%h/x%%y%h", "node1");
	is_str(s, "/d/node1/x%ynode1", "%h and %% expanded");
	free(s);
	s = copy_expand("/d/%x/%", "n");
	is_str(s, "/d/%x/%", "another %x and a trailing % stay as written");
	free(s);
	ok(copy_has_host("a/%h") && !copy_has_host("a/%%h") &&
	    !copy_has_host("a/b"), "copy_has_host sees %h, not %%h");
	s = copy_basename("/a/b/dir//");
	is_str(s, "dir", "basename without trailing slashes");
	free(s);

	if ((fd = mkstemp(path)) == -1)
		return (1);
	buf = malloc(size);
	for (i = 0; i < size; i++)
		buf[i] = pattern(i);
	if (write(fd, buf, size) != (ssize_t)size)
		return (1);
	free(buf);

	memset(&opt, 0, sizeof opt);
	opt.copy = COPY_PUSH;
	srcs[0] = path;
	opt.copy_src = srcs;
	opt.ncopy_src = 1;
	opt.copy_dest = "/dest";
	p = copy_plan_new(&opt, 3);
	ok(p != NULL && p->nentries == 1 && p->top_is_file,
	    "a plan of one file");
	is_int((long long)p->total, (long long)size, "its size");

	/* Two hosts in step: one read of the file, every chunk freed. */
	copy_reader_attach(p, &a, p->entries[0].src);
	copy_reader_attach(p, &b, p->entries[0].src);
	while (a.off < size) {
		len = size - a.off < COPY_WRITE_MAX ? (size_t)(size - a.off) :
		    COPY_WRITE_MAX;
		if (pull(p, &a, len, &maxc) != 0 || pull(p, &b, len, &maxc) != 0)
			break;
	}
	is_int((long long)a.off, (long long)size, "host a got the whole file");
	is_int((long long)b.off, (long long)size, "host b got the whole file");
	is_int((long long)p->bytes_read, (long long)size,
	    "in step: the file was read once for both");
	copy_reader_detach(p, &a);
	copy_reader_detach(p, &b);
	is_int((long long)p->cached, (long long)size,
	    "idle chunks kept for the third host");

	/* The third host starts late: the chunks are still there. */
	copy_reader_attach(p, &c, p->entries[0].src);
	is_int(pull(p, &c, size, &maxc), 0, "a late host gets the right bytes");
	is_int((long long)p->bytes_read, (long long)size,
	    "and reads nothing again");
	is_int((long long)p->bytes_first, (long long)size,
	    "every byte read once, the first time");
	copy_reader_detach(p, &c);
	is_int((long long)p->cached, 0, "every chunk freed once all passed");

	/* A window of 2 chunks; a reader 3 chunks behind preads its part. */
	p->window = 2 * COPY_CHUNK;
	p->bytes_read = 0;
	maxc = 0;
	copy_reader_attach(p, &a, p->entries[0].src);
	copy_reader_attach(p, &b, p->entries[0].src);
	is_int(pull(p, &b, 100, &maxc), 0, "b starts");
	is_int(pull(p, &a, size, &maxc), 0, "a reads everything, right bytes");
	ok(maxc <= p->window, "the cache never grew past the window");
	is_int(pull(p, &b, size - 100, &maxc), 0,
	    "b, left behind, still gets the right bytes");
	ok(p->bytes_read > size, "b read part of it again");
	is_int((long long)p->bytes_first, (long long)size,
	    "counted apart from the first reads");
	ok(maxc <= p->window, "still within the window");
	copy_reader_detach(p, &a);
	copy_reader_detach(p, &b);
	is_int((long long)p->cached, 0, "nothing cached after both detached");

	/* The file shrinks under us. */
	if (ftruncate(fd, 1000) != 0)
		return (1);
	copy_reader_attach(p, &a, p->entries[0].src);
	a.off = 5000;
	ok(copy_reader_data(p, &a, COPY_WRITE_MAX, &len, err, sizeof err) ==
	    NULL && strstr(err, "shrank") != NULL, "a shrunk file is an error");
	copy_reader_detach(p, &a);

	/* --tar: a GNU header, then the shrunk file fails the stream. */
	copy_tar_init(&t, p);
	d = copy_tar_data(&t, 512, &len, err, sizeof err);
	ok(d != NULL && len == 512 && memcmp(d + 257, "ustar  ", 8) == 0,
	    "--tar: the stream starts with a GNU tar header");
	copy_tar_advance(&t, len);
	ok(copy_tar_data(&t, COPY_WRITE_MAX, &len, err, sizeof err) == NULL &&
	    strstr(err, "shrank") != NULL,
	    "--tar: a file that shrank fails the stream");
	copy_tar_free(&t);
	/*
	 * Sizes and times too large for tar's octal fields (a file of 8 GiB,
	 * an mtime after 2242): GNU's base-256, big-endian after a 0x80
	 * byte, with a checksum over the whole block; one less still fits
	 * in 11 octal digits.
	 */
	p->entries[0].src->size = (uint64_t)1 << 33;
	p->entries[0].mtime.tv_sec = (time_t)(((uint64_t)1 << 33) + 5);
	copy_tar_init(&t, p);
	d = copy_tar_data(&t, 512, &len, err, sizeof err);
	ok(d != NULL && len == 512, "--tar: a header for an 8 GiB file");
	ok(d != NULL && memcmp(d + 124, "\x80\0\0\0\0\0\0\x02\0\0\0\0", 12) == 0,
	    "--tar: size 2^33 in base-256");
	ok(d != NULL && memcmp(d + 136, "\x80\0\0\0\0\0\0\x02\0\0\0\x05", 12) == 0,
	    "--tar: mtime 2^33 + 5 in base-256");
	ok(d != NULL && tar_sum_ok(d), "--tar: its checksum adds up");
	copy_tar_free(&t);
	p->entries[0].src->size = ((uint64_t)1 << 33) - 1;
	p->entries[0].mtime.tv_sec = 1;
	copy_tar_init(&t, p);
	d = copy_tar_data(&t, 512, &len, err, sizeof err);
	ok(d != NULL && memcmp(d + 124, "77777777777", 12) == 0 &&
	    memcmp(d + 136, "00000000001", 12) == 0,
	    "--tar: 2^33 - 1 still in octal");
	copy_tar_free(&t);

	cmd = copy_tar_command("/d'ir", 1);
	ok(strstr(cmd, " mrsh-copy '/d'\\''ir' 1 '") != NULL,
	    "--tar: the destination single-quoted for the remote shell");
	free(cmd);
	cmd = copy_tar_check_command("/d'ir");
	ok(strncmp(cmd, "sh -c '", 7) == 0 &&
	    strstr(cmd, " mrsh-check '/d'\\''ir'") != NULL,
	    "tar check: sh -c, the destination single-quoted");
	free(cmd);

#define V(s)	copy_tar_verdict((s), sizeof (s) - 1)
	ok(V("mrsh-tar:ok\n") == NULL, "tar check: ok is tar");
	ok(V("motd\nmrsh-tar:ok") == NULL, "tar check: a login banner first");
	ok(V("mrsh-tar:okay\n") != NULL, "tar check: only the word ok");
	ok(V("x mrsh-tar:ok\n") != NULL, "tar check: the tag starts a line");
	ok(V("mrsh-tar:ok\nmrsh-tar:tar\n") != NULL &&
	    strcmp(V("mrsh-tar:ok\nmrsh-tar:tar\n"), "no GNU tar") == 0,
	    "tar check: the last answer counts");
	ok(V("mrsh-tar:dest\r\n") != NULL &&
	    strstr(V("mrsh-tar:dest\r\n"), "not a writable directory") != NULL,
	    "tar check: dest, CRLF");
	ok(V("mrsh-tar:coreutils") != NULL && V("mrsh-tar:findutils") != NULL,
	    "tar check: coreutils, findutils");
	ok(V("") != NULL && strstr(V(""), "no answer") != NULL,
	    "tar check: nothing printed is no answer");
	ok(V("mrsh-tar:\x1b[2J") != NULL &&
	    strstr(V("mrsh-tar:\x1b[2J"), "\x1b") == NULL,
	    "tar check: an unknown word is no answer, never echoed");
#undef V

	copy_plan_free(p);
	close(fd);
	unlink(path);
	return (done_testing());
}
