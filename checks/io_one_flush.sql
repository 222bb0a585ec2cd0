-- property: iommu-one-flush
-- what: with flush elision on, one iommu_map or iommu_unmap of any order issued more than one IOTLB invalidation
--
-- Seed 001: the per-PTE flushes are gone; the wrapper flushes once at the
-- end with the highest flush type any PTE reported. EV_IO_OP (type 23)
-- carries the invalidations the IOMMU carried out during the operation in
-- e bits 8..30 and the elision setting in bit 31; sub 3 is map, 4 unmap.
-- An operation that failed (f != 0) ran the error path, which flushes the
-- whole domain on purpose, and is not judged.
SELECT seq, cycle, cpu,
	printf('%s of %d page(s) at dfn 0x%x in I/O domain %d issued %d IOTLB invalidations (elision allows one)',
		CASE sub WHEN 3 THEN 'map' ELSE 'unmap' END, c, a, d, (e >> 8) & 8388607) AS explanation
FROM events
WHERE type = 23 AND sub IN (3, 4) AND (e >> 31) & 1 = 1 AND f = 0 AND ((e >> 8) & 8388607) > 1
ORDER BY seq;
