-- property: time-monotonic
-- what: a guest vCPU or the hypervisor on a CPU reads a time smaller than its previous read
--
-- Seed 002: time is monotonic per vCPU (wherever it runs: a migration
-- between two reads is a cross-CPU comparison) and per CPU (the
-- hypervisor's NOW()). EV_TIME_READ of each agent in event order.
SELECT seq, cycle, cpu,
	printf('%s read %d ns on cpu %d after %d ns: time went backwards by %d ns',
		CASE WHEN agent >= 65536 THEN printf('hypervisor on cpu %d', agent - 65536)
			ELSE printf('vcpu %d', agent) END,
		value, cpu, prev, prev - value) AS explanation
FROM (SELECT *, LAG(value) OVER (PARTITION BY agent ORDER BY seq) AS prev FROM time_reads)
WHERE prev IS NOT NULL AND value < prev
ORDER BY seq;
