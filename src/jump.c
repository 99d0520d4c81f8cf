/*
 * ProxyJump specifications: parse [user@]host[:port] and ssh:// URIs in a
 * comma-separated chain exactly as ssh does (a bad port or an empty host is
 * an error), and print them back as ssh -G does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/jump.h"
#include "mrsh/xmalloc.h"

/* One hop; 0, or -1 if it is not a valid [user@]host[:port] / URI. */
static int
jump_hop_parse(const char *in, struct jump_hop *hop)
{
	char		*s, *h, *at, *colon, *end, *close;
	long		 port;
	int		 uri = 0;

	memset(hop, 0, sizeof *hop);
	s = xstrdup(in);
	h = s;
	if (strncmp(h, "ssh://", 6) == 0) {
		uri = 1;
		h += 6;
		/* No path: at most a trailing slash. */
		if ((end = strchr(h, '/')) != NULL) {
			if (end[1] != '\0')
				goto bad;
			*end = '\0';
		}
	}
	if ((at = strrchr(h, '@')) != NULL) {
		*at = '\0';
		if (*h == '\0')
			goto bad;
		hop->user = xstrdup(h);
		h = at + 1;
	}
	colon = NULL;
	if (*h == '[' && (close = strchr(h, ']')) != NULL) {
		*close = '\0';
		h++;
		if (close[1] == ':')
			colon = close + 1;
		else if (close[1] != '\0')
			goto bad;
	} else if ((colon = strrchr(h, ':')) != NULL) {
		if (strchr(h, ':') != colon && !uri)
			colon = NULL;	/* a bare IPv6 address */
	}
	if (colon != NULL) {
		*colon = '\0';
		port = strtol(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || port < 1 ||
		    port > 65535)
			goto bad;
		hop->port = (int)port;
	}
	if (*h == '\0')
		goto bad;
	hop->host = xstrdup(h);
	free(s);
	return (0);
bad:
	free(hop->user);
	memset(hop, 0, sizeof *hop);
	free(s);
	return (-1);
}

void
jump_hops_free(struct jump_hop *hops, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		free(hops[i].user);
		free(hops[i].host);
	}
	free(hops);
}

int
jump_spec_parse(const char *spec, struct jump_hop **hopsp, char *err,
    size_t errlen)
{
	struct jump_hop	*hops = NULL;
	char		*s, *p, *word;
	int		 n = 0;

	*hopsp = NULL;
	if (strcasecmp(spec, "none") == 0)
		return (0);
	s = xstrdup(spec);
	for (p = s; (word = strsep(&p, ",")) != NULL; ) {
		hops = xreallocarray(hops, (size_t)n + 1, sizeof *hops);
		if (jump_hop_parse(word, &hops[n]) == -1) {
			snprintf(err, errlen, "bad jump host \"%s\"", word);
			jump_hops_free(hops, n);
			free(s);
			return (-1);
		}
		n++;
	}
	free(s);
	*hopsp = hops;
	return (n);
}

char *
jump_spec_print(const char *spec)
{
	struct jump_hop	 hop;
	const char	*last;
	char		*out, port[16];
	int		 v6;

	last = strrchr(spec, ',');
	last = last != NULL ? last + 1 : spec;
	if (jump_hop_parse(last, &hop) == -1)
		return (NULL);
	v6 = strchr(hop.host, ':') != NULL;
	port[0] = '\0';
	if (hop.port > 0)
		snprintf(port, sizeof port, ":%d", hop.port);
	xasprintf(&out, "%.*s%s%s%s%s%s%s", (int)(last - spec), spec,
	    hop.user != NULL ? hop.user : "", hop.user != NULL ? "@" : "",
	    v6 ? "[" : "", hop.host, v6 ? "]" : "", port);
	free(hop.user);
	free(hop.host);
	return (out);
}

/* Append a word as is. */
static void
jump_append(char **out, const char *word)
{
	char	*p = *out;

	xasprintf(out, "%s %s", p, word);
	free(p);
}

/* Append s single-quoted for /bin/sh. */
static void
jump_quote(char **out, const char *s)
{
	char	*q, *p;
	size_t	 n = 3;

	for (p = (char *)s; *p != '\0'; p++)
		n += *p == '\'' ? 4 : *p == '%' ? 2 : 1;
	q = xmalloc(n);
	p = q;
	*p++ = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else if (*s == '%') {
			/* The command's % tokens are expanded afterwards. */
			*p++ = '%';
			*p++ = '%';
		} else
			*p++ = *s;
	}
	*p++ = '\'';
	*p = '\0';
	p = *out;
	xasprintf(out, "%s %s", p, q);
	free(p);
	free(q);
}

char *
jump_proxy_command(const char *spec, const char *config_file, char *err,
    size_t errlen)
{
	struct jump_hop	*hops;
	char		*cmd, *extra, port[16];
	const char	*last;
	int		 n;

	if ((n = jump_spec_parse(spec, &hops, err, errlen)) <= 0) {
		if (n == 0)
			snprintf(err, errlen, "ProxyJump none has no command");
		return (NULL);
	}
	cmd = xstrdup("ssh");
	if (hops[n - 1].user != NULL) {
		jump_append(&cmd, "-l");
		jump_quote(&cmd, hops[n - 1].user);
	}
	if (hops[n - 1].port > 0) {
		snprintf(port, sizeof port, "%d", hops[n - 1].port);
		jump_append(&cmd, "-p");
		jump_append(&cmd, port);
	}
	if (n > 1) {
		last = strrchr(spec, ',');
		extra = xstrndup(spec, (size_t)(last - spec));
		jump_append(&cmd, "-J");
		jump_quote(&cmd, extra);
		free(extra);
	}
	if (config_file != NULL) {
		jump_append(&cmd, "-F");
		jump_quote(&cmd, config_file);
	}
	jump_append(&cmd, "-W '[%h]:%p'");
	jump_quote(&cmd, hops[n - 1].host);
	jump_hops_free(hops, n);
	return (cmd);
}

char *
jump_last_host(const char *spec)
{
	struct jump_hop	 hop;
	const char	*last;

	last = strrchr(spec, ',');
	last = last != NULL ? last + 1 : spec;
	if (jump_hop_parse(last, &hop) == -1)
		return (xstrdup(last));
	free(hop.user);
	return (hop.host);
}
