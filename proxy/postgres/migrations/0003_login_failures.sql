-- 0003: login failure counts shared by every replica (throttle.Counter).
-- key is a SHA-256 hex digest of what is throttled (an account, an
-- address, or both), never the username or address itself. Prune deletes
-- keys quiet for a day, found by last_failure.
CREATE TABLE login_failures (
	key          text COLLATE "C" NOT NULL PRIMARY KEY,
	failures     integer NOT NULL,
	last_failure timestamptz(3) NOT NULL
);

CREATE INDEX login_failures_last ON login_failures (last_failure);
