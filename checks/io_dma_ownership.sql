-- property: dma-ownership
-- what: a DMA reached a frame its device's domain does not own, including a frame freed or reassigned after unmap
--
-- Frames belong to an I/O domain when it maps them (or by io_reassign and
-- io_hwdom_init) and stop belonging to it when they are freed (io_unmap
-- free: true) or reassigned (EV_IO_OWN events). Every DMA piece that went
-- through is checked against the owner of its frame: EV_CHECK of kind
-- io_owner (9), b = owner domain + 1 (0: nobody).
SELECT seq, cycle, cpu,
	printf('device %d (I/O domain %d) reached pa 0x%x through iova 0x%x; the frame belongs to %s',
		e, f, c, a, CASE WHEN b = 0 THEN 'nobody (freed)' ELSE printf('I/O domain %d', b - 1) END) AS explanation
FROM events WHERE type = 18 AND sub = 9 ORDER BY seq;
