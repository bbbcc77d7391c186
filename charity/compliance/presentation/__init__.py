"""Presentation of compliance data: bar charts (charts), the 慈善中国 export rows
(cnexport) and the per-type disclosure forms (forms). Files are written by
charity.web.exports, the one CSV/XLSX writer."""
