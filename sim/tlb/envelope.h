/* The envelope: per CPU, everything the architecture allows that CPU to
 * hold in its TLB and paging-structure caches right now, touched or not
 * (SDM Vol. 3A §4.10.2.3: translations may be cached speculatively; they
 * stay until an invalidation covers them).
 *
 * It is kept as what CHANGED since the last invalidation that covered it,
 * never as an enumeration of translations, so a terabyte direct map on 256
 * CPUs costs nothing until someone modifies it:
 *
 *  - slots: per PCID, the roots (CR3 tables) loaded under it since its last
 *    full invalidation; the global slot: roots loaded while CR4.PGE=1
 *    since the last flush of global entries. A translation from any of
 *    these trees may be cached under that PCID (or globally).
 *  - records: when a present paging-structure entry that a slot's root
 *    reaches is modified, each affected (CPU, PCID) gets
 *      VIEW  the old leaf, or the old subtree's leaves (a snapshot), that
 *            may still be cached for the entry's linear range;
 *      PSC   when the old entry referenced a table: a paging-structure-
 *            cache entry may still point at that table (walks through it
 *            read its CURRENT content, as hardware would).
 *    Invalidations drop records (INVLPG carves single pages out of a
 *    subtree VIEW, SDM §4.10.4.1); flushes of a whole PCID drop them all.
 *  - aliasing: two roots in one slot mean one tree's translations may be
 *    used while the other is loaded (a PCID reused without a flush).
 *
 * Correctness properties are checked against the envelope, so a missing
 * flush is found whether or not the scenario touched the address.
 */
#ifndef HVSIM_SIM_TLB_ENVELOPE_H
#define HVSIM_SIM_TLB_ENVELOPE_H

#include <stdbool.h>
#include <stdint.h>

#define ENV_MAX_ROOTS 32
#define ENV_SNAP_MAX_LEAVES 65536
#define ENV_MAX_RECORDS (1u << 22)

struct machine;

struct env_root {
	uint64_t pfn;
	uint8_t pge0; /* loaded at some point while CR4.PGE=0 */
	uint8_t pad[7];
};

struct env_slot {
	uint32_t pcid;
	uint32_t nroots;
	bool overflowed;
	struct env_root roots[ENV_MAX_ROOTS];
};

/* Leaves of a subtree as it was when it was unlinked; shared by the
 * records of every CPU that may cache it. */
struct env_leaf {
	uint64_t va;
	uint64_t entry;
	uint8_t level;
	uint8_t perm_above;
	uint8_t pad[6];
};

struct env_snap {
	uint32_t refs;
	uint32_t n;
	bool truncated; /* more than ENV_SNAP_MAX_LEAVES: treated as stale
	                   until a covering flush drops the whole record */
	bool has_global;
	struct env_leaf *leaves; /* sorted by va */
};

struct env_rec {
	uint64_t id;
	uint64_t seq;       /* seq of the paging-structure write */
	uint64_t va;        /* base of the changed entry's range (canonical) */
	uint64_t root_pfn;  /* root through which va was computed */
	uint64_t old;       /* the entry before the write */
	uint64_t table_pfn; /* PSC, or VIEW of a subtree: the old child table */
	struct env_snap *snap; /* VIEW of a subtree */
	uint64_t *carved;   /* bitmap over snap leaves invalidated singly */
	uint32_t ncarved;
	uint32_t pcid;      /* or ENV_GLOBAL (sim/event.h) */
	uint8_t kind;       /* ENVK_VIEW / ENVK_PSC */
	uint8_t level;      /* level of the changed entry */
	uint8_t perm_above;
	uint8_t pad;
};

struct env_cpu {
	struct env_slot *slots; /* sorted by pcid */
	uint32_t nslots, capslots;
	uint32_t nmulti;        /* slots (incl. gslot) holding two roots or more */
	struct env_slot gslot;  /* roots that may have left global entries */
	struct env_rec *recs;   /* in creation order */
	uint32_t nrecs, caprecs;
};

/* Records dropped by one invalidation, reported by inval.c as
 * EV_ENV_DROP events ahead of the EV_FLUSH that caused them. */
struct env_drop {
	uint64_t id;
	uint8_t cls; /* ENV_BENIGN / ENV_STALE / ENV_NEEDED */
	uint8_t pad[7];
};

struct env_global {
	uint64_t next_id;
	uint64_t live_records;
	struct env_drop *drops; /* scratch for the invalidation in progress */
	uint32_t ndrops, capdrops;
};

/* Drop classification (EV_ENV_DROP.c). */
enum { ENV_BENIGN = 0, ENV_STALE = 1, ENV_NEEDED = 2 };

void env_cpu_init(struct env_cpu *e);
void env_cpu_fini(struct env_cpu *e);

/* True if anything could make a cached translation of this CPU differ
 * from the tables: the fast path skips staleness checks otherwise. */
static inline bool env_dirty(const struct env_cpu *e)
{
	return e->nrecs != 0 || e->nmulti != 0;
}

/* Roots ------------------------------------------------------------------ */
/* CR3 now holds root_pfn under pcid; pge: CR4.PGE now. */
void env_load_root(struct machine *m, unsigned cpu, uint32_t pcid, uint64_t root_pfn,
                   bool pge);
/* The same from the CPU's current CR3 and CR4: after any CR3/CR4 change
 * and after every invalidation (which may have emptied the current slot),
 * because the CPU may at once cache translations of its current root. */
void env_sync_current(struct machine *m, unsigned cpu);

/* Paging-structure writes ------------------------------------------------- */
/* The entry `index` of table table_pfn (level) changed from old to nw at
 * event seq. Creates the records every CPU needs. */
void env_note_write(struct machine *m, uint64_t table_pfn, unsigned index,
                    unsigned level, uint64_t old, uint64_t nw, uint64_t seq);

/* Invalidations (called only from inval.c) -------------------------------- */
/* Each appends what it dropped to m->envg.drops (cleared by the caller)
 * and counts: removed = records dropped or single leaves carved out,
 * stale / needed = how many of those were ENV_STALE / ENV_NEEDED. */
struct env_inv_result {
	uint32_t removed;
	uint32_t stale;
	uint32_t needed;
};
void env_global_fini(struct env_global *g);

/* One page for pcid (and globals), plus every PSC record of pcid. */
void env_inv_page(struct machine *m, unsigned cpu, uint32_t pcid, uint64_t va,
                  bool globals, struct env_inv_result *r);
/* All non-global records and the slot of pcid. */
void env_inv_pcid(struct machine *m, unsigned cpu, uint32_t pcid,
                  struct env_inv_result *r);
/* All PCIDs; globals too if `globals`. */
void env_inv_all(struct machine *m, unsigned cpu, bool globals,
                 struct env_inv_result *r);

/* Checks ------------------------------------------------------------------ */
/* Could this CPU, translating va now under pcid with root root_pfn, be
 * served a translation that differs from cur (the current tables)? */
bool env_may_stale(struct machine *m, unsigned cpu, uint32_t pcid, uint64_t root_pfn,
                   uint64_t va, const void *cur_xlate);

/* At a quiescent point: emits EV_ENV_STALE for every stale record and
 * aliased slot of cpu; returns how many. */
uint32_t env_quiesce(struct machine *m, unsigned cpu);

/* Number of records on any CPU that reference table pfn (PSC records and
 * subtree VIEWs), for the table-free report. */
uint32_t env_table_refs(struct machine *m, uint64_t pfn);

#endif
