-- 0005: whether a user's email was verified.
--
-- true only for an address an external OpenID Connect provider said it
-- verified for the user, at their latest sign-in through it: only then is
-- the email forwarded to upstreams. Signup and 'authgate users add' do not
-- verify addresses. Existing users start unverified; a linked user's next
-- sign-in through its provider sets the flag again.
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
