-- property: iotlb-envelope
-- what: after an IOMMU operation returned, the IOTLB may still serve a translation of its range that differs from the mappings
--
-- The IOTLB envelope (sim/iommu/ioenv.c) holds every translation the
-- hardware may still have cached: added by walks, removed only by an
-- invalidation that covers it. After every map, unmap, hardware-domain
-- set-up and deferred flush, the runner compares the envelope with its
-- reference over the operation's range, so a missing or misaimed flush is
-- reported even when no DMA used the stale entry and even when the
-- concrete IOTLB happened to evict it. EV_CHECK of kind io_env (10);
-- c = -1 is a cached not-present result (VT-d caching mode).
SELECT seq, cycle, cpu,
	printf('after op %d: the IOTLB may still translate iova 0x%x of I/O domain %d to %s; the domain maps %s there',
		d, a, f, CASE WHEN c = -1 THEN 'a cached fault' ELSE printf('pa 0x%x', c) END,
		CASE WHEN b = -1 THEN 'nothing' ELSE printf('pa 0x%x', b) END) AS explanation
FROM events WHERE type = 18 AND sub = 10 ORDER BY seq;
