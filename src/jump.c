/*
 * ProxyJump specifications: parse [user@]host[:port] and ssh:// URIs in a
 * comma-separated chain exactly as OpenSSH 9.2 does (readconf.c
 * parse_jump(), misc.c parse_ssh_uri() and parse_user_host_port()): the
 * same specs are valid and give the same user, host and port, and print
 * them back as ssh -G does.
 */
#include "config.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "mrsh/hostlist.h"
#include "mrsh/jump.h"
#include "mrsh/log.h"
#include "mrsh/xmalloc.h"

/*
 * The spec as ssh reads it: a '#' starts a comment, and ssh 9.2's rtrim()
 * cuts the string at every white space past the first character (not only
 * trailing ones: "a b" is "a" to ssh).
 */
static char *
jump_strip(const char *spec)
{
	char	*s, *p;

	s = xstrdup(spec);
	if ((p = strchr(s, '#')) != NULL)
		*p = '\0';
	for (p = s + (*s != '\0'); *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			*p = '\0';
			break;
		}
	}
	return (s);
}

/*
 * ssh's hpdelim2(): the host field of *cp (not NULL), "[...]" or up to
 * ':' or '/';
 * *cp moves past the delimiter (stored in *delim), or becomes NULL at the
 * end. NULL if the field is malformed.
 */
static char *
jump_hpdelim(char **cp, char *delim)
{
	char	*s, *old;

	old = s = *cp;
	if (*s == '[') {
		if ((s = strchr(s, ']')) == NULL)
			return (NULL);
		s++;
	} else if ((s = strpbrk(s, ":/")) == NULL)
		s = *cp + strlen(*cp);
	switch (*s) {
	case '\0':
		*cp = NULL;
		break;
	case ':':
	case '/':
		*delim = *s;
		*s = '\0';
		*cp = s + 1;
		break;
	default:
		return (NULL);
	}
	return (old);
}

/* ssh's cleanhostname(): "[host]" without its brackets. */
static char *
jump_cleanhost(char *h)
{
	size_t	len = strlen(h);

	if (*h == '[' && h[len - 1] == ']') {
		h[len - 1] = '\0';
		return (h + 1);
	}
	return (h);
}

/* ssh's a2port(): 0..65535 or a TCP service name; -1 if neither. */
static int
jump_port(const char *s)
{
	struct servent	*se;
	char		*end;
	long long	 v;

	if (*s != '\0') {
		v = strtoll(s, &end, 10);
		if (*end == '\0' && v >= 0 && v <= 65535)
			return ((int)v);
	}
	if ((se = getservbyname(s, "tcp")) != NULL)
		return (ntohs((uint16_t)se->s_port));
	return (-1);
}

/* ssh's urldecode(): %XX and '+'; NULL if a % is not followed by 2 hex. */
static char *
jump_urldecode(const char *src)
{
	char	*ret, *dst, hex[3];

	ret = xmalloc(strlen(src) + 1);
	for (dst = ret; *src != '\0'; src++) {
		if (*src == '+')
			*dst++ = ' ';
		else if (*src == '%') {
			if (!isxdigit((unsigned char)src[1]) ||
			    !isxdigit((unsigned char)src[2])) {
				free(ret);
				return (NULL);
			}
			memcpy(hex, src + 1, 2);
			hex[2] = '\0';
			*dst++ = (char)strtol(hex, NULL, 16);
			src += 2;
		} else
			*dst++ = *src;
	}
	*dst = '\0';
	return (ret);
}

/*
 * ssh's valid_domain(name, 0): letters, digits, '.', '-', '_', starting
 * with a letter or digit, no "..". A trailing '.' is dropped.
 */
static int
jump_valid_domain(char *name)
{
	size_t	i, len = strlen(name);

	if (len == 0 || !isalnum((unsigned char)name[0]))
		return (0);
	for (i = 0; i < len; i++) {
		if (name[i] == '.' && i > 0 && name[i - 1] == '.')
			return (0);
		if (name[i] != '.' && name[i] != '-' && name[i] != '_' &&
		    !isalnum((unsigned char)name[i]))
			return (0);
	}
	if (name[len - 1] == '.')
		name[len - 1] = '\0';
	return (1);
}

/* ssh://[user[;params]@]host[:port][/]: 0, or -1 if it is not valid. */
static int
jump_uri_parse(char *s, struct jump_hop *hop)
{
	char	*cp, *p, *h, delim = '\0';
	int	 port;

	if ((cp = strchr(s, '@')) != NULL) {
		*cp = '\0';
		if ((p = strchr(s, ';')) != NULL)
			*p = '\0';	/* connection parameters: ignored */
		if (*s == '\0' || (hop->user = jump_urldecode(s)) == NULL)
			return (-1);
		s = cp + 1;
	}
	if ((h = jump_hpdelim(&s, &delim)) == NULL || *h == '\0')
		return (-1);
	hop->host = xstrdup(jump_cleanhost(h));
	if (!jump_valid_domain(hop->host))
		return (-1);
	if (s != NULL && *s != '\0' && delim == ':') {
		if ((cp = strchr(s, '/')) != NULL)
			*cp = '\0';
		if ((port = jump_port(s)) <= 0)
			return (-1);
		hop->port = port;
		s = cp != NULL ? cp + 1 : NULL;
	}
	/* A path is not allowed. */
	return (s != NULL && *s != '\0' ? -1 : 0);
}

