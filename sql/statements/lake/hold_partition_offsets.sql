-- A plug-in's commit of its partitions' state (alerts): the partition's row rewritten as it is, only while
-- this pipeline owns it (0 rows: another pipeline claimed it, the state is given up). Like a batch's commit,
-- it conflicts with a concurrent claim of the partition, so a fenced owner's state is never committed.
update lake.__offsets__ set owner = owner where owner = $owner;
