-- property: iommu-stale-dma
-- what: a DMA, outside any operation on its domain, reached a frame other than the one the domain's mapping names
--
-- Seed 001: after iommu_unmap (or a remapping iommu_map) returns, no device
-- may reach the old frame through a stale IOTLB entry. The runner keeps a
-- reference of what each I/O domain maps and checks every translated
-- piece of every DMA against it (runner/ioworld.c); a DMA that reaches a
-- frame where nothing is mapped, another frame, or writes through a
-- read-only mapping is an EV_CHECK of kind io_stale (7). DMA while an
-- operation on the domain is under way is not judged (either state may
-- be seen); with deferred unmap, the old frame stays allowed until the
-- deferred flush.
SELECT seq, cycle, cpu,
	printf('after op %d: device %d (I/O domain %d) reached pa 0x%x through iova 0x%x; the domain maps %s there',
		d, e, f, c, a, CASE WHEN b = -1 THEN 'nothing' ELSE printf('pa 0x%x', b) END) AS explanation
FROM events WHERE type = 18 AND sub = 7 ORDER BY seq;
