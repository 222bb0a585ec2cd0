-- property: pt-accounting
-- what: a page-table page leaked (counted live but unreachable) or freed twice
--
-- After every hypervisor operation the runner compares the page-table
-- pages the hypervisor's allocator counts as live with the tables
-- reachable from its root; a free of a frame that is not allocated is
-- reported when it happens. EV_CHECK kinds pt_leak (3), pt_double_free (4).
SELECT seq, cycle, cpu,
	CASE sub
	WHEN 3 THEN printf('after op %d: the hypervisor counts %d live page-table pages, %d are reachable from its root', d, b, c)
	ELSE printf('frame 0x%x freed but not allocated (double free)', a)
	END AS explanation
FROM events WHERE type = 18 AND sub IN (3, 4) ORDER BY seq;
