"""Pure compliance rules: the statutory disclosure rules with their legal sources (law),
calendar arithmetic in China time (dates), obligations derived from facts (deadlines,
projects, trusts), spending ratios (ratios) and the structured fields of each
disclosure type (fields). Nothing here reads or writes the database."""
