-- property: iommu-map-visible
-- what: a DMA to an IOVA whose iommu_map had returned faulted
--
-- Seed 001: once iommu_map returns, the device's DMA to the new IOVAs must
-- succeed, also with VT-d caching mode (CM=1), where the IOMMU may have
-- cached the not-present entry and the map must invalidate it. EV_CHECK of
-- kind io_map (8), from the runner's reference (runner/ioworld.c).
SELECT seq, cycle, cpu,
	printf('after op %d: device %d (I/O domain %d) faulted at iova 0x%x, which the domain maps to pa 0x%x',
		d, e, f, a, b) AS explanation
FROM events WHERE type = 18 AND sub = 8 ORDER BY seq;
