-- property: pge-pcide
-- what: a successful CR4 write left both CR4.PGE and CR4.PCIDE set
--
-- EV_CR_WRITE (type 8) in sim/event.h: sub = register (4 for CR4),
-- a = old value, b = new value, c = 1 if the write faulted (and so did not
-- take effect). PGE is bit 7 (0x80), PCIDE bit 17 (0x20000).
SELECT seq, cycle, cpu,
	printf('cpu %d: CR4 write 0x%x -> 0x%x sets both PGE (bit 7) and PCIDE (bit 17)',
		cpu, a, b) AS explanation
FROM events
WHERE type = 8 AND sub = 4 AND c = 0 AND (b & 0x20080) = 0x20080
ORDER BY seq;
