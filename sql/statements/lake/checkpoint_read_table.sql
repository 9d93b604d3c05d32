-- One working-store table (__table__) from its checkpoint file, columns matched by name.
insert into __table__ by name select * from read_parquet($path);