/* [user@]host[:port]: 0, or -1 if it is not valid. */
static int
jump_uhp_parse(char *s, struct jump_hop *hop)
{
	char	*cp, *h, delim = '\0';
	int	 port;

	if ((cp = strrchr(s, '@')) != NULL) {
		*cp = '\0';
		if (*s == '\0')
			return (-1);
		hop->user = xstrdup(s);
		s = cp + 1;
	}
	if ((h = jump_hpdelim(&s, &delim)) == NULL || delim == '/' ||
	    *h == '\0')
		return (-1);
	hop->host = xstrdup(jump_cleanhost(h));
	if (s != NULL && *s != '\0') {
		if ((port = jump_port(s)) <= 0)
			return (-1);
		hop->port = port;
	}
	return (0);
}

/* One hop; 0, or -1 if it is not a valid [user@]host[:port] / URI. */
static int
jump_hop_parse(const char *in, struct jump_hop *hop)
{
	char	*s;
	int	 rc;

	memset(hop, 0, sizeof *hop);
	s = xstrdup(in);
	if (strncmp(s, "ssh://", 6) == 0)
		rc = jump_uri_parse(s + 6, hop);
	else
		rc = jump_uhp_parse(s, hop);
	free(s);
	if (rc == -1) {
		free(hop->user);
		free(hop->host);
		memset(hop, 0, sizeof *hop);
	}
	return (rc);
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
	char		*s, *p, *word, safe[256];
	int		 n = 0;

	*hopsp = NULL;
	if (strcasecmp(spec, "none") == 0)
		return (0);
	s = jump_strip(spec);
	for (p = s; (word = strsep(&p, ",")) != NULL; ) {
		hops = xreallocarray(hops, (size_t)n + 1, sizeof *hops);
		if (jump_hop_parse(word, &hops[n]) == -1) {
			log_safe(safe, sizeof safe, word, strlen(word));
			snprintf(err, errlen, "bad jump host \"%s\"", safe);
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

/*
 * The checks ssh makes on a -J from the command line (not on ProxyJump in
 * a file; OpenSSH's ssh_valid_hostname() and ssh_valid_ruser(), in
 * Debian's 9.2p1 too), so that shell characters from a hostile -J never
 * reach the ssh -W command line.
 */
static int
jump_valid_host(const char *s)
{
	if (*s == '-')
		return (0);
	for (; *s != '\0'; s++) {
		if (strchr("'`\"$\\;&<>|(){},", *s) != NULL ||
		    isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return (0);
	}
	return (1);
}

int
jump_spec_check_cmdline(const char *spec, char *err, size_t errlen)
{
	struct jump_hop	*hops;
	char		 safe[256];
	int		 i, n, rc = 0;

	if ((n = jump_spec_parse(spec, &hops, err, errlen)) <= 0)
		return (n);
	/* As ssh, from the last hop back. */
	for (i = n - 1; i >= 0 && rc == 0; i--) {
		if (!jump_valid_host(hops[i].host)) {
			log_safe(safe, sizeof safe, hops[i].host,
			    strlen(hops[i].host));
			snprintf(err, errlen, "invalid hostname \"%s\"", safe);
			rc = -1;
		} else if (hops[i].user != NULL &&
		    !hostlist_valid_user(hops[i].user)) {
			log_safe(safe, sizeof safe, hops[i].user,
			    strlen(hops[i].user));
			snprintf(err, errlen, "invalid username \"%s\"", safe);
			rc = -1;
		}
	}
	jump_hops_free(hops, n);
	return (rc);
}

char *
jump_spec_print(const char *spec)
{
	struct jump_hop	 hop;
	const char	*last;
	char		*s, *out, port[16];
	int		 num;

	s = jump_strip(spec);
	last = strrchr(s, ',');
	last = last != NULL ? last + 1 : s;
	if (jump_hop_parse(last, &hop) == -1) {
		free(s);
		return (NULL);
	}
	/* As ssh -G: brackets around anything that looks numeric. */
	num = strchr(hop.host, ':') != NULL ||
	    strspn(hop.host, "1234567890.") == strlen(hop.host);
	port[0] = '\0';
	if (hop.port > 0)
		snprintf(port, sizeof port, ":%d", hop.port);
	xasprintf(&out, "%.*s%s%s%s%s%s%s", (int)(last - s), s,
	    hop.user != NULL ? hop.user : "", hop.user != NULL ? "@" : "",
	    num ? "[" : "", hop.host, num ? "]" : "", port);
	free(hop.user);
	free(hop.host);
	free(s);
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
	char		*s, *cmd, *extra, port[16];
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
		s = jump_strip(spec);
		last = strrchr(s, ',');
		extra = xstrndup(s, (size_t)(last - s));
		jump_append(&cmd, "-J");
		jump_quote(&cmd, extra);
		free(extra);
		free(s);
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
	char		*s, *host;

	s = jump_strip(spec);
	last = strrchr(s, ',');
	last = last != NULL ? last + 1 : s;
	if (jump_hop_parse(last, &hop) == -1)
		host = xstrdup(last);
	else {
		free(hop.user);
		host = hop.host;
	}
	free(s);
	return (host);
}
