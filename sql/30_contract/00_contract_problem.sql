-- A contract violation: a stable code (for counting) and a readable message (for people).
create or replace macro contract_problem(code, message) as {'code': code, 'message': message};
