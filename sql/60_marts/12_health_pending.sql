-- store = "ducklake": the customers whose health_state row (and segment_changes) this pipeline has not derived
-- since a batch touched them: the batch came while another pipeline owned them (it derives them), so their
-- stored state lacks its deltas. A pipeline computes them from the rollups, never incrementally, once it owns
-- them (at its next refresh); a reader, all of them; a full refresh computes everyone and empties the table.
create table if not exists health_pending (
    customer_id varchar primary key
);
