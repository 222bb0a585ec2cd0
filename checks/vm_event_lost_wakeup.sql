-- property: ring-lost-wakeup
-- what: a vCPU stayed asleep on a ring longer than the wake bound after it had room (or a listener), or was still asleep at the end
--
-- Seed 004: the resume that frees slots wakes as many requesters as
-- there are free slots (mem_event_wake_requesters), and enabling the
-- ring or an access response wakes the vCPUs that slept for want of a
-- listener (mem_event_wake_waiters). ring_stalls.room_since is when the
-- sleeper first had what it waits for; wake_bound is RING_WAKE_BOUND.
SELECT seq, cycle, cpu,
	printf('vcpu d%d.%d asleep on ring d%d %s (%s) from cycle %d had room from cycle %d and %s',
	       vcpu >> 8, vcpu & 255, domain, ring_name, kind, from_cycle, room_since,
	       CASE WHEN unfinished <> 0 THEN 'was still asleep at the end'
	       ELSE printf('was woken %d cycles later', to_cycle - room_since) END) AS explanation
FROM ring_stalls
WHERE room_since IS NOT NULL AND (unfinished <> 0 OR to_cycle - room_since > wake_bound)
ORDER BY seq;
