"""The public HTML pages: the upcoming events, one event with its registration form, the manage page."""
