"""SQL the pages need beyond the events domain's public reading."""

# Luxembourg's communes with their cantons, for the registration form and the list's filter
COMMUNES = "SELECT name, canton FROM communes ORDER BY name"
