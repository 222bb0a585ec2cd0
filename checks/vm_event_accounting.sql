-- property: ring-accounting
-- what: a vm_event ring's claims went negative, it overflowed, a claimed slot could not be used, a foreign claim left the guest no slot, or a pause count went negative
--
-- Seed 004: every put and release matches a claim of its kind (target
-- or foreign), a put never finds the ring full once its slot was claimed
-- ("a request from foreign domain has to succeed once a slot was
-- claimed"), a foreign claim keeps room for at least one guest request
-- (v5), and every vcpu_unpause matches a vcpu_pause. Read from the
-- ring_ops view (EV_RING).
SELECT seq, cycle, cpu,
	printf('ring d%d %s: ', domain, ring_name) ||
	CASE
	WHEN op = 'put_fail' THEN printf('a %s producer''s claimed slot could not be used (the request was lost)',
		CASE arg WHEN 1 THEN 'target' ELSE 'foreign' END)
	WHEN op = 'put' AND free < 0 THEN printf('%d request(s) more than the ring holds after a put', -free)
	WHEN op = 'claim' AND arg = 0 AND free - target_claims - foreign_claims < 1 THEN
		printf('a foreign claim left no slot for the target guest (%d free, %d target and %d foreign claims)',
		       free, target_claims, foreign_claims)
	WHEN op = 'unpause' AND arg < 0 THEN printf('vcpu d%d.%d unpaused more often than paused (pause count %d)',
		vcpu >> 8, vcpu & 255, arg)
	ELSE printf('claims went negative at %s (target %d, foreign %d)', op, target_claims, foreign_claims)
	END AS explanation
FROM ring_ops
WHERE op <> 'vcpu_end' AND (op = 'put_fail' OR (op = 'put' AND free < 0)
	OR (op = 'claim' AND arg = 0 AND free - target_claims - foreign_claims < 1)
	OR (op = 'unpause' AND arg < 0) OR target_claims < 0 OR foreign_claims < 0)
ORDER BY seq;
