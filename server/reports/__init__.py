"""Activity reports for the conventions: figures by domain of activity, as JSON, XLSX and a printable page."""
