"""The organisers' back-office: sessions, dashboard, people and roles, audit log (HTML pages)."""
