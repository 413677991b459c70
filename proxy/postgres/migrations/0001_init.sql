-- 0001: users, refresh-token families and revocations.
--
-- Times are timestamptz to the millisecond; NULL is the zero time.
-- Identifiers and lookup keys use the "C" collation: they are compared
-- byte for byte, and their indexes do not depend on the operating
-- system's locale data (whose changes can corrupt a text index).

CREATE TABLE users (
	id            text COLLATE "C" NOT NULL PRIMARY KEY,
	-- seq is the insertion order, ListUsers' tie-breaker.
	seq           bigint GENERATED ALWAYS AS IDENTITY,
	username      text NOT NULL,
	-- username_key is the lower-cased username, folded by authgate (not by
	-- the database's locale, so that every store folds alike): uniqueness
	-- and lookup are case-insensitive, the username is kept as written.
	username_key  text COLLATE "C" NOT NULL CONSTRAINT users_username_key UNIQUE,
	email         text NOT NULL DEFAULT '',
	-- email_key is the lower-cased email, NULL when the user has none, so
	-- any number of users may have no email.
	email_key     text COLLATE "C" CONSTRAINT users_email_key UNIQUE,
	password_hash text NOT NULL,
	roles         text[] NOT NULL DEFAULT '{}',
	disabled      boolean NOT NULL DEFAULT false,
	created_at    timestamptz(3),
	updated_at    timestamptz(3)
);

-- ListUsers: ordered by creation (the zero time first), ties in insertion
-- order.
CREATE INDEX users_created ON users (created_at NULLS FIRST, seq);

-- One row per login. current_hash and previous_hash are SHA-256 hashes of
-- refresh tokens; the tokens themselves are never stored.
CREATE TABLE refresh_families (
	id            text COLLATE "C" NOT NULL PRIMARY KEY,
	user_id       text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	current_hash  bytea NOT NULL,
	previous_hash bytea,
	rotated_at    timestamptz(3),
	created_at    timestamptz(3),
	last_used_at  timestamptz(3),
	expires_at    timestamptz(3),
	revoked_at    timestamptz(3),
	revoke_reason text NOT NULL DEFAULT ''
);

-- UpdateUser revokes a user's families; deleting a user cascades.
CREATE INDEX refresh_families_user ON refresh_families (user_id);
-- Prune deletes expired families.
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);

-- Every refresh token a family ever issued, so that an already rotated
-- token still leads to its family (reuse detection).
CREATE TABLE refresh_tokens (
	hash      bytea NOT NULL PRIMARY KEY,
	family_id text COLLATE "C" NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
	issued_at timestamptz(3)
);

-- Deleting a family (Prune) cascades to its tokens through this index.
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Access tokens revoked before their expiry, by issuer and jti.
CREATE TABLE denied_tokens (
	issuer     text COLLATE "C" NOT NULL,
	jti        text COLLATE "C" NOT NULL,
	expires_at timestamptz(3),
	PRIMARY KEY (issuer, jti)
);

-- Revocations loads, and Prune deletes, by expiry.
CREATE INDEX denied_tokens_expires ON denied_tokens (expires_at);

-- Every access token of subject issued before revoked_before is revoked.
-- One row per subject, so the table is bounded by the number of users.
CREATE TABLE subject_revocations (
	subject        text COLLATE "C" NOT NULL PRIMARY KEY,
	revoked_before timestamptz(3)
);
