"""An event's people in the back-office: the registrations table, the door's check-in page, the attendance sheet."""
