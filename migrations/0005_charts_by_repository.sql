-- Lets a namespace's chart versions be read in pages ordered by repository, without a sort.
CREATE INDEX charts_namespace_repo ON charts(namespace, repo_id, manifest_id);
