-- One working-store table (__table__) into the checkpoint's Parquet file (__path__).
copy __table__ to '__path__' (format parquet, compression zstd);
