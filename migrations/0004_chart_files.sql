-- README, values and schema move to their own table: listing versions (indexes, the API) read
-- only the short columns, instead of walking each row's overflow pages past kilobytes of text.
CREATE TABLE chart_files (
  manifest_id   INTEGER PRIMARY KEY REFERENCES manifests(id) ON DELETE CASCADE,
  readme        TEXT,
  values_yaml   TEXT,
  values_schema TEXT
);
INSERT INTO chart_files (manifest_id, readme, values_yaml, values_schema)
  SELECT manifest_id, readme, values_yaml, values_schema FROM charts
  WHERE readme IS NOT NULL OR values_yaml IS NOT NULL OR values_schema IS NOT NULL;
ALTER TABLE charts DROP COLUMN readme;
ALTER TABLE charts DROP COLUMN values_yaml;
ALTER TABLE charts DROP COLUMN values_schema;
