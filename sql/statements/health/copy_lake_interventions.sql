-- A working store or a reader's copy of the lake: the group's interventions from the lake (registered
-- relation `lake_interventions`) that it does not hold yet, so the next step, the household and
-- return-after-exit flags, the dossier and the interventions lists read them as on a file. Interventions
-- are never changed or removed once recorded: adding the missing ones is the whole copy.
insert into interventions
select l.intervention_id, l.customer_id, l.step, l.note, l.recorded_by, l.tried_at, l.recorded_at
from lake_interventions l
anti join interventions i using (intervention_id);
