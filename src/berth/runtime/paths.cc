#include "berth/runtime/paths.h"
