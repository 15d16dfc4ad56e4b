"""SQL for organisations, organisers, memberships and tokens."""

# the organiser behind a live token, with their memberships as {organisation_id: role}
ORGANISER_BY_TOKEN = """
SELECT o.id, o.email, o.name, o.is_admin,
       coalesce(jsonb_object_agg(m.organisation_id::text, m.role) FILTER (WHERE m.organisation_id IS NOT NULL),
                '{}') AS roles
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

# ---------------------------------------------------------------------------- accounts and invitations

# an account by email, locked for a change of its roles or password
ACCOUNT_FOR_UPDATE = """
SELECT id, email, name, is_admin, password_hash IS NOT NULL AS has_password FROM organisers WHERE email = $1
FOR UPDATE
"""

# an account by id, locked likewise
ACCOUNT_BY_ID_FOR_UPDATE = """
SELECT id, email, name, is_admin, password_hash IS NOT NULL AS has_password FROM organisers WHERE id = $1
FOR UPDATE
"""

# a new account without a password; returns its id, or nothing when the email is taken
INSERT_ACCOUNT = """
INSERT INTO organisers (email, name) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING id
"""

# an account's roles with their organisations, by organisation name
ACCOUNT_MEMBERSHIPS = """
SELECT m.organisation_id, o.slug, o.name, m.role FROM memberships m JOIN organisations o ON o.id = m.organisation_id
WHERE m.organiser_id = $1 ORDER BY o.name
"""

# removes one role; returns the organiser id when there was one
DELETE_MEMBERSHIP = """
DELETE FROM memberships WHERE organiser_id = $1 AND organisation_id = $2 RETURNING organiser_id
"""

# the password hash of an account
PASSWORD_HASH = "SELECT password_hash FROM organisers WHERE id = $1"

# sets an account's password
SET_PASSWORD = "UPDATE organisers SET password_hash = $2 WHERE id = $1"

# revokes every live token of an organiser but the one whose hash is $2 (NULL: all)
REVOKE_OTHER_TOKENS = """
UPDATE api_tokens SET revoked_at = now()
WHERE organiser_id = $1 AND revoked_at IS NULL AND token_hash IS DISTINCT FROM $2
"""

# spends every open invitation of an account (a newer one replaces them, or a password was set)
SPEND_INVITATIONS = """
UPDATE invitations SET spent_at = now(), token_nonce = NULL WHERE organiser_id = $1 AND spent_at IS NULL
"""

# a new invitation valid for $5; returns its id and expiry
INSERT_INVITATION = """
INSERT INTO invitations (organiser_id, invited_by, token_nonce, token_hash, expires_at)
VALUES ($1, $2, $3, $4, now() + $5::interval)
RETURNING id, expires_at
"""

# an invitation by token hash with its account and who sent it; `usable` when it may still set the password
_INVITATION = """
SELECT i.id, i.organiser_id, i.token_nonce, i.expires_at, i.spent_at, o.email, o.name,
       coalesce(nullif(b.name, ''), b.email) AS inviter,
       i.spent_at IS NULL AND o.password_hash IS NULL AND i.expires_at > now() AS usable,
       i.spent_at IS NULL AND o.password_hash IS NULL AND i.expires_at <= now() AS expired
FROM invitations i JOIN organisers o ON o.id = i.organiser_id LEFT JOIN organisers b ON b.id = i.invited_by
WHERE i.{column} = $1
"""
INVITATION_BY_TOKEN = _INVITATION.format(column="token_hash")
INVITATION_BY_ID = _INVITATION.format(column="id")
# the same, locking the invitation and its account for setting the password
INVITATION_BY_TOKEN_FOR_UPDATE = INVITATION_BY_TOKEN + "FOR UPDATE OF i, o"

# ends every back-office session of an account (migration 0026)
REVOKE_SESSIONS = "UPDATE sessions SET revoked_at = now() WHERE organiser_id = $1 AND revoked_at IS NULL"

# spends every open password-reset link of an account
SPEND_PASSWORD_RESETS = """
UPDATE password_resets SET spent_at = now(), token_nonce = NULL WHERE organiser_id = $1 AND spent_at IS NULL
"""
