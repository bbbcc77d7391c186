"""Request plumbing: errors, security headers, templating, i18n, caching, rate limits, forms,
exports and charts."""
