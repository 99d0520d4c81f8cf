/*
 * Node groups, read as ClusterShell and pdsh read them, so that "@web"
 * means to mrsh what it means to "nodeset -f @web" and "-g web" what it
 * means to clush (or, from a genders database, to pdsh and nodeattr).
 *
 * ClusterShell: every groups.conf on its search path is read in order into
 * one INI table (a later file overrides a key, as Python's ConfigParser
 * does); $CFGDIR is the directory of the last one read. Sources come from
 * the confdir *.conf files, the autodir *.yaml files and groups.conf's own
 * sections; [Main] default names the default source. An upcall source runs
 * its map/all/list command with /bin/sh in $CFGDIR, with $GROUP, $SOURCE and
 * $CFGDIR substituted, bounded by a timeout; its output, split on white
 * space, is a node set. Node sets use ClusterShell's operators: ',' union,
 * '!' difference, '&' intersection, '^' symmetric difference, evaluated
 * left to right; "@g", "@src:g", "@*" and "@src:*" nest.
 *
 * genders: libgenders loads the database; a name that ClusterShell does not
 * know is a genders query (attr, attr=val, or genders_query(3) syntax).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <genders.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "mrsh/groups.h"
#include "mrsh/subproc.h"
#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/xmalloc.h"

/* How deep groups may name other groups. */
#define GROUPS_MAX_DEPTH	16
/* Largest upcall output read. */
#define GROUPS_MAX_OUTPUT	(16 * 1024 * 1024)

/* One key of the merged INI table. */
struct groups_ini {
	char		*section;
	char		*key;
	char		*value;
	unsigned	 file;		/* which groups_ini_read set it */
};

/* A ClusterShell group source. */
struct groups_source {
	char		*name;
	char		*cfgdir;
	/* upcall source */
	char		*map;
	char		*all;
	char		*list;
	/* YAML source: groups[i] = nodes[i] (already joined with ',') */
	int		 yaml;
	char		**gname;
	char		**gnodes;
	size_t		 ngroups;
};

static struct {
	int			 loaded;
	char			*conf;		/* NULL: search path; "": none */
	char			*genders;	/* NULL: /etc/genders; "": none */
	double			 timeout;

	struct groups_ini	*ini;
	size_t			 nini;
	struct groups_source	*src;
	size_t			 nsrc;
	char			*default_src;
	char			*load_err;	/* config error, reported on use */

	genders_t		 gh;
	int			 genders_tried;
} groups;

static int	groups_eval(const char *, const char *, struct hostlist *,
		    int, char *, size_t);

static char *
groups_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* ---- INI files (ConfigParser's subset that groups.conf uses) ----------- */

static struct groups_ini *
groups_ini_find(struct groups_ini *v, size_t n, const char *section,
    const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].section, section) == 0 &&
		    strcmp(v[i].key, key) == 0)
			return &v[i];
	return NULL;
}

/*
 * Set section.key: a later file's value replaces an earlier one's, as
 * ConfigParser.read() of several files does; the same key twice in one
 * file is an error there (strict mode, its default), so -1 here.
 */
static int
groups_ini_set(struct groups_ini **v, size_t *n, const char *section,
    const char *key, const char *value, unsigned file)
{
	struct groups_ini *e;

	if ((e = groups_ini_find(*v, *n, section, key)) != NULL) {
		if (e->file == file)
			return -1;
		free(e->value);
		e->value = xstrdup(value);
		e->file = file;
		return 0;
	}
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	e = &(*v)[(*n)++];
	e->section = xstrdup(section);
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->file = file;
	return 0;
}

static void
groups_ini_free(struct groups_ini *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].section);
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

/*
 * Read an INI file into (v, n): "[section]", "key: value" or "key = value",
 * indented lines continue a value, '#' and ';' lines are comments. A
 * section or a key given twice in one file is an error, as in
 * ConfigParser's strict mode. Returns 1 if read, 0 if it does not exist,
 * -1 on error.
 */
