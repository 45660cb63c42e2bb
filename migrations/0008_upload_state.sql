-- The blob store's record of an unfinished upload (an object store's multipart upload, its parts
-- and hash state), so that any process can carry on an upload another one started.
ALTER TABLE uploads ADD COLUMN state TEXT;
