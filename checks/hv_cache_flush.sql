-- property: cache-flush
-- what: a memory type (PAT/PCD/PWT) of a present mapping changed without the affected frames being flushed from the caches before the operation completed
--
-- Seed 000: changing the cache attributes of a present mapping needs
-- FLUSH_CACHE. The runner tracks the frames whose memory type an
-- operation changed and the CLFLUSH/WBINVD it issued. EV_CHECK kind cache (5).
SELECT seq, cycle, cpu,
	printf('after op %d: %d frame(s) from pa 0x%x changed memory type without a cache flush', d, f, a) AS explanation
FROM events WHERE type = 18 AND sub = 5 ORDER BY seq;