static int
groups_ini_read(const char *path, struct groups_ini **v, size_t *n,
    char *err, size_t errlen)
{
	static unsigned files;
	FILE *f;
	char *line = NULL, *p, *sep, *section = NULL, *key = NULL, *val;
	char *joined, **seen = NULL;
	struct groups_ini *e;
	size_t cap = 0, lineno = 0, nseen = 0, i;
	unsigned file = ++files;
	int ret = -1;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return log_errf(err, errlen, "%s: %s", path,
		    strerror(errno));
	}
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (key != NULL && (line[0] == ' ' || line[0] == '\t')) {
			p = groups_trim(line);
			if (*p == '\0' || *p == '#' || *p == ';')
				continue;
			e = groups_ini_find(*v, *n, section, key);
			xasprintf(&joined, "%s\n%s", e->value, p);
			free(e->value);
			e->value = joined;
			continue;
		}
		p = groups_trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			/* ConfigParser: "\[(.+)\]", up to the last ']' */
			if ((sep = strrchr(p, ']')) == NULL || sep == p + 1) {
				log_errf(err, errlen, "%s:%zu: bad section "
				    "header", path, lineno);
				goto out;
			}
			*sep = '\0';
			for (i = 0; i < nseen; i++)
				if (strcmp(seen[i], p + 1) == 0)
					break;
			if (i < nseen) {
				log_errf(err, errlen, "%s:%zu: section [%s] "
				    "given twice", path, lineno, p + 1);
				goto out;
			}
			seen = xreallocarray(seen, nseen + 1, sizeof *seen);
			seen[nseen++] = xstrdup(p + 1);
			free(section);
			section = xstrdup(p + 1);
			free(key);
			key = NULL;
			continue;
		}
		sep = p + strcspn(p, ":=");
		if (section == NULL || *sep == '\0') {
			log_errf(err, errlen, "%s:%zu: expected \"key: "
			    "value\" inside a [section]", path, lineno);
			goto out;
		}
		*sep = '\0';
		val = groups_trim(sep + 1);
		p = groups_trim(p);
		for (sep = p; *sep != '\0'; sep++)
			*sep = tolower((unsigned char)*sep);
		free(key);
		key = xstrdup(p);
		if (groups_ini_set(v, n, section, key, val, file) != 0) {
			log_errf(err, errlen, "%s:%zu: key \"%s\" given twice "
			    "in [%s]", path, lineno, key, section);
			goto out;
		}
	}
	ret = 1;
out:
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(line);
	free(section);
	free(key);
	fclose(f);
	return ret;
}

/* ---- sources ------------------------------------------------------------ */

/* section.key, or else DEFAULT.key: ConfigParser's default section. */
static const char *
groups_ini_get(struct groups_ini *v, size_t n, const char *section,
    const char *key)
{
	struct groups_ini *e = groups_ini_find(v, n, section, key);

	if (e == NULL)
		e = groups_ini_find(v, n, "DEFAULT", key);
	return e == NULL ? NULL : e->value;
}

static struct groups_source *
groups_source_find(const char *name)
{
	size_t i;

	for (i = 0; i < groups.nsrc; i++)
		if (strcmp(groups.src[i].name, name) == 0)
			return &groups.src[i];
	return NULL;
}

static struct groups_source *
groups_source_add(const char *name, const char *cfgdir)
{
	struct groups_source *s;

	/* A name defined twice is an error (ClusterShell: "name
	   collision"), reported by the caller. */
	if (groups_source_find(name) != NULL)
		return NULL;
	groups.src = xreallocarray(groups.src, groups.nsrc + 1,
	    sizeof *groups.src);
	s = &groups.src[groups.nsrc++];
	memset(s, 0, sizeof *s);
	s->name = xstrdup(name);
	s->cfgdir = xstrdup(cfgdir);
	return s;
}

/* Every section but [Main] of an INI table is an upcall source (or several:
   "[a,b]"). */
static int
groups_sources_from_ini(struct groups_ini *v, size_t n, const char *cfgdir,
    const char *path, char *err, size_t errlen)
{
	struct groups_source *s;
	const char *map;
	char *names, *name, *save;
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(v[j].section, v[i].section) == 0)
				break;
		if (j < i || strcmp(v[i].section, "Main") == 0 ||
		    strcmp(v[i].section, "DEFAULT") == 0)
			continue;
		if ((map = groups_ini_get(v, n, v[i].section, "map")) == NULL)
			return log_errf(err, errlen, "%s: group source "
			    "[%s] has no map upcall", path, v[i].section);
		names = xstrdup(v[i].section);
		for (name = strtok_r(names, ",", &save); name != NULL;
		    name = strtok_r(NULL, ",", &save)) {
			if ((s = groups_source_add(name, cfgdir)) == NULL) {
				log_errf(err, errlen, "%s: group source "
				    "\"%s\" defined twice", path, name);
				free(names);
				return -1;
			}
			s->map = xstrdup(map);
			if (groups_ini_get(v, n, v[i].section, "all") != NULL)
				s->all = xstrdup(groups_ini_get(v, n,
				    v[i].section, "all"));
			if (groups_ini_get(v, n, v[i].section, "list") != NULL)
				s->list = xstrdup(groups_ini_get(v, n,
				    v[i].section, "list"));
		}
		free(names);
	}
	return 0;
}

/* A YAML scalar, or a sequence of scalars joined with ',', as a string. */
static int
groups_yaml_value(yaml_parser_t *p, char **out)
{
	yaml_event_t ev;
	char *s = NULL, *t;

	if (!yaml_parser_parse(p, &ev))
		return -1;
	if (ev.type == YAML_SCALAR_EVENT) {
		*out = xstrndup((char *)ev.data.scalar.value,
		    ev.data.scalar.length);
		yaml_event_delete(&ev);
		return 0;
	}
	if (ev.type != YAML_SEQUENCE_START_EVENT) {
		yaml_event_delete(&ev);
		return -1;
	}
	yaml_event_delete(&ev);
	for (;;) {
		if (!yaml_parser_parse(p, &ev)) {
			free(s);
			return -1;
		}
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&ev);
			free(s);
			return -1;
		}
		if (s == NULL)
			s = xstrndup((char *)ev.data.scalar.value,
			    ev.data.scalar.length);
		else {
			xasprintf(&t, "%s,%.*s", s,
			    (int)ev.data.scalar.length,
			    (char *)ev.data.scalar.value);
			free(s);
			s = t;
		}
		yaml_event_delete(&ev);
	}
	*out = s != NULL ? s : xstrdup("");
	return 0;
}

