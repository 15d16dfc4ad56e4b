"""The event editor of the back-office: a form over the events service, series in words, the preview."""
