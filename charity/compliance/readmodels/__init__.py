"""Read models: the queries behind the regulator's dashboard (dashboard), its
complaint, suspension and 慈善中国 tables and the compliance feed (enforcement), and
obligation lists with today's status (obligations)."""