/*
 * A groups.d YAML file: a mapping of source names to mappings of group
 * names to node sets (a string or a list of strings).
 */
static int
groups_yaml_load(const char *path, char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct groups_source *s;
	FILE *f;
	char *srcname = NULL, *gname, *nodes;
	int ret = -1, depth = 0, done = 0;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == EACCES || errno == EPERM || errno == ENOENT)
			return 0;	/* as ClusterShell: skipped */
		return log_errf(err, errlen, "%s: %s", path,
		    strerror(errno));
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev))
			goto bad;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
			if (depth++ != 0)
				goto bad_ev;
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			if (depth != 1)
				goto bad_ev;
			srcname = xstrndup((char *)ev.data.scalar.value,
			    ev.data.scalar.length);
			yaml_event_delete(&ev);
			if (!yaml_parser_parse(&p, &ev))
				goto bad;
			if (ev.type != YAML_MAPPING_START_EVENT)
				goto bad_ev;
			if ((s = groups_source_add(srcname, "")) == NULL) {
				log_errf(err, errlen, "%s: group source "
				    "\"%s\" defined twice", path, srcname);
				yaml_event_delete(&ev);
				goto out;
			}
			free(s->cfgdir);
			s->cfgdir = NULL;
			s->yaml = 1;
			for (;;) {
				yaml_event_delete(&ev);
				if (!yaml_parser_parse(&p, &ev))
					goto bad;
				if (ev.type == YAML_MAPPING_END_EVENT)
					break;
				if (ev.type != YAML_SCALAR_EVENT)
					goto bad_ev;
				gname = xstrndup((char *)ev.data.scalar.value,
				    ev.data.scalar.length);
				if (groups_yaml_value(&p, &nodes) != 0) {
					free(gname);
					goto bad_ev;	/* the name's event */
				}
				s->gname = xreallocarray(s->gname,
				    s->ngroups + 1, sizeof *s->gname);
				s->gnodes = xreallocarray(s->gnodes,
				    s->ngroups + 1, sizeof *s->gnodes);
				s->gname[s->ngroups] = gname;
				s->gnodes[s->ngroups++] = nodes;
			}
			free(srcname);
			srcname = NULL;
			break;
		default:
			goto bad_ev;
		}
		yaml_event_delete(&ev);
	}
	ret = 0;
	goto out;
bad_ev:
	yaml_event_delete(&ev);
bad:
	if (p.error != YAML_NO_ERROR && p.problem != NULL)
		log_errf(err, errlen, "%s:%zu: %s", path,
		    p.problem_mark.line + 1, p.problem);
	else
		log_errf(err, errlen, "%s: invalid content (expected "
		    "source: {group: nodeset})", path);
out:
	free(srcname);
	yaml_parser_delete(&p);
	fclose(f);
	return ret;
}

/* Replace $NAME and ${NAME} of the given names; "$$" is "$". */
static char *
groups_subst(const char *tpl, const char *const *names,
    const char *const *values, size_t n)
{
	char *out = NULL, *t;
	const char *p, *start;
	size_t i, len;
	int brace;

	out = xstrdup("");
	for (p = tpl; *p != '\0';) {
		if (*p != '$') {
			start = p;
			p += strcspn(p, "$");
			xasprintf(&t, "%s%.*s", out, (int)(p - start), start);
			free(out);
			out = t;
			continue;
		}
		if (p[1] == '$') {
			xasprintf(&t, "%s$", out);
			free(out);
			out = t;
			p += 2;
			continue;
		}
		brace = p[1] == '{';
		start = p + 1 + brace;
		for (i = 0; i < n; i++) {
			len = strlen(names[i]);
			if (strncmp(start, names[i], len) != 0)
				continue;
			if (brace ? start[len] == '}' :
			    !(isalnum((unsigned char)start[len]) ||
			    start[len] == '_'))
				break;
		}
		if (i == n) {
			xasprintf(&t, "%s$", out);
			free(out);
			out = t;
			p++;
			continue;
		}
		xasprintf(&t, "%s%s", out, values[i]);
		free(out);
		out = t;
		p = start + strlen(names[i]) + brace;
	}
	return out;
}

/* Split a shell-quoted list ("a 'b c'") as shlex.split does, simply. */
static char **
groups_split_words(const char *s, size_t *n)
{
	char **v = NULL, *w;
	size_t len;
	char q;

	*n = 0;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		w = xmalloc(strlen(s) + 1);
		len = 0;
		while (*s != '\0' && !isspace((unsigned char)*s)) {
			if (*s == '"' || *s == '\'') {
				q = *s++;
				while (*s != '\0' && *s != q)
					w[len++] = *s++;
				if (*s == q)
					s++;
			} else
				w[len++] = *s++;
		}
		w[len] = '\0';
		v = xreallocarray(v, *n + 1, sizeof *v);
		v[(*n)++] = w;
	}
	return v;
}

