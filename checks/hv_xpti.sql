-- property: xpti-isolation
-- what: while a guest subject to XPTI runs, a hypervisor-private address is translatable from its address space
--
-- Seed 003: under XPTI the guest runs on a per-CPU restricted root that
-- maps only its own slots and the entry stub. After every entry into such
-- a guest the runner probes one mapped address of each hypervisor slot
-- through the root the CPU runs on, every root its PCID may still hold
-- translations of, and every root whose global entries it may still hold
-- (the envelope). EV_CHECK kind xpti (6).
SELECT seq, cycle, cpu,
	printf('cpu %d runs a guest under XPTI, and hypervisor address 0x%x is translatable through root 0x%x (%s)',
		e, a, b, CASE WHEN c = 4294967295 THEN 'global entries' ELSE printf('pcid %d', c) END) AS explanation
FROM events WHERE type = 18 AND sub = 6 ORDER BY seq;
