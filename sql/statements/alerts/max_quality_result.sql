select coalesce(max(result_id), 0) from quality_results;
