/*
 * --json: one object per host on stdout, one line, queued when the host is
 * done: who it was (label, name, user, port, the jump host that carried
 * it), how it ended (status word, exit code, signal, the failed stage and
 * its reason), how long each phase took, and its stdout and stderr as JSON
 * strings (valid UTF-8 kept, every other byte as \u00XX), each with
 * whether it was cut at --gather-max.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/output.h"
#include "mrsh/session.h"
#include "mrsh/xmalloc.h"

#include "output_internal.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static size_t
output_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return len;
}

/*
 * Append s as a quoted JSON string. Valid UTF-8 passes through; ", \ and
 * control characters are escaped; every byte that is not part of a valid
 * UTF-8 sequence becomes \u00XX, i.e. it is read as Latin-1 (lossy: such a
 * byte and the character U+00XX look the same in the result).
 */
static void
output_json_add(struct evbuffer *b, const char *str, size_t n)
{
	const unsigned char *p = (const unsigned char *)str;
	const unsigned char *run;
	char esc[8];
	size_t len;

	xevbuffer_add(b, "\"", 1);
	run = p;
	while (n > 0) {
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
			n--;
			continue;
		}
		if (*p >= 0x80 && (len = output_utf8_len(p, n)) != 0) {
			p += len;
			n -= len;
			continue;
		}
		xevbuffer_add(b, run, (size_t)(p - run));
		switch (*p) {
		case '"':
			xevbuffer_add(b, "\\\"", 2);
			break;
		case '\\':
			xevbuffer_add(b, "\\\\", 2);
			break;
		case '\n':
			xevbuffer_add(b, "\\n", 2);
			break;
		case '\r':
			xevbuffer_add(b, "\\r", 2);
			break;
		case '\t':
			xevbuffer_add(b, "\\t", 2);
			break;
		case '\b':
			xevbuffer_add(b, "\\b", 2);
			break;
		case '\f':
			xevbuffer_add(b, "\\f", 2);
			break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			xevbuffer_add(b, esc, 6);
			break;
		}
		p++;
		n--;
		run = p;
	}
	xevbuffer_add(b, run, (size_t)(p - run));
	xevbuffer_add(b, "\"", 1);
}

char *
output_json_string(const char *s, size_t n)
{
	struct evbuffer *b = xevbuffer_new();

	output_json_add(b, s, n);
	return xevbuffer_take(b, NULL);
}

static void
output_json_str_or_null(struct evbuffer *b, const char *s)
{
	if (s == NULL)
		xevbuffer_addstr(b, "null");
	else
		output_json_add(b, s, strlen(s));
}

int
output_tv_set(const struct timeval *tv)
{
	return tv->tv_sec != 0 || tv->tv_usec != 0;
}

static double
output_tv_diff(const struct timeval *a, const struct timeval *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_usec - a->tv_usec) / 1e6;
}

/*
 * Time spent in states first..last: from the first of them entered to the
 * next state entered after last. -1 if none of them was entered (or, which
 * output_session_done does not see, no later state yet).
 */
static double
output_phase(const struct session *s, int first, int last)
{
	const struct timeval *start = NULL;
	double d;
	int i;

	for (i = first; i <= last && start == NULL; i++) {
		if (output_tv_set(&s->t[i]))
			start = &s->t[i];
	}
	if (start == NULL)
		return -1;
	for (i = last + 1; i < S_COUNT; i++) {
		if (output_tv_set(&s->t[i])) {
			d = output_tv_diff(start, &s->t[i]);
			return d < 0 ? 0 : d;
		}
	}
	return -1;
}

static void
output_json_time(struct evbuffer *b, const char *name, double t, int comma)
{
	char tmp[64];

	if (t < 0)
		snprintf(tmp, sizeof tmp, "\"%s\":null", name);
	else
		snprintf(tmp, sizeof tmp, "\"%s\":%.6f", name, t);
	xevbuffer_addstr(b, tmp);
	if (comma)
		xevbuffer_add(b, ",", 1);
}

