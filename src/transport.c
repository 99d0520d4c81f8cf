/*
 * Transport registry: -R NAME to the ops table.
 */
#include "config.h"

#include <string.h>

#include "mrsh/transport.h"

static const struct transport_ops *transports[] = {
	&transport_ssh,
	&transport_rsh,
	&transport_exec,
	NULL
};

const struct transport_ops *
transport_find(const char *name)
{
	int i;

	for (i = 0; transports[i] != NULL; i++) {
		if (strcmp(transports[i]->name, name) == 0)
			return transports[i];
	}
	return NULL;
}
