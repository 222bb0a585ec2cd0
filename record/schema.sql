-- hvsim recording schema, version 1 (PRAGMA user_version).
--
-- The build embeds this file into the binary (recorder_schema_sql()).
--
-- Every u64 of struct event (sim/event.h) is stored bit-cast to a signed
-- 64-bit integer: 0xffffffffffffffff reads back as -1. Use printf('%x', v)
-- or (v & 0xffffffff) in queries; C readers cast sqlite3_column_int64()
-- back to uint64_t.

-- One row per database. status is 'running' from the moment the file is
-- created; recorder_close() replaces it (with exit_code, events, digest and
-- cycles) in the same transaction as the last events. A closed file that
-- still says 'running' belongs to a run that ended early.
CREATE TABLE runs (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	scenario TEXT,
	path TEXT,
	seed INTEGER,
	profile TEXT,
	config TEXT,
	hvsim_version TEXT,
	ncpus INTEGER,
	status TEXT NOT NULL,
	exit_code INTEGER,
	events INTEGER,
	digest TEXT,
	cycles INTEGER
);

-- Interned strings of the bus (bus_intern): events.caller is an id here.
CREATE TABLE strings (id INTEGER PRIMARY KEY, s TEXT NOT NULL);

-- Names of enum ev_type and of the INSTR_* constants (sim/event.h),
-- written from ev_type_name() and instr_name() so they cannot drift.
CREATE TABLE event_types (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE instr_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- Every event, in bus order; a..f are typed per event type (table in
-- sim/event.h, views below). seq is the rowid. No NOT NULL constraints
-- and no secondary index: the recorder writes every column of every row,
-- and recording speed comes first (each constraint is a check per column
-- per row). Index what you query often yourself, on a copy.
CREATE TABLE events (
	seq INTEGER PRIMARY KEY,
	cycle INTEGER,
	cpu INTEGER,
	type INTEGER,
	sub INTEGER,
	a INTEGER,
	b INTEGER,
	c INTEGER,
	d INTEGER,
	e INTEGER,
	f INTEGER,
	caller INTEGER
);

-- One view per event type, columns named after the payload table in
-- sim/event.h. Enumerations are shown as text; flag words stay integers.

CREATE VIEW accesses AS
SELECT e.seq, e.cycle, e.cpu, e.sub AS acc, e.a AS va, e.b AS pa,
	e.c AS pcid,
	CASE e.d WHEN 0 THEN 'l1' WHEN 1 THEN 'l2' WHEN 2 THEN 'walk'
		WHEN 3 THEN 'fault' ELSE e.d END AS path,
	e.e AS accf, e.f AS cycles, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 1;

CREATE VIEW fills AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 1 THEN 'l1d' WHEN 2 THEN 'l1i' WHEN 3 THEN 'l2'
		WHEN 4 THEN 'psc_pml4e' WHEN 5 THEN 'psc_pdpte'
		WHEN 6 THEN 'psc_pde' ELSE e.sub END AS structure,
	e.a AS va, e.b AS pa, e.c AS pcid, e.d AS size_log2, e.e AS global,
	e.f AS level, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 2;

CREATE VIEW evictions AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 1 THEN 'l1d' WHEN 2 THEN 'l1i' WHEN 3 THEN 'l2'
		WHEN 4 THEN 'psc_pml4e' WHEN 5 THEN 'psc_pdpte'
		WHEN 6 THEN 'psc_pde' ELSE e.sub END AS structure,
	e.a AS va, e.b AS pa, e.c AS pcid, e.d AS size_log2, e.e AS global,
	e.f AS level, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 3;

CREATE VIEW walks AS
SELECT e.seq, e.cycle, e.cpu, e.sub AS result, e.a AS va, e.b AS pa,
	e.c AS pcid, e.d AS levels, e.e AS pfec, e.f AS cycles,
	s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 4;

CREATE VIEW faults AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 6 THEN 'ud' WHEN 13 THEN 'gp' WHEN 14 THEN 'pf'
		ELSE e.sub END AS vector,
	e.a AS va, e.b AS error_code, i.name AS instr, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
	LEFT JOIN instr_names i ON i.id = e.c
WHERE e.type = 5;

CREATE VIEW flushes AS
SELECT e.seq, e.cycle, e.cpu, i.name AS instr, e.a AS va, e.b AS pcid,
	e.c AS removed_tlb, e.d AS removed_env, e.e AS stale_removed,
	CASE e.f & 255 WHEN 0 THEN 'none' WHEN 1 THEN 'page'
		WHEN 2 THEN 'pcid' WHEN 3 THEN 'all_nonglobal'
		WHEN 4 THEN 'all' ELSE e.f & 255 END AS scope,
	(e.f >> 8) & 1 AS necessary, (e.f >> 9) & 1 AS globals, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
	LEFT JOIN instr_names i ON i.id = e.sub
WHERE e.type = 6;

CREATE VIEW pte_writes AS
SELECT e.seq, e.cycle, e.cpu, e.sub AS level, e.a AS entry_pa,
	e.b AS old_value, e.c AS new_value, NULLIF(e.d, -1) AS va,
	e.e AS ptew, e.e & 1 AS hw_ad, (e.e >> 1) & 1 AS translation,
	e.f AS table_pa, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 7;

CREATE VIEW cr_writes AS
SELECT e.seq, e.cycle, e.cpu, e.sub AS reg, e.a AS old_value,
	e.b AS new_value, e.c AS faulted, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 8;

CREATE VIEW ipis AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 0 THEN 'send' WHEN 1 THEN 'deliver'
		ELSE e.sub END AS kind,
	e.a AS from_cpu, e.b AS to_cpu, e.c AS id, e.d AS latency,
	s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 9;

CREATE VIEW quiesces AS
SELECT e.seq, e.cycle, e.cpu, e.a AS point, e.b AS stale_found,
	s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 10;

CREATE VIEW env_adds AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 1 THEN 'view' WHEN 2 THEN 'psc' WHEN 3 THEN 'alias'
		ELSE e.sub END AS kind,
	e.a AS record, NULLIF(e.b, 4294967295) AS pcid,
	e.b = 4294967295 AS global, e.c AS va, e.d AS size_log2,
	e.e >> 8 AS level,
	CASE WHEN e.sub = 2 THEN NULL ELSE e.f END AS old_entry,
	CASE WHEN e.sub = 2 THEN e.f END AS table_pa, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 11;

CREATE VIEW env_drops AS
SELECT e.seq, e.cycle, e.cpu, i.name AS dropper, e.a AS record,
	e.b AS flush_seq, e.c AS was_stale, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
	LEFT JOIN instr_names i ON i.id = e.sub
WHERE e.type = 12;

CREATE VIEW env_stale AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 1 THEN 'view' WHEN 2 THEN 'psc' WHEN 3 THEN 'alias'
		ELSE e.sub END AS kind,
	e.a AS record, NULLIF(e.b, 4294967295) AS pcid,
	e.b = 4294967295 AS global, e.c AS va, e.d AS size_log2,
	CASE e.e WHEN 1 THEN 'differs' WHEN 2 THEN 'not_table'
		WHEN 3 THEN 'alias' ELSE e.e END AS reason,
	e.f AS old_value, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 13;

CREATE VIEW tables AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 0 THEN 'alloc' WHEN 1 THEN 'free'
		ELSE e.sub END AS op,
	e.a AS frame, e.b AS level, e.c AS live_links, e.d AS env_refs,
	s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 14;

CREATE VIEW cache_flushes AS
SELECT e.seq, e.cycle, e.cpu, i.name AS instr, e.a AS pa, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
	LEFT JOIN instr_names i ON i.id = e.sub
WHERE e.type = 15;

CREATE VIEW expects AS
SELECT e.seq, e.cycle, e.cpu, e.sub = 0 AS passed, e.a AS expectation,
	e.b AS actual, e.c AS expected, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 16;

CREATE VIEW notes AS
SELECT e.seq, e.cycle, e.cpu, e.a AS arg, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 17;

-- EV_CHECK: what a check after a hypervisor operation found wrong
-- (sim/event.h CHECK_*).
CREATE VIEW checks AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 1 THEN 'mapping' WHEN 2 THEN 'tlb' WHEN 3 THEN 'pt_leak'
		WHEN 4 THEN 'pt_double_free' WHEN 5 THEN 'cache' WHEN 6 THEN 'xpti'
		ELSE e.sub END AS kind,
	e.a AS va, e.b AS expected, e.c AS actual, e.d AS op, e.e AS checked_cpu,
	e.f AS count, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 18;

-- EV_HV_OP: what one hypervisor operation did (sim/event.h).
CREATE VIEW hv_ops AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 20 THEN 'map' WHEN 21 THEN 'modify' WHEN 22 THEN 'destroy' ELSE e.sub END AS op,
	e.a AS va, e.b AS pages, e.c AS map_steps, e.d >> 32 AS shatters,
	e.d & 4294967295 AS merges, e.e >> 32 AS tables_allocated,
	e.e & 4294967295 AS tables_freed, e.f AS flush_calls, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 19;

-- EV_DMA: one translated piece (at most a page) of a DMA (sim/iommu/dma.h).
CREATE VIEW dma AS
SELECT e.seq, e.cycle,
	CASE e.sub WHEN 1 THEN 'read' WHEN 2 THEN 'write' ELSE e.sub END AS dir,
	e.a AS iova, e.b AS pa, e.c >> 16 AS sid, e.c & 65535 AS did,
	CASE e.d & 255 WHEN 0 THEN 'hit' WHEN 1 THEN 'walk' WHEN 2 THEN 'pass'
		WHEN 3 THEN 'context' WHEN 4 THEN 'np_hit' ELSE e.d & 255 END AS path,
	(e.d >> 8) & 255 AS fault, (e.d >> 16) & 1 AS stale, (e.d >> 17) & 1 AS env_stale,
	e.e >> 32 AS device, e.e & 4294967295 AS len, e.f >> 32 AS unit
FROM events e WHERE e.type = 20;

-- EV_IOTLB_FILL: an IOMMU cached a translation (np = a not-present one).
CREATE VIEW iotlb_fills AS
SELECT e.seq, e.cycle, e.sub AS np, e.a AS iova, e.b AS pa, e.c AS did,
	e.d AS size_log2, e.e AS perm, e.f AS unit
FROM events e WHERE e.type = 21;

-- EV_IOMMU_INV: an invalidation (or wait) the IOMMU carried out.
CREATE VIEW iommu_invs AS
SELECT e.seq, e.cycle,
	CASE e.sub WHEN 1 THEN 'iotlb_all' WHEN 2 THEN 'iotlb_domain' WHEN 3 THEN 'iotlb_range'
		WHEN 4 THEN 'devc_all' WHEN 5 THEN 'devc_domain' WHEN 6 THEN 'devc_device'
		WHEN 7 THEN 'wait' ELSE e.sub END AS kind,
	e.a AS did, e.b AS base, e.c AS size_log2, e.d AS removed, e.e AS removed_envelope,
	e.f >> 32 AS unit, e.f & 4294967295 AS command, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 22;

-- EV_IO_OP: one hypervisor IOMMU operation, when it returned.
CREATE VIEW io_ops AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 1 THEN 'domain' WHEN 2 THEN 'assign' WHEN 3 THEN 'map'
		WHEN 4 THEN 'unmap' WHEN 5 THEN 'hwdom_init' WHEN 6 THEN 'flush' ELSE e.sub END AS op,
	e.a AS dfn, e.b AS mfn, e.c AS pages, e.d AS domain,
	CASE e.e & 255 WHEN 0 THEN 'none' WHEN 1 THEN 'added' ELSE 'modified' END AS flush_type,
	(e.e >> 8) & 8388607 AS invalidations, (e.e >> 31) & 1 AS elide, e.f AS rc
FROM events e WHERE e.type = 23;

-- EV_IO_OWN: frames given to (0) or taken from (1) an I/O domain.
CREATE VIEW io_owners AS
SELECT e.seq, e.sub AS taken, e.a AS domain, e.b AS pa, e.c AS pages
FROM events e WHERE e.type = 24;
-- Time (seed 002, sim/event.h EV_TIME_*, EV_TSC). The type numbers live
-- only here; the time properties (checks/time_*.sql) read these views.
-- agent: a guest vCPU number, or 65536 + cpu for the hypervisor on a CPU.
CREATE VIEW time_reads AS
SELECT e.seq, e.cycle, e.cpu, CASE e.sub WHEN 0 THEN 'hv' ELSE 'guest' END AS reader,
	e.a AS agent, e.b AS value, e.c AS version, e.d AS retries,
	e.e & 1 AS torn, (e.e >> 1) & 1 AS clamped, e.f AS tsc, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 25;

CREATE VIEW time_updates AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 0 THEN 'global' WHEN 1 THEN 'cpu' ELSE 'vcpu' END AS record,
	e.a AS id, e.b AS stime, e.c AS tsc_stamp, e.d AS version,
	e.e AS wc_sec, e.f AS wc_usec, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 26;

CREATE VIEW time_msgs AS
SELECT e.seq, e.cycle, e.cpu, CASE e.sub WHEN 0 THEN 'send' ELSE 'recv' END AS dir,
	e.a AS msg, e.b AS from_agent, e.c AS to_agent, e.d AS stamp, e.e AS other_cpu,
	s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 27;

CREATE VIEW tsc_events AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 1 THEN 'write' WHEN 2 THEN 'adjust' WHEN 3 THEN 'cstate'
		WHEN 4 THEN 'freq' ELSE e.sub END AS kind,
	e.a AS before, e.b AS after, e.c AS arg, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 28;
-- EV_RING: one operation of a vm_event ring (seed 004, sim/event.h
-- RING_*). ring = domain << 8 | kind; vcpu = domain << 8 | id, NULL for
-- nobody (a foreign producer, the helper, the ring itself). free,
-- target_claims and foreign_claims: the ring's free slots and claims after
-- the operation (vcpu_end rows: pause count, pause flags, wait queue or -1).
CREATE VIEW ring_ops AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 1 THEN 'enable' WHEN 2 THEN 'disable' WHEN 3 THEN 'disable_busy'
		WHEN 4 THEN 'claim' WHEN 5 THEN 'claim_full' WHEN 6 THEN 'claim_noring'
		WHEN 7 THEN 'release' WHEN 8 THEN 'put' WHEN 9 THEN 'put_fail'
		WHEN 10 THEN 'put_sleep' WHEN 11 THEN 'get' WHEN 12 THEN 'wake_requesters'
		WHEN 13 THEN 'wake_waiters' WHEN 14 THEN 'mark_sleep' WHEN 15 THEN 'pause_full'
		WHEN 16 THEN 'pause' WHEN 17 THEN 'unpause' WHEN 18 THEN 'notify'
		WHEN 19 THEN 'woken' WHEN 20 THEN 'room' WHEN 21 THEN 'consume'
		WHEN 22 THEN 'respond' WHEN 23 THEN 'helper_stall' WHEN 24 THEN 'give_up'
		WHEN 25 THEN 'vcpu_end' WHEN 26 THEN 'ring_end' ELSE e.sub END AS op,
	e.a AS ring, e.a >> 8 AS domain,
	CASE e.a & 255 WHEN 0 THEN 'paging' WHEN 1 THEN 'access' WHEN 2 THEN 'sharing'
		ELSE printf('kind-%d', e.a & 255) END AS ring_name,
	CASE WHEN e.b = -1 THEN NULL ELSE e.b END AS vcpu,
	e.c AS free, e.d AS target_claims, e.e AS foreign_claims, e.f AS arg, s.s AS caller
FROM events e LEFT JOIN strings s ON s.id = e.caller
WHERE e.type = 29;

-- EV_RING_STALL: who waited on which ring, from when to when. room_since:
-- from when it had what it waited for (NULL: never); wake_bound: the
-- ring-lost-wakeup bound (sim/event.h RING_WAKE_BOUND).
CREATE VIEW ring_stalls AS
SELECT e.seq, e.cycle, e.cpu,
	CASE e.sub WHEN 1 THEN 'waitq' WHEN 2 THEN 'paused_full' WHEN 3 THEN 'no_listener'
		WHEN 4 THEN 'foreign' ELSE e.sub END AS kind,
	e.a AS ring, e.a >> 8 AS domain,
	CASE e.a & 255 WHEN 0 THEN 'paging' WHEN 1 THEN 'access' WHEN 2 THEN 'sharing'
		ELSE printf('kind-%d', e.a & 255) END AS ring_name,
	CASE WHEN e.b = -1 THEN NULL ELSE e.b END AS vcpu,
	e.c AS from_cycle, e.d AS to_cycle, e.d - e.c AS cycles,
	CASE WHEN e.e = -1 THEN NULL ELSE e.e END AS room_since,
	e.f AS unfinished, 10000 AS wake_bound
FROM events e
WHERE e.type = 30;