/* The directories of a confdir/autodir list, with $CFGDIR substituted. */
static int
groups_load_dirs(const char *key, const char *cfgdir, const char *pattern,
    int yaml, char *err, size_t errlen)
{
	static const char *const names[] = { "CFGDIR" };
	const char *const values[] = { cfgdir };
	const char *list;
	struct groups_ini *v;
	char **words, *dir, *globpat;
	glob_t g;
	size_t nw, i, j, nv;
	int r = 0;

	list = groups_ini_get(groups.ini, groups.nini, "Main", key);
	if (list == NULL)
		return 0;
	words = groups_split_words(list, &nw);
	for (i = 0; i < nw && r == 0; i++) {
		dir = groups_subst(words[i], names, values, 1);
		for (j = 0; j < i; j++)
			if (strcmp(words[j], words[i]) == 0)
				break;
		xasprintf(&globpat, "%s/%s", dir, pattern);
		if (j == i && glob(globpat, 0, NULL, &g) == 0) {
			for (j = 0; j < g.gl_pathc && r == 0; j++) {
				if (yaml) {
					r = groups_yaml_load(g.gl_pathv[j],
					    err, errlen);
					continue;
				}
				v = NULL;
				nv = 0;
				if (groups_ini_read(g.gl_pathv[j], &v, &nv,
				    err, errlen) > 0)
					r = groups_sources_from_ini(v, nv, dir,
					    g.gl_pathv[j], err, errlen);
				groups_ini_free(v, nv);
			}
			globfree(&g);
		}
		free(globpat);
		free(dir);
	}
	for (i = 0; i < nw; i++)
		free(words[i]);
	free(words);
	return r;
}

/* ClusterShell's search path for groups.conf, lowest precedence first. */
static size_t
groups_conf_paths(char **v)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *cfgdir = getenv("CLUSTERSHELL_CFGDIR");
	size_t n = 0;

	v[n++] = xstrdup("/etc/clustershell/groups.conf");
	if (home != NULL)
		xasprintf(&v[n++], "%s/.local/etc/clustershell/groups.conf",
		    home);
	if (xdg != NULL && *xdg != '\0')
		xasprintf(&v[n++], "%s/clustershell/groups.conf", xdg);
	else if (home != NULL)
		xasprintf(&v[n++], "%s/.config/clustershell/groups.conf",
		    home);
	if (cfgdir != NULL)
		xasprintf(&v[n++], "%s/groups.conf", cfgdir);
	return n;
}

static void
groups_load(void)
{
	char *paths[5], err[1024], *last = NULL, *slash;
	const char *def;
	size_t n, i;
	int r;

	if (groups.loaded)
		return;
	groups.loaded = 1;
	if (groups.conf != NULL && *groups.conf == '\0')
		return;
	if (groups.conf != NULL) {
		paths[0] = xstrdup(groups.conf);
		n = 1;
	} else
		n = groups_conf_paths(paths);
	for (i = 0; i < n; i++) {
		r = groups_ini_read(paths[i], &groups.ini, &groups.nini, err,
		    sizeof err);
		if (r < 0 && groups.load_err == NULL)
			groups.load_err = xstrdup(err);
		if (r > 0)
			last = paths[i];
	}
	if (groups.conf != NULL && last == NULL && groups.load_err == NULL)
		xasprintf(&groups.load_err, "cannot open %s: %s", groups.conf,
		    strerror(ENOENT));
	if (last != NULL && groups.load_err == NULL) {
		last = xstrdup(last);
		if ((slash = strrchr(last, '/')) != NULL)
			*slash = '\0';
		else
			strcpy(last, ".");
		if (groups_load_dirs("confdir", last, "*.conf", 0, err,
		    sizeof err) != 0 ||
		    groups_load_dirs("autodir", last, "*.yaml", 1, err,
		    sizeof err) != 0 ||
		    groups_sources_from_ini(groups.ini, groups.nini, last,
		    "groups.conf", err, sizeof err) != 0)
			groups.load_err = xstrdup(err);
		free(last);
	}
	for (i = 0; i < n; i++)
		free(paths[i]);
	def = groups_ini_get(groups.ini, groups.nini, "Main", "default");
	if (def != NULL && *def != '\0') {
		if (groups_source_find(def) == NULL &&
		    groups.load_err == NULL)
			xasprintf(&groups.load_err, "default group source "
			    "\"%s\" not found", def);
		groups.default_src = xstrdup(def);
	} else if (groups.nsrc > 0)
		groups.default_src = xstrdup(groups.src[0].name);
}

/* ---- upcalls ------------------------------------------------------------ */

/*
 * Run an upcall command: /bin/sh -c CMD in cfgdir, stdout read until EOF
 * within the timeout (subproc_capture). 0 with *out (the whole output), or
 * -1.
 */
