/*
 * Node groups: "@group" in host lists, -g/-X/-a. Two sources, in this order
 * of precedence: ClusterShell's group configuration (groups.conf, its
 * confdir *.conf sources, autodir *.yaml files, upcall commands) and a
 * genders database (through libgenders).
 */
#ifndef MRSH_GROUPS_H
#define MRSH_GROUPS_H

#include <stddef.h>
#include <stdio.h>

#include "mrsh/hostlist.h"

/* Default upcall timeout, seconds. */
#define GROUPS_UPCALL_TIMEOUT	10.0

/*
 * Where groups come from. groups_conf NULL: ClusterShell's own search path
 * (/etc/clustershell/groups.conf, ~/.local/etc/clustershell, $XDG_CONFIG_HOME
 * /clustershell, $CLUSTERSHELL_CFGDIR); "" disables ClusterShell groups.
 * genders NULL: /etc/genders; "" disables genders. Call before any lookup;
 * also installs the hostlist "@group" resolver.
 */
void	groups_init(const char *groups_conf, const char *genders,
	    double upcall_timeout);
void	groups_free(void);

/* Append the hosts of group NAME (no '@'); -1 with a message in err. */
int	groups_resolve(const char *name, struct hostlist *, char *err,
	    size_t errlen);
/* -g LIST: comma separated groups (genders: attr, attr=val, queries). */
int	groups_add_list(struct hostlist *, const char *list, char *err,
	    size_t errlen);
/* -a: every node (ClusterShell's "all", else every genders node). */
int	groups_add_all(struct hostlist *, char *err, size_t errlen);
/* Print the known group names, one a line (for completion). */
int	groups_print_names(FILE *, char *err, size_t errlen);

#endif
