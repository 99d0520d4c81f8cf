/* Placeholder: transport_ssh is being written; see include/mrsh/. */
#include "config.h"