/* One host as one JSON line on stdout. */
void
output_json_host(struct output *out, struct session *s, struct output_host *h)
{
	struct evbuffer *b = xevbuffer_new();
	struct session_outcome o;
	char tmp[64], *sig, *reason, stage[32];
	const char *name, *held;
	size_t i, len;

	xevbuffer_addstr(b, "{\"host\":");
	output_json_str_or_null(b, output_label(s));
	xevbuffer_addstr(b, ",\"name\":");
	output_json_str_or_null(b, s->host != NULL ? s->host->name : NULL);
	xevbuffer_addstr(b, ",\"user\":");
	/* ssh: the user and port ssh_config decided on. */
	output_json_str_or_null(b, s->cfg_user != NULL ? s->cfg_user :
	    s->user);
	if (s->cfg_port != 0)
		snprintf(tmp, sizeof tmp, ",\"port\":%d", s->cfg_port);
	else if (s->host != NULL && s->host->port != 0)
		snprintf(tmp, sizeof tmp, ",\"port\":%d", s->host->port);
	else
		snprintf(tmp, sizeof tmp, ",\"port\":null");
	xevbuffer_addstr(b, tmp);
	if (s->via != NULL) {
		/* The jump host (or proxy command) that carried it. */
		xevbuffer_addstr(b, ",\"via\":");
		output_json_str_or_null(b, s->via);
	}
	xevbuffer_addstr(b, ",\"status\":");
	output_json_str_or_null(b, output_status_word(s));

	o = session_outcome(s);
	sig = output_session_signal(&o);
	if (o.has_status)
		snprintf(tmp, sizeof tmp, ",\"exit_code\":%u", o.status);
	else
		snprintf(tmp, sizeof tmp, ",\"exit_code\":null");
	xevbuffer_addstr(b, tmp);
	xevbuffer_addstr(b, ",\"signal\":");
	output_json_str_or_null(b, sig);
	free(sig);

	if (out->opt->copy != COPY_NONE) {
		snprintf(tmp, sizeof tmp, ",\"bytes\":%llu",
		    (unsigned long long)s->copy_bytes);
		xevbuffer_addstr(b, tmp);
		xevbuffer_addstr(b, ",\"via\":");
		output_json_str_or_null(b, s->copy_via);
	}

	xevbuffer_addstr(b, ",\"stage\":");
	if (o.end == SESSION_FAILED) {
		name = session_state_name(s->fail_stage);
		for (i = 0; name != NULL && name[i] != '\0' &&
		    i < sizeof stage - 1; i++) {
			stage[i] = name[i];
			if (stage[i] >= 'A' && stage[i] <= 'Z')
				stage[i] += 'a' - 'A';
		}
		stage[i] = '\0';
		output_json_str_or_null(b, stage);
		xevbuffer_addstr(b, ",\"reason\":");
		reason = s->fail_reason != NULL ? log_safe_dup(s->fail_reason,
		    strlen(s->fail_reason)) : NULL;
		output_json_str_or_null(b, reason);
		free(reason);
	} else
		xevbuffer_addstr(b, "null,\"reason\":null");

	xevbuffer_addstr(b, ",\"timings\":{");
	output_json_time(b, "connect", output_phase(s, S_RESOLVING,
	    S_CONNECTING), 1);
	output_json_time(b, "setup", output_phase(s, S_SETUP, S_SETUP), 1);
	output_json_time(b, "command", output_phase(s, S_RUNNING,
	    S_RUNNING), 1);
	output_json_time(b, "close", output_phase(s, S_CLOSING, S_CLOSING),
	    1);
	output_json_time(b, "total", output_phase(s, S_RESOLVING,
	    S_CLOSING), 0);
	xevbuffer_addstr(b, "},\"stdout\":");
	held = xevbuffer_bytes(h->hold[0], &len);
	output_json_add(b, held, len);
	xevbuffer_addstr(b, h->cut[0] ? ",\"stdout_truncated\":true" :
	    ",\"stdout_truncated\":false");
	xevbuffer_addstr(b, ",\"stderr\":");
	held = xevbuffer_bytes(h->hold[1], &len);
	output_json_add(b, held, len);
	xevbuffer_addstr(b, h->cut[1] ? ",\"stderr_truncated\":true" :
	    ",\"stderr_truncated\":false");
	xevbuffer_addstr(b, "}\n");

	held = xevbuffer_bytes(b, &len);
	output_fd_add_host(out, h, STREAM_STDOUT, held, len);
	evbuffer_free(b);
	output_fd_kick(out, STREAM_STDOUT);
}