static int
groups_upcall(const struct groups_source *s, const char *what,
    const char *group, char **out, char *err, size_t errlen)
{
	static const char *const names[] = { "GROUP", "SOURCE", "CFGDIR" };
	const char *values[3];
	const char *tpl = strcmp(what, "map") == 0 ? s->map :
	    strcmp(what, "all") == 0 ? s->all : s->list;
	struct subproc_result res;
	char *cmd, *argv[4];
	int ret = -1;

	values[0] = group != NULL ? group : "";
	values[1] = s->name;
	values[2] = s->cfgdir;
	cmd = groups_subst(tpl, names, values, 3);
	debug("group source %s: %s upcall: %s", s->name, what, cmd);
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = cmd;
	argv[3] = NULL;
	if (subproc_capture("group upcall", "/bin/sh", argv, s->cfgdir,
	    groups.timeout, GROUPS_MAX_OUTPUT, &res) == -1)
		fatal("group source %s: %s upcall", s->name, what);
	if (res.timedout)
		log_errf(err, errlen, "group source %s: %s upcall timed "
		    "out after %g s: %s", s->name, what, groups.timeout, cmd);
	else if (res.toolong)
		log_errf(err, errlen, "group source %s: %s upcall wrote "
		    "more than %d bytes: %s", s->name, what,
		    GROUPS_MAX_OUTPUT, cmd);
	else if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
		log_errf(err, errlen, "group source %s: %s upcall failed "
		    "(%s %d): %s", s->name, what,
		    WIFEXITED(res.status) ? "exit status" : "signal",
		    WIFEXITED(res.status) ? WEXITSTATUS(res.status) :
		    WTERMSIG(res.status), cmd);
	else if (strlen(res.out) != res.len)
		log_errf(err, errlen, "group source %s: %s upcall "
		    "wrote a NUL byte: %s", s->name, what, cmd);
	else {
		*out = res.out;
		res.out = NULL;
		ret = 0;
	}
	free(res.out);
	free(cmd);
	return ret;
}

/* Upcall output as ClusterShell reads it: words joined with ','. */
static char *
groups_words_joined(const char *raw)
{
	char *out, *p;
	size_t len = 0;
	int sep = 0;

	out = xmalloc(strlen(raw) + 1);
	for (p = (char *)raw; *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			sep = len > 0;
			continue;
		}
		if (sep)
			out[len++] = ',';
		sep = 0;
		out[len++] = *p;
	}
	out[len] = '\0';
	return out;
}

/*
 * The node set of group NAME in source S, as a string: 1 found, 0 not
 * found (no such group, or an empty one), -1 error.
 */
static int
groups_source_map(const struct groups_source *s, const char *name,
    char **out, char *err, size_t errlen)
{
	char *raw;
	size_t i;

	if (s->yaml) {
		for (i = 0; i < s->ngroups; i++)
			if (strcmp(s->gname[i], name) == 0)
				break;
		if (i == s->ngroups)
			return 0;
		*out = groups_words_joined(s->gnodes[i]);
	} else {
		if (groups_upcall(s, "map", name, &raw, err, errlen) != 0)
			return -1;
		*out = groups_words_joined(raw);
		free(raw);
	}
	if (**out == '\0') {
		free(*out);
		return 0;
	}
	return 1;
}

/* Group names of a source, words joined with ','; -1 error, 0 none. */
static int
groups_source_list(const struct groups_source *s, char **out, char *err,
    size_t errlen)
{
	char *raw, *t;
	size_t i;

	if (s->yaml) {
		*out = xstrdup("");
		for (i = 0; i < s->ngroups; i++) {
			if (strcmp(s->gname[i], "all") == 0)
				continue;
			xasprintf(&t, "%s%s%s", *out, **out ? "," : "",
			    s->gname[i]);
			free(*out);
			*out = t;
		}
		return 1;
	}
	if (s->list == NULL)
		return 0;
	if (groups_upcall(s, "list", NULL, &raw, err, errlen) != 0)
		return -1;
	*out = groups_words_joined(raw);
	free(raw);
	return 1;
}

static int
groups_host_cmp(const void *a, const void *b)
{
	return strcmp(((const struct host *)a)->name,
	    ((const struct host *)b)->name);
}

/* Every node of a source: its "all", else the union of its groups. */
static int
groups_source_all(const struct groups_source *s, struct hostlist *hl,
    int depth, char *err, size_t errlen)
{
	struct hostlist names;
	char *nodes = NULL, *raw, *joined, *t;
	size_t i;
	int r;

	if (s->yaml) {
		for (i = 0; i < s->ngroups; i++)
			if (strcmp(s->gname[i], "all") == 0)
				return groups_eval(s->gnodes[i], s->name, hl,
				    depth + 1, err, errlen);
	} else if (s->all != NULL) {
		if (groups_upcall(s, "all", NULL, &raw, err, errlen) != 0)
			return -1;
		nodes = groups_words_joined(raw);
		free(raw);
		r = groups_eval(nodes, s->name, hl, depth + 1, err, errlen);
		free(nodes);
		return r;
	}
	if ((r = groups_source_list(s, &nodes, err, errlen)) <= 0) {
		if (r == 0)
			log_errf(err, errlen, "group source %s has neither "
			    "an all nor a list upcall", s->name);
		return -1;
	}
	/*
	 * As ClusterShell: the groups' node sets in sorted group order,
	 * joined with ',' into one string that is then evaluated once (so an
	 * operator in one group's set applies to all that came before it).
	 */
	hostlist_init(&names);
	r = hostlist_add_expr(&names, nodes, err, errlen);
	free(nodes);
	if (r == 0)
		qsort(names.hosts, names.n, sizeof *names.hosts,
		    groups_host_cmp);
	joined = xstrdup("");
	for (i = 0; r == 0 && i < names.n; i++) {
		if ((r = groups_source_map(s, names.hosts[i].name, &nodes,
		    err, errlen)) <= 0)
			continue;
		xasprintf(&t, "%s%s%s", joined, *joined ? "," : "", nodes);
		free(joined);
		free(nodes);
		joined = t;
		r = 0;
	}
	if (r == 0)
		r = groups_eval(joined, s->name, hl, depth + 1, err, errlen);
	free(joined);
	hostlist_free(&names);
	return r;
}

