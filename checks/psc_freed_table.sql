-- property: psc-freed-table
-- what: a page-table frame was freed while a page-table entry or a live paging-structure-cache record still referenced it
--
-- From sim/event.h:
--   EV_TABLE (14), sub TBL_FREE (1): a = frame pa, c = live links to it
--     from page tables.
--   EV_ENV_ADD (11), sub ENVK_PSC (2): a = record id, b = pcid or
--     0xffffffff (global), f = the table frame the cached entry points to.
--   EV_ENV_DROP (12): a = record id.
-- A PSC record (one EV_ENV_ADD) is live at a free at seq S if it was
-- added before S and no drop of its id came between its add and S. This
-- is computed from the add and drop events, not from EV_TABLE.d (the
-- simulator's own count), so the query is an independent implementation
-- of the property. Each add's first later drop comes from one window pass
-- over the adds and drops of its id, so the query stays O(n log n).
WITH life AS (
	SELECT seq, type, cpu, a AS record, b AS pcid, f AS frame,
		min(CASE WHEN type = 12 THEN seq END) OVER (
			PARTITION BY a ORDER BY seq DESC
			ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
			AS dropped
	FROM events
	WHERE type = 12 OR (type = 11 AND sub = 2)
), adds AS (
	SELECT seq, cpu, record, pcid, frame, dropped
	FROM life WHERE type = 11
), frees AS (
	SELECT seq, cycle, cpu, a AS frame, c AS links
	FROM events WHERE type = 14 AND sub = 1
), refs AS (
	SELECT fr.seq AS free_seq, ad.seq AS add_seq, ad.record, ad.cpu,
		ad.pcid
	FROM frees fr JOIN adds ad ON ad.frame = fr.frame
		AND ad.seq < fr.seq
		AND (ad.dropped IS NULL OR ad.dropped > fr.seq)
	ORDER BY fr.seq, ad.seq
), held AS (
	SELECT free_seq, count(*) AS n,
		group_concat(printf('#%d cpu %d pcid %s', record, cpu,
			CASE WHEN pcid = 0xffffffff THEN 'global'
				ELSE printf('%d', pcid) END), ', ') AS who
	FROM refs
	GROUP BY free_seq
)
SELECT fr.seq, fr.cycle, fr.cpu,
	printf('frame 0x%x freed while still referenced: %d live link(s) in page tables, %d live PSC record(s)%s',
		fr.frame, fr.links, coalesce(h.n, 0),
		CASE WHEN h.n > 0 THEN ': ' || h.who ELSE '' END) AS explanation
FROM frees fr LEFT JOIN held h ON h.free_seq = fr.seq
WHERE fr.links != 0 OR h.n > 0
ORDER BY fr.seq;
