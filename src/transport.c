/* Placeholder: being written. */
#include "config.h"
