"""Runs Athena's saved queries with DuckDB over archive files, for tests/tests/archive.rs.

Reads on stdin: {"glob": ..., "columns": {json key: DuckDB type}, "aliases": {json key: column},
"queries": {name: SQL}}; the files become the view `findings`, as the Glue table declares it
(its columns, its SerDe's key mappings, its `dt` partition as a string). Prints
{name: [[column values], ...]}.
"""
import json
import sys

import duckdb

spec = json.load(sys.stdin)
con = duckdb.connect()
columns = ", ".join(f"'{k}': '{v}'" for k, v in spec["columns"].items())
renamed = ", ".join(f'"{k}" AS "{v}"' for k, v in spec["aliases"].items())
excluded = ", ".join(f'"{k}"' for k in spec["aliases"])
select = f"{renamed}, * EXCLUDE ({excluded})" if spec["aliases"] else "*"
con.execute(
    f"CREATE VIEW findings AS SELECT {select} FROM read_json('{spec['glob']}', "
    f"format='newline_delimited', hive_partitioning=true, hive_types={{'dt': 'VARCHAR'}}, "
    f"columns={{{columns}}})"
)
out = {}
for name, sql in spec["queries"].items():
    out[name] = [list(row) for row in con.execute(sql).fetchall()]
json.dump(out, sys.stdout)
