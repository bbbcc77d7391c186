"""The public read-only API: declarations (fields, resources, the log contract) and the
OpenAPI document generated from them. The views are in ``charity.blueprints.api_v1``."""
