/*
 * pdsh drop-in. Invoked as "pdsh", mrsh reads pdsh's options: -f N is the
 * fanout (mrsh's -j), -S asks for the largest remote exit status (without
 * it pdsh exits 0), -b (batch: one ctrl-C ends the run) is what mrsh does
 * anyway, -d is -v, PDSH_RCMD_TYPE is the default -R. Everything else that both
 * have (-w -x -g -X -a -l -t -u -N -R -V -h) is passed on unchanged; what
 * pdsh has and mrsh has not is refused as an unknown option.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/pdsh.h"
#include "mrsh/xmalloc.h"

/* pdsh 2.34's options that mrsh understands. */
static const char pdsh_opts[] = "+w:x:g:X:al:t:u:f:R:NSbVhd";

/* "-w", "-x"...: the mrsh words for pdsh's options with an argument. */
static char pdsh_flag[128][3];

int
pdsh_invoked(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	return strcmp(base != NULL ? base + 1 : argv0, "pdsh") == 0;
}

char **
pdsh_translate(int argc, char **argv, int *nargc, int *largest)
{
	const char *rcmd = getenv("PDSH_RCMD_TYPE");
	char **v;
	int n = 0, ch, have_r = 0;

	/* At most two mrsh words per pdsh word, plus -R TYPE and "--". */
	v = xcalloc(2 * argc + 4, sizeof *v);
	v[n++] = "mrsh";
	*largest = 0;
	opterr = 0;
	optind = 0;
	while ((ch = getopt(argc, argv, pdsh_opts)) != -1) {
		switch (ch) {
		case 'f':
			v[n++] = "-j";
			v[n++] = optarg;
			break;
		case 'S':
			*largest = 1;
			break;
		case 'b':
			break;
		case 'd':
			v[n++] = "-v";
			break;
		case 'R':
			have_r = 1;
			/* FALLTHROUGH */
		case 'w':
		case 'x':
		case 'g':
		case 'X':
		case 'l':
		case 't':
		case 'u':
			pdsh_flag[ch][0] = '-';
			pdsh_flag[ch][1] = (char)ch;
			v[n++] = pdsh_flag[ch];
			v[n++] = optarg;
			break;
		case 'a':
			v[n++] = "-a";
			break;
		case 'N':
			v[n++] = "-N";
			break;
		case 'V':
			v[n++] = "-V";
			break;
		case 'h':
			v[n++] = "-h";
			break;
		default:
			/* Let mrsh's parser say what is wrong with it. */
			v[n++] = argv[optind - 1];
			break;
		}
	}
	if (!have_r && rcmd != NULL && *rcmd != '\0') {
		v[n++] = "-R";
		v[n++] = (char *)rcmd;
	}
	v[n++] = "--";
	while (optind < argc)
		v[n++] = argv[optind++];
	v[n] = NULL;
	*nargc = n;
	optind = 0;
	return v;
}
