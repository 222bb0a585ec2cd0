-- property: time-causal
-- what: a time read that causally follows another read (a message received before it) is smaller than that read
--
-- Seed 002: across CPUs, a read that causally follows another -- through a
-- message in the scenario, which carries the largest time its sender had
-- read or received -- is never smaller. Reads and received messages of
-- each agent (a guest vCPU, or the hypervisor on a CPU) in event order;
-- a read below the largest stamp received before it is a violation.
-- (Through migration the order is the vCPU's own: time-monotonic.)
WITH x AS (
	SELECT seq, cycle, cpu, agent, value, NULL AS stamp FROM time_reads
	UNION ALL
	SELECT seq, cycle, cpu, to_agent AS agent, NULL AS value, stamp FROM time_msgs
	WHERE dir = 'recv'
), y AS (
	SELECT *, MAX(stamp) OVER (PARTITION BY agent ORDER BY seq
		ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS floor
	FROM x
)
SELECT seq, cycle, cpu,
	printf('%s read %d ns on cpu %d, below the %d ns of a message it received before: %d ns back',
		CASE WHEN agent >= 65536 THEN printf('hypervisor on cpu %d', agent - 65536)
			ELSE printf('vcpu %d', agent) END,
		value, cpu, floor, floor - value) AS explanation
FROM y WHERE value IS NOT NULL AND floor IS NOT NULL AND value < floor
ORDER BY seq;
