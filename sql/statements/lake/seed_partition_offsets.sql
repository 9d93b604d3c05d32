insert into lake.__offsets__ select -1, null, 'nobody', $now::TIMESTAMP
where not exists (from lake.__offsets__);
