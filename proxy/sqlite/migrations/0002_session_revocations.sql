-- 0002: revoked families are session revocations.
--
-- Revocations lists the families revoked recently enough that access
-- tokens issued in them may still be unexpired; Prune keeps those families.
-- Only revoked families are indexed.
CREATE INDEX refresh_families_revoked ON refresh_families (revoked_at) WHERE revoked_at IS NOT NULL;