/* ---- genders ------------------------------------------------------------ */

static genders_t
groups_genders(char *err, size_t errlen)
{
	const char *path = groups.genders != NULL ? groups.genders :
	    GENDERS_DEFAULT_FILE;

	if (groups.genders_tried)
		return groups.gh;
	groups.genders_tried = 1;
	if (*path == '\0')
		return NULL;
	if (access(path, F_OK) == -1 && groups.genders == NULL)
		return NULL;	/* no database: not a source */
	if ((groups.gh = genders_handle_create()) == NULL)
		fatalx("genders_handle_create failed");
	if (genders_load_data(groups.gh, path) < 0) {
		log_errf(err, errlen, "genders database %s: %s", path,
		    genders_errormsg(groups.gh));
		genders_handle_destroy(groups.gh);
		groups.gh = NULL;
		groups.genders_tried = 0;
		return NULL;
	}
	return groups.gh;
}

/*
 * Nodes matching a genders query (attr, attr=val, a&&b...), in database
 * order. 1 some, 0 none, -1 error.
 */
static int
groups_genders_query(const char *query, int all, struct hostlist *hl,
    char *err, size_t errlen)
{
	genders_t gh;
	char **nodes, **skip = NULL, *attr, *val;
	int len, n, nskip = 0, i, j, found = 0;

	err[0] = '\0';
	if ((gh = groups_genders(err, errlen)) == NULL)
		return err[0] != '\0' ? -1 : 0;
	if ((len = genders_nodelist_create(gh, &nodes)) < 0)
		return log_errf(err, errlen, "genders: %s",
		    genders_errormsg(gh));
	if (all) {
		n = genders_getnodes(gh, nodes, len, NULL, NULL);
		/* pdsh -a leaves out nodes with pdsh_all_skip. */
		if (n >= 0 && genders_nodelist_create(gh, &skip) >= 0)
			nskip = genders_getnodes(gh, skip, len,
			    "pdsh_all_skip", NULL);
	} else if (strpbrk(query, "&|~()") == NULL) {
		/* attr or attr=val: no query parser (it leaks, 1.22). */
		attr = xstrdup(query);
		if ((val = strchr(attr, '=')) != NULL)
			*val++ = '\0';
		n = genders_getnodes(gh, nodes, len, attr, val);
		free(attr);
	} else
		n = genders_query(gh, nodes, len, query);
	if (n < 0) {
		log_errf(err, errlen, "genders query \"%s\": %s", query,
		    genders_errormsg(gh));
		genders_nodelist_destroy(gh, nodes);
		return -1;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < nskip; j++)
			if (strcmp(skip[j], nodes[i]) == 0)
				break;
		if (j < nskip)
			continue;
		if (hostlist_add_expr(hl, nodes[i], err, errlen) != 0) {
			n = -1;
			break;
		}
		found = 1;
	}
	if (skip != NULL)
		genders_nodelist_destroy(gh, skip);
	genders_nodelist_destroy(gh, nodes);
	return n < 0 ? -1 : found;
}

/* ---- node sets ---------------------------------------------------------- */

static int
groups_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keep the hosts of hl whose name is (keep=1) or is not (keep=0) in o. */
static void
groups_filter(struct hostlist *hl, const struct hostlist *o, int keep)
{
	const char **names;
	size_t i, kept = 0;
	int in;

	names = xcalloc(o->n + 1, sizeof *names);
	for (i = 0; i < o->n; i++)
		names[i] = o->hosts[i].name;
	qsort(names, o->n, sizeof *names, groups_name_cmp);
	for (i = 0; i < hl->n; i++) {
		in = bsearch(&hl->hosts[i].name, names, o->n, sizeof *names,
		    groups_name_cmp) != NULL;
		if (in != keep) {
			hostlist_free_host(&hl->hosts[i]);
			continue;
		}
		hl->hosts[kept++] = hl->hosts[i];
	}
	hl->n = kept;
	free(names);
}

static void
groups_append(struct hostlist *dst, struct hostlist *src)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		if (dst->n == dst->cap) {
			dst->cap = dst->cap * 2 + 16;
			dst->hosts = xreallocarray(dst->hosts, dst->cap,
			    sizeof *dst->hosts);
		}
		dst->hosts[dst->n++] = src->hosts[i];
	}
	src->n = 0;
}

