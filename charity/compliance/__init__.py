"""Disclosure compliance in four parts that import downwards only: presentation, read
models, obligations (database work) and pure rules.

The parts (pyproject.toml's ``compliance-*`` import contracts keep them apart):

- ``presentation``: charts, the 慈善中国 export and the per-type disclosure forms;
- ``readmodels``: the queries behind the regulator's dashboard, feeds and obligation lists;
- ``obligations``: database work: facts loaded, obligations stored, reminders collected;
- ``rules``: pure rules with their legal sources: the statutory disclosure rules, dates
  and deadlines, spending ratios and the fields of each disclosure type. No database
  (the ``compliance-rules-are-pure`` contract).

Demo data lives in charity.demo.compliance; the ``flask compliance`` commands in
charity.commands.compliance.
"""
