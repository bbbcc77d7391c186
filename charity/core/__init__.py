"""Domain helpers every layer may use: money, regions, text, events, permissions and the
database helpers."""
