-- A claim: this pipeline owns the partition from now on (a previous owner's commit of it conflicts, and
-- its retry finds the new owner). Read where the partition resumes first (read_partition_offsets).
update lake.__offsets__ set owner = $owner, claimed_at = $now::TIMESTAMP;
