-- Where each incremental alert source stopped reading (a rowid or an id of the table it follows).
create table if not exists alert_cursors (
    name       varchar primary key,
    position   bigint not null,
    updated_at timestamp not null
);
