"""Calendar feeds: iCalendar subscriptions and invitation attachments."""
