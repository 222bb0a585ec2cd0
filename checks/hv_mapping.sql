-- property: hv-mapping
-- what: after a hypervisor operation an address translates (page tables or a CPU's TLB) to other than the requested frame and flags
--
-- The runner keeps a reference map of what the hypervisor was asked to
-- map and, after every hv_map/hv_modify/hv_destroy, compares the range
-- with the hypervisor's page tables and with every CPU's concrete TLB
-- (the envelope is checked by quiescent-stale). Each difference is an
-- EV_CHECK event of kind mapping (1) or tlb (2).
SELECT seq, cycle, cpu,
	CASE sub
	WHEN 1 THEN printf('after op %d: va 0x%x translates to %s in the page tables, requested %s',
		d, a, CASE WHEN c = -1 THEN 'nothing' ELSE printf('pa 0x%x', c) END,
		CASE WHEN b = -1 THEN 'nothing' ELSE printf('pa 0x%x', b) END)
	ELSE printf('after op %d: cpu %d still caches va 0x%x -> pa 0x%x, requested %s',
		d, e, a, c, CASE WHEN b = -1 THEN 'nothing' ELSE printf('pa 0x%x', b) END)
	END AS explanation
FROM events WHERE type = 18 AND sub IN (1, 2) ORDER BY seq;
