/* Placeholder: netconn is being written; see include/mrsh/. */
#include "config.h"
