-- property: quiescent-stale
-- what: at a quiescent point a CPU may still hold a translation the page tables no longer give
--
-- EV_ENV_STALE (type 13) in sim/event.h is emitted at each quiescent point
-- for every envelope record that is stale: sub = ENVK_* kind (1 view,
-- 2 psc, 3 alias), a = record id, b = pcid or 0xffffffff (ENV_GLOBAL),
-- c = va, d = size log2, e = STALE_* reason (1 differs, 2 not_table,
-- 3 alias). Every such event is a violation: all required invalidations
-- must be complete when the CPUs meet.
SELECT seq, cycle, cpu,
	printf('cpu %d: stale %s record #%d at a quiescent point: pcid %s, va 0x%x, size 2^%d, reason %s',
		cpu,
		CASE sub WHEN 1 THEN 'view' WHEN 2 THEN 'psc' WHEN 3 THEN 'alias'
			ELSE printf('kind-%d', sub) END,
		a,
		CASE WHEN b = 0xffffffff THEN 'global' ELSE printf('%d', b) END,
		c, d,
		CASE e WHEN 1 THEN 'differs' WHEN 2 THEN 'not_table'
			WHEN 3 THEN 'alias' ELSE printf('reason-%d', e) END)
		AS explanation
FROM events
WHERE type = 13
ORDER BY seq;
