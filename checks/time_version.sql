-- property: time-version
-- what: a reader used a time record whose version was odd, or that an update rewrote during the read
--
-- Seed 002 (time_version1/time_version2; Linux pvclock): the writer makes
-- the version odd while it updates a record, and a reader retries while
-- the version it saw was odd or changed. The runner records the version
-- each read used and whether the record's fields changed between the
-- reader's first and last load (torn).
SELECT seq, cycle, cpu,
	printf('%s on cpu %d used its time record at version %d %s',
		CASE WHEN agent >= 65536 THEN printf('hypervisor on cpu %d', agent - 65536)
			ELSE printf('vcpu %d', agent) END,
		cpu, version,
		CASE WHEN torn THEN 'while it was rewritten (fields of two updates)'
			ELSE '(odd: mid-update)' END) AS explanation
FROM time_reads WHERE (version & 1) = 1 OR torn = 1
ORDER BY seq;
