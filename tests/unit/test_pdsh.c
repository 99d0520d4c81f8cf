/*
 * Unit tests for the pdsh drop-in's option translation (pdsh.c): each pdsh
 * option becomes the mrsh words the manual page promises (-f N is -j N,
 * -d is -v, -S only sets the flag, -b vanishes, the shared ones pass as
 * they are, also bundled or with the argument attached), PDSH_RCMD_TYPE is
 * the default -R but never overrides one given, an option pdsh has and
 * mrsh has not reaches mrsh's parser unchanged (so that it says what is
 * wrong), and the command starts after an inserted "--".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/pdsh.h"
#include "tap.h"

/* pdsh_translate on a space-separated command line, joined with "|". */
static char *
xlate(const char *line, int *largest)
{
	static char	 out[1024];
	char		*copy, *argv[32], *w, **v;
	int		 argc = 0, nargc, i;

	copy = strdup(line);
	for (w = strtok(copy, " "); w != NULL && argc < 31;
	    w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	v = pdsh_translate(argc, argv, &nargc, largest);
	out[0] = '\0';
	for (i = 0; i < nargc; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s",
		    i > 0 ? "|" : "", v[i]);
	if (v[nargc] != NULL)
		snprintf(out + strlen(out), sizeof out - strlen(out),
		    "|(not NULL-terminated)");
	free(v);
	free(copy);
	return (out);
}

int
main(void)
{
	int	largest;

	ok(pdsh_invoked("pdsh"), "invoked as pdsh");
	ok(pdsh_invoked("/usr/local/bin/pdsh"), "invoked as .../pdsh");
	ok(!pdsh_invoked("/usr/bin/mrsh"), "mrsh is not pdsh");
	ok(!pdsh_invoked("/opt/pdsh/bin/pdshx"), "pdshx is not pdsh");

	unsetenv("PDSH_RCMD_TYPE");
	is_str(xlate("pdsh -w h[1-3] uname -r", &largest),
	    "mrsh|-w|h[1-3]|--|uname|-r", "-w passes; the command after --");
	is_int(largest, 0, "without -S: not the largest status");
	is_str(xlate("pdsh -f 4 -S -b -d -x h2 -l bob -t 5 -u 9 -N cmd",
	    &largest), "mrsh|-j|4|-v|-x|h2|-l|bob|-t|5|-u|9|-N|--|cmd",
	    "-f is -j, -d is -v, -S and -b leave no word");
	is_int(largest, 1, "-S: the largest status");
	is_str(xlate("pdsh -a -X web -g db -V", &largest),
	    "mrsh|-a|-X|web|-g|db|-V|--", "-a -X -g -V pass");
	is_str(xlate("pdsh -h", &largest), "mrsh|-h|--", "-h passes");
	is_str(xlate("pdsh -SNRexec -wh1 date", &largest),
	    "mrsh|-N|-R|exec|-w|h1|--|date",
	    "bundled flags, attached arguments");
	is_str(xlate("pdsh -z -w h1 true", &largest),
	    "mrsh|-z|-w|h1|--|true",
	    "an option mrsh's pdsh has not: left for mrsh's parser");
	is_str(xlate("pdsh -w h1 -- -x", &largest), "mrsh|-w|h1|--|-x",
	    "pdsh's own -- ends the options");

	setenv("PDSH_RCMD_TYPE", "exec", 1);
	is_str(xlate("pdsh -w h1 true", &largest),
	    "mrsh|-w|h1|-R|exec|--|true", "PDSH_RCMD_TYPE: the default -R");
	is_str(xlate("pdsh -R ssh -w h1 true", &largest),
	    "mrsh|-R|ssh|-w|h1|--|true", "-R wins over PDSH_RCMD_TYPE");
	setenv("PDSH_RCMD_TYPE", "", 1);
	is_str(xlate("pdsh -w h1 true", &largest), "mrsh|-w|h1|--|true",
	    "an empty PDSH_RCMD_TYPE is none");
	return (done_testing());
}
