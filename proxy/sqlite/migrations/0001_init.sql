-- 0001: users, refresh-token families and revocations.
--
-- Times are INTEGER unix milliseconds UTC; NULL is the zero time.
-- Tables are STRICT so a value of the wrong type is refused, not coerced.

CREATE TABLE users (
	id            TEXT    NOT NULL PRIMARY KEY,
	username      TEXT    NOT NULL,
	-- username_key is the lower-cased username: uniqueness and lookup are
	-- case-insensitive, the username is kept as written.
	username_key  TEXT    NOT NULL UNIQUE,
	email         TEXT    NOT NULL DEFAULT '',
	-- email_key is the lower-cased email, NULL when the user has none, so
	-- any number of users may have no email.
	email_key     TEXT    UNIQUE,
	password_hash TEXT    NOT NULL,
	roles         TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_at    INTEGER,
	updated_at    INTEGER
) STRICT;

-- ListUsers: ordered by creation, ties in insertion order.
CREATE INDEX users_created ON users (created_at);

-- One row per login. current_hash and previous_hash are SHA-256 hashes of
-- refresh tokens; the tokens themselves are never stored.
CREATE TABLE refresh_families (
	id            TEXT    NOT NULL PRIMARY KEY,
	user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	current_hash  BLOB    NOT NULL,
	previous_hash BLOB,
	rotated_at    INTEGER,
	created_at    INTEGER,
	last_used_at  INTEGER,
	expires_at    INTEGER,
	revoked_at    INTEGER,
	revoke_reason TEXT    NOT NULL DEFAULT ''
) STRICT;

-- UpdateUser revokes a user's families; deleting a user cascades.
CREATE INDEX refresh_families_user ON refresh_families (user_id);
-- Prune deletes expired families.
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);

-- Every refresh token a family ever issued, so that an already rotated
-- token still leads to its family (reuse detection).
CREATE TABLE refresh_tokens (
	hash      BLOB    NOT NULL PRIMARY KEY,
	family_id TEXT    NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
	issued_at INTEGER
) STRICT, WITHOUT ROWID;

-- Deleting a family (Prune) cascades to its tokens through this index.
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Access tokens revoked before their expiry, by issuer and jti.
CREATE TABLE denied_tokens (
	issuer     TEXT    NOT NULL,
	jti        TEXT    NOT NULL,
	expires_at INTEGER,
	PRIMARY KEY (issuer, jti)
) STRICT, WITHOUT ROWID;

-- Revocations loads, and Prune deletes, by expiry.
CREATE INDEX denied_tokens_expires ON denied_tokens (expires_at);

-- Every access token of subject issued before revoked_before is revoked.
-- One row per subject, so the table is bounded by the number of users.
CREATE TABLE subject_revocations (
	subject        TEXT    NOT NULL PRIMARY KEY,
	revoked_before INTEGER
) STRICT, WITHOUT ROWID;
