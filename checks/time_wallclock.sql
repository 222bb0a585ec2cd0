-- property: time-wallclock
-- what: a time record's wall-clock sub-second field is out of range, or the wall clock does not move with system time
--
-- Seed 002: records carry the wall clock as seconds plus microseconds
-- (wc_sec, wc_usec). The microseconds must stay in 0..999999 (the seed's
-- percpu_ticks carried them with '> 1000000' and '-= 10000000'), and
-- wall clock minus system time must stay what it was at the first update
-- (within the microsecond the field resolves).
WITH u AS (
	SELECT *, wc_sec * 1000000000 + wc_usec * 1000 - stime AS off,
		FIRST_VALUE(wc_sec * 1000000000 + wc_usec * 1000 - stime)
			OVER (ORDER BY seq) AS off0
	FROM time_updates
)
SELECT seq, cycle, cpu,
	CASE WHEN wc_usec >= 1000000 OR wc_usec < 0 THEN
		printf('%s record %d: wall clock sub-second field %d us is out of range 0..999999',
			record, id, wc_usec)
	ELSE
		printf('%s record %d: wall clock %d.%06d s does not move with system time %d ns (off by %d ns)',
			record, id, wc_sec, wc_usec, stime, off - off0)
	END AS explanation
FROM u WHERE wc_usec >= 1000000 OR wc_usec < 0 OR off - off0 >= 1000 OR off - off0 <= -1000
ORDER BY seq;
