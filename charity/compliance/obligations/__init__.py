"""Obligations in the database: the facts loaded (facts, annual_reports), the
obligations table refreshed from the rules (refresh) and reminder mail collected
(reminders)."""
