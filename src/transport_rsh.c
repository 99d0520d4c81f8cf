/* Placeholder: transport_rsh is being written; see include/mrsh/. */
#include "config.h"