static void
groups_copy(struct hostlist *dst, const struct hostlist *src)
{
	struct host *h;
	size_t i;

	dst->hosts = xreallocarray(dst->hosts, dst->n + src->n + 1,
	    sizeof *dst->hosts);
	dst->cap = dst->n + src->n + 1;
	for (i = 0; i < src->n; i++) {
		h = &dst->hosts[dst->n++];
		h->name = xstrdup(src->hosts[i].name);
		h->user = src->hosts[i].user != NULL ?
		    xstrdup(src->hosts[i].user) : NULL;
		h->port = src->hosts[i].port;
		h->label = xstrdup(src->hosts[i].label);
	}
}

/* Apply operator op (',', '!', '&', '^') of acc with operand. */
static void
groups_apply(struct hostlist *acc, struct hostlist *operand, int op)
{
	struct hostlist left;

	switch (op) {
	case ',':
		groups_append(acc, operand);
		break;
	case '!':
		groups_filter(acc, operand, 0);
		break;
	case '&':
		groups_filter(acc, operand, 1);
		break;
	case '^':
		hostlist_init(&left);
		groups_copy(&left, acc);
		groups_filter(acc, operand, 0);
		groups_filter(operand, &left, 0);
		groups_append(acc, operand);
		hostlist_free(&left);
		break;
	}
	hostlist_uniq(acc);
}

/*
 * One "@..." operand inside source ns: "@g", "@src:g", "@*", "@src:*",
 * with ranges in the group name (@rack[1-3]).
 */
static int
groups_eval_group(const char *pat, const char *ns, struct hostlist *hl,
    int depth, char *err, size_t errlen)
{
	struct hostlist names;
	const struct groups_source *s;
	const char *colon;
	char *srcname, *nodes;
	size_t i;
	int r;

	if (depth > GROUPS_MAX_DEPTH)
		return log_errf(err, errlen, "group \"@%s\": groups nest "
		    "more than %d deep", pat, GROUPS_MAX_DEPTH);
	if ((colon = strchr(pat, ':')) != NULL) {
		srcname = xstrndup(pat, colon - pat);
		pat = colon + 1;
	} else
		srcname = xstrdup(ns != NULL ? ns : groups.default_src != NULL ?
		    groups.default_src : "");
	if ((s = groups_source_find(srcname)) == NULL) {
		log_errf(err, errlen, "group source \"%s\" not found "
		    "(in \"@%s%s%s\")", srcname, colon ? srcname : "",
		    colon ? ":" : "", pat);
		free(srcname);
		return -1;
	}
	free(srcname);
	if (strcmp(pat, "*") == 0)
		return groups_source_all(s, hl, depth, err, errlen);
	hostlist_init(&names);
	if (hostlist_add_expr(&names, pat, err, errlen) != 0) {
		hostlist_free(&names);
		return -1;
	}
	r = 0;
	for (i = 0; r == 0 && i < names.n; i++) {
		/* An unknown or empty group is no nodes, as for nodeset. */
		if ((r = groups_source_map(s, names.hosts[i].name, &nodes, err,
		    errlen)) <= 0)
			continue;
		r = groups_eval(nodes, s->name, hl, depth + 1, err, errlen);
		free(nodes);
	}
	hostlist_free(&names);
	return r;
}

/* Evaluate a ClusterShell node set string (source ns) into hl. */
static int
groups_eval(const char *str, const char *ns, struct hostlist *hl, int depth,
    char *err, size_t errlen)
{
	struct hostlist acc, operand;
	const char *p, *start;
	char *tok, *t;
	int op = ',', bracket = 0, r = 0, next;

	hostlist_init(&acc);
	for (start = p = str;; p++) {
		if (*p == '[')
			bracket++;
		else if (*p == ']' && bracket > 0)
			bracket--;
		if (*p != '\0' && (bracket > 0 || strchr(",!&^", *p) == NULL))
			continue;
		next = *p;
		tok = xstrndup(start, p - start);
		t = groups_trim(tok);
		hostlist_init(&operand);
		if (*t == '\0') {
			if (op != ',' || (next != '\0' && next != ',')) {
				r = log_errf(err, errlen, "node set \"%s\": "
				    "missing operand of '%c'", str,
				    op != ',' ? op : next);
			}
		} else if (*t == '@')
			r = groups_eval_group(t + 1, ns, &operand, depth, err,
			    errlen);
		else
			r = hostlist_add_expr(&operand, t, err, errlen);
		free(tok);
		if (r == 0)
			groups_apply(&acc, &operand, op);
		hostlist_free(&operand);
		if (r != 0 || next == '\0')
			break;
		op = next;
		start = p + 1;
	}
	if (r == 0)
		groups_append(hl, &acc);
	hostlist_free(&acc);
	return r;
}

/* ---- public ------------------------------------------------------------- */

static int
groups_load_ok(char *err, size_t errlen)
{
	groups_load();
	if (groups.load_err != NULL)
		return log_errf(err, errlen, "node groups: %s",
		    groups.load_err);
	return 0;
}

