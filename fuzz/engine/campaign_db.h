/* The campaign summary in SQLite: DIR/campaign.db, one row per campaign
 * (appended, so several campaigns into one directory accumulate) with its
 * configuration and counts, its reached and never-reached states with the
 * first case index that reached each, and its failure. Written once at the
 * end, never per case. */
#ifndef HVSIM_FUZZ_ENGINE_CAMPAIGN_DB_H
#define HVSIM_FUZZ_ENGINE_CAMPAIGN_DB_H

#include "fuzz/engine/campaign.h"

/* 0, or -1 with r->err set. */
int fz_campaign_db_write(const struct fz_campaign_opts *o, struct fz_campaign_result *r);

#endif
