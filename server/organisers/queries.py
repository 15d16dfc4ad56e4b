"""SQL for organisations, organisers, memberships and tokens."""

# the organiser behind a live token, with their memberships as {organisation_id: role}
ORGANISER_BY_TOKEN = """
SELECT o.id, o.email, o.name, o.is_admin,
       coalesce(jsonb_object_agg(m.organisation_id::text, m.role) FILTER (WHERE m.organisation_id IS NOT NULL), '{}') AS roles
FROM api_tokens t
JOIN organisers o ON o.id = t.organiser_id
LEFT JOIN memberships m ON m.organiser_id = o.id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now()
GROUP BY o.id
"""

# id and password hash of an organiser by email
ORGANISER_FOR_LOGIN = "SELECT id, password_hash FROM organisers WHERE email = $1"

# creates or updates an organiser; returns the id
UPSERT_ORGANISER = """
INSERT INTO organisers (email, name, password_hash, is_admin) VALUES ($1, $2, $3, $4)
ON CONFLICT (email) DO UPDATE
   SET name = coalesce(nullif(EXCLUDED.name, ''), organisers.name),
       password_hash = coalesce(EXCLUDED.password_hash, organisers.password_hash),
       is_admin = organisers.is_admin OR EXCLUDED.is_admin
RETURNING id
"""

# stores a token hash; returns its expiry
INSERT_TOKEN = """
INSERT INTO api_tokens (organiser_id, token_hash, expires_at) VALUES ($1, $2, now() + $3::interval)
RETURNING expires_at
"""

# revokes one token by hash
REVOKE_TOKEN = "UPDATE api_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL"

# revokes every token of an organiser (used when an admin is reset)
REVOKE_ALL_TOKENS = "UPDATE api_tokens SET revoked_at = now() WHERE organiser_id = $1 AND revoked_at IS NULL"

# sets a role, replacing any earlier one
UPSERT_MEMBERSHIP = """
INSERT INTO memberships (organiser_id, organisation_id, role) VALUES ($1, $2, $3)
ON CONFLICT (organiser_id, organisation_id) DO UPDATE SET role = EXCLUDED.role
"""

# organisations, by slug
ORGANISATION_BY_SLUG = "SELECT id, slug, name FROM organisations WHERE slug = $1"
ALL_ORGANISATIONS = "SELECT id, slug, name FROM organisations ORDER BY name"

# creates an organisation (or renames it)
UPSERT_ORGANISATION = """
INSERT INTO organisations (slug, name) VALUES ($1, $2)
ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name
RETURNING id, slug, name
"""
