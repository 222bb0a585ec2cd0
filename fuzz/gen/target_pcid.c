/* placeholder, replaced below */
#include "fuzz/gen/target.h"
const struct fz_target fz_target_pcid = {.name = "pcid", .summary = "PV domains", .built = false};
