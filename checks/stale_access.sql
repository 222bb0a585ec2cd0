-- property: stale-access
-- what: an access used a stale translation from the TLB, or the envelope allowed it to
--
-- EV_ACCESS (type 1) in sim/event.h: a = va, c = pcid, e = ACCF_* bits.
-- ACCF_STALE (1): the concrete TLB served a translation that differs from
-- the current page tables. ACCF_MAY_STALE (2): the envelope of what the
-- hardware may cache allowed such a translation. Either is a missing
-- invalidation. record/checker.c implements the same property in C.
SELECT seq, cycle, cpu,
	printf('cpu %d: access to va 0x%x (pcid %d) %s', cpu, a, c,
		CASE e & 3
		WHEN 1 THEN 'used a stale translation cached in the TLB'
		WHEN 2 THEN 'was allowed by the envelope to use a stale translation'
		ELSE 'used a stale translation cached in the TLB (the envelope allowed one too)'
		END) AS explanation
FROM events
WHERE type = 1 AND (e & 3) != 0
ORDER BY seq;
