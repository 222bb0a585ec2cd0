-- property: ring-lost-request
-- what: at the end of the run a ring has claims that never ended in a put or a release, or requests the helper never consumed
--
-- Seed 004: "If the caller does not need to send a request, the claimed
-- slot has to be released with mem_event_release_slot()": every claim
-- ends in exactly one put or release, and every request put is consumed
-- while the helper runs. Counted from the ring's own operations up to its
-- ring_end row (ring_ops).
WITH ends AS (SELECT seq, cycle, cpu, ring, domain, ring_name FROM ring_ops WHERE op = 'ring_end'),
counts AS (
	SELECT n.seq AS seq, sum(o.op = 'claim') AS claims, sum(o.op = 'put') AS puts,
	       sum(o.op = 'release') AS releases, sum(o.op = 'consume') AS consumed
	FROM ends n JOIN ring_ops o ON o.ring = n.ring AND o.seq < n.seq
	GROUP BY n.seq)
SELECT n.seq, n.cycle, n.cpu,
	printf('ring d%d %s at the end: %d claim(s), %d put(s), %d release(s); %d request(s) consumed by the helper',
	       n.domain, n.ring_name, c.claims, c.puts, c.releases, c.consumed) AS explanation
FROM ends n JOIN counts c ON c.seq = n.seq
WHERE c.claims <> c.puts + c.releases OR c.puts <> c.consumed
ORDER BY n.seq;