int
groups_resolve(const char *name, struct hostlist *hl, char *err,
    size_t errlen)
{
	struct hostlist found;
	int r;

	if (groups_load_ok(err, errlen) != 0)
		return -1;
	hostlist_init(&found);
	/* attr=val and genders queries are not ClusterShell group names. */
	if (groups.nsrc > 0 && strpbrk(name, "=&|~()") == NULL &&
	    (r = groups_eval_group(name,
	    groups.default_src, &found, 0, err, errlen)) != 0)
		goto out;
	if (found.n == 0 && strchr(name, ':') == NULL &&
	    (r = groups_genders_query(name, 0, &found, err, errlen)) < 0)
		goto out;
	if (found.n == 0) {
		r = log_errf(err, errlen, "unknown node group \"@%s\"%s",
		    name, groups.nsrc == 0 && groups.gh == NULL ?
		    " (no ClusterShell groups.conf or genders database "
		    "found)" : "");
		goto out;
	}
	groups_append(hl, &found);
	r = 0;
out:
	hostlist_free(&found);
	return r;
}

int
groups_add_list(struct hostlist *hl, const char *list, char *err,
    size_t errlen)
{
	char *copy, *name, *save;
	int r = 0;

	copy = xstrdup(list);
	for (name = strtok_r(copy, ",", &save); name != NULL && r == 0;
	    name = strtok_r(NULL, ",", &save)) {
		name = groups_trim(name);
		if (*name == '@')
			name++;
		if (*name == '\0')
			continue;
		r = groups_resolve(name, hl, err, errlen);
	}
	free(copy);
	return r;
}

int
groups_add_all(struct hostlist *hl, char *err, size_t errlen)
{
	const struct groups_source *s;
	int r;

	if (groups_load_ok(err, errlen) != 0)
		return -1;
	if (groups.default_src != NULL &&
	    (s = groups_source_find(groups.default_src)) != NULL)
		return groups_source_all(s, hl, 0, err, errlen);
	if ((r = groups_genders_query(NULL, 1, hl, err, errlen)) < 0)
		return -1;
	if (groups.gh == NULL)
		return log_errf(err, errlen, "-a: no ClusterShell "
		    "groups.conf or genders database found");
	return 0;
}

int
groups_print_names(FILE *fp, char *err, size_t errlen)
{
	struct hostlist names;
	genders_t gh;
	char **attrs, *list;
	size_t i;
	int n, len, r;

	if (groups_load_ok(err, errlen) != 0)
		return -1;
	for (i = 0; i < groups.nsrc; i++) {
		if ((r = groups_source_list(&groups.src[i], &list, err,
		    errlen)) < 0)
			return -1;
		if (r == 0)
			continue;
		hostlist_init(&names);
		r = hostlist_add_expr(&names, list, err, errlen);
		free(list);
		if (r != 0) {
			hostlist_free(&names);
			return -1;
		}
		for (r = 0; (size_t)r < names.n; r++) {
			if (strcmp(groups.src[i].name, groups.default_src) == 0)
				fprintf(fp, "%s\n", names.hosts[r].name);
			else
				fprintf(fp, "%s:%s\n", groups.src[i].name,
				    names.hosts[r].name);
		}
		hostlist_free(&names);
	}
	err[0] = '\0';
	if ((gh = groups_genders(err, errlen)) == NULL)
		return err[0] != '\0' ? -1 : 0;
	if ((len = genders_attrlist_create(gh, &attrs)) < 0)
		return log_errf(err, errlen, "genders: %s",
		    genders_errormsg(gh));
	n = genders_getattr_all(gh, attrs, len);
	for (r = 0; r < n; r++)
		fprintf(fp, "%s\n", attrs[r]);
	genders_attrlist_destroy(gh, attrs);
	return 0;
}

static int
groups_hostlist_resolver(const char *name, struct hostlist *hl, char *err,
    size_t errlen)
{
	return groups_resolve(name, hl, err, errlen);
}

void
groups_init(const char *groups_conf, const char *genders,
    double upcall_timeout)
{
	groups_free();
	groups.conf = groups_conf != NULL ? xstrdup(groups_conf) : NULL;
	groups.genders = genders != NULL ? xstrdup(genders) : NULL;
	groups.timeout = upcall_timeout;
	hostlist_set_group_resolver(groups_hostlist_resolver);
}

void
groups_free(void)
{
	struct groups_source *s;
	size_t i, j;

	for (i = 0; i < groups.nsrc; i++) {
		s = &groups.src[i];
		free(s->name);
		free(s->cfgdir);
		free(s->map);
		free(s->all);
		free(s->list);
		for (j = 0; j < s->ngroups; j++) {
			free(s->gname[j]);
			free(s->gnodes[j]);
		}
		free(s->gname);
		free(s->gnodes);
	}
	free(groups.src);
	groups_ini_free(groups.ini, groups.nini);
	free(groups.default_src);
	free(groups.load_err);
	free(groups.conf);
	free(groups.genders);
	if (groups.gh != NULL)
		genders_handle_destroy(groups.gh);
	memset(&groups, 0, sizeof groups);
	hostlist_set_group_resolver(NULL);
}
