"""Disclosure compliance: the statutory rules as data, obligations derived from them,
spending-ratio checks, and the pieces the regulator's dashboard is built from."""
