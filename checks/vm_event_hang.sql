-- property: ring-hang
-- what: at the end of the run a vCPU is still paused, asleep with a ring's flag, or on a ring's wait queue
--
-- Seed 004 v2: "move vcpu_pause after put_request, otherwise the vcpu
-- will not wake_up after a wait_event because the pause_count was
-- increased twice. Fixes guest hangs." Pause counts must balance and
-- every vCPU that used a ring must be free to run when the run ends
-- (ring_ops vcpu_end rows: free = pause count, target_claims = pause
-- flags, foreign_claims = the wait queue's ring kind or -1).
SELECT seq, cycle, cpu,
	printf('vcpu d%d.%d at the end of the run: pause count %d, pause flags 0x%x, %s',
	       vcpu >> 8, vcpu & 255, free, target_claims,
	       CASE foreign_claims WHEN -1 THEN 'on no wait queue'
	       ELSE printf('asleep on the %s ring''s wait queue',
	                   CASE foreign_claims WHEN 0 THEN 'paging' WHEN 1 THEN 'access'
	                   WHEN 2 THEN 'sharing' ELSE printf('kind-%d', foreign_claims) END) END)
	AS explanation
FROM ring_ops
WHERE op = 'vcpu_end' AND (free <> 0 OR target_claims <> 0 OR foreign_claims <> -1)
ORDER BY seq;
