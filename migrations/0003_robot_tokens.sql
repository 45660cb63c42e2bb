-- Access tokens for robots (CI jobs): scoped, revocable, only a hash of the secret is kept.
CREATE TABLE robot_tokens (
  name        TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  scopes      TEXT NOT NULL,          -- JSON: [{"repository": "<glob>", "actions": ["pull", …]}]
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER,
  revoked_at  INTEGER
) WITHOUT ROWID;
