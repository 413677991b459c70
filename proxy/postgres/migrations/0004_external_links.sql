-- 0004: users linked to accounts at external OpenID Connect providers.
--
-- A user signing in through a provider is found by (provider, subject): the
-- provider's name in the configuration and the "sub" of its ID tokens.
-- Deleting a user deletes its links.
CREATE TABLE external_links (
	provider   text COLLATE "C" NOT NULL,
	subject    text COLLATE "C" NOT NULL,
	user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz(3),
	CONSTRAINT external_links_pkey PRIMARY KEY (provider, subject)
);

CREATE INDEX external_links_user ON external_links (user_id);
