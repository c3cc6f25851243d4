-- promptwall central audit store (PostgreSQL 15), schema version 1.
--
-- Every gateway ships every record of its hash-chained trail here, verbatim, exactly once: the key
-- of every table a record fills is (gateway_id, seq), and the shipper inserts with
-- ON CONFLICT DO NOTHING, so a retry or a crash between COMMIT and the gateway's cursor write
-- changes nothing. pw_records is the evidence (`promptwall audit verify --central` re-checks its
-- lines against the gateway's signed checkpoints); the other tables are what the review page and
-- `audit query/export` read, derived from those same lines (central/record_rows.h) in the same
-- transaction.
--
-- Applied by CentralSchema (central/central_schema.h) at every gateway start, in one transaction
-- under an advisory lock, so several gateways starting at once do not race: every statement here
-- must stay idempotent (IF NOT EXISTS). A change that is not additive raises the version in
-- pw_schema_version, and a gateway refuses a store whose version is newer than its own.
-- No content ever lands here that is not in the trail: events hold masked excerpts and HMACs only.

CREATE TABLE IF NOT EXISTS pw_schema_version (
  version integer NOT NULL,
  applied timestamptz NOT NULL DEFAULT now()
);

-- One row per gateway: where it is, what it has shipped, the public key that signs its checkpoints
-- (trail.pub as registered on first contact; a verifier with its own copy of the key is stronger).
CREATE TABLE IF NOT EXISTS pw_gateways (
  gateway_id text PRIMARY KEY,
  province text NOT NULL DEFAULT '',
  public_key text NOT NULL DEFAULT '',    -- PEM (SubjectPublicKeyInfo), '' until known
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  shipped_seq bigint NOT NULL DEFAULT 0   -- highest seq committed here
);

-- Every trail record, verbatim (the line without its newline), of every type.
CREATE TABLE IF NOT EXISTS pw_records (
  gateway_id text NOT NULL,
  seq bigint NOT NULL,
  type text NOT NULL,
  time timestamptz,                       -- the record's "time", NULL when it has none
  line text NOT NULL,
  PRIMARY KEY (gateway_id, seq)
);

-- One row per decision event. max_severity: 0 none, 1 low, 2 medium, 3 high, 4 critical (the
-- highest of its findings); violation: decision <> 'allow'; justified: a justification was given
-- (header or form), as audit/audit_index.cpp counts it. rules/categories: distinct, in the
-- event's order. The full event (findings, evidence, files) is the pw_records line.
CREATE TABLE IF NOT EXISTS pw_events (
  gateway_id text NOT NULL,
  seq bigint NOT NULL,
  event_id text NOT NULL UNIQUE,
  time timestamptz NOT NULL,
  province text NOT NULL DEFAULT '',
  request_id text NOT NULL DEFAULT '',
  client text NOT NULL DEFAULT '',
  user_name text NOT NULL DEFAULT '',
  unit text NOT NULL DEFAULT '',
  groups text[] NOT NULL DEFAULT '{}',
  service text NOT NULL DEFAULT '',
  method text NOT NULL DEFAULT '',
  path text NOT NULL DEFAULT '',
  decision text NOT NULL,
  mode text NOT NULL DEFAULT '',
  reason text NOT NULL DEFAULT '',
  forwarded boolean NOT NULL DEFAULT false,
  max_severity smallint NOT NULL DEFAULT 0 CHECK (max_severity BETWEEN 0 AND 4),
  violation boolean NOT NULL,
  justified boolean NOT NULL DEFAULT false,
  rules text[] NOT NULL DEFAULT '{}',
  categories text[] NOT NULL DEFAULT '{}',
  ruleset text NOT NULL DEFAULT '',
  rules_bundle text NOT NULL DEFAULT '',
  bytes_in bigint NOT NULL DEFAULT 0,
  bytes_forwarded bigint NOT NULL DEFAULT 0,
  latency_ms double precision NOT NULL DEFAULT 0,
  scan_ms double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (gateway_id, seq)
);

-- Every triage record (the latest by time, then seq, per target gives an event's state).
CREATE TABLE IF NOT EXISTS pw_triage (
  gateway_id text NOT NULL,
  seq bigint NOT NULL,
  event_id text NOT NULL,
  target text NOT NULL,
  time timestamptz NOT NULL,
  state text NOT NULL,
  note text NOT NULL DEFAULT '',
  officer text NOT NULL DEFAULT '',
  client text NOT NULL DEFAULT '',
  PRIMARY KEY (gateway_id, seq)
);

-- The per-hour traffic counts (trail record type "traffic"): every decided request, clean ones
-- included, per UTC hour, unit ('' when unknown) and service. A rate is with_findings / requests
-- summed over rows; one record may hold the same hour as an earlier one (counts add up).
CREATE TABLE IF NOT EXISTS pw_traffic (
  gateway_id text NOT NULL,
  seq bigint NOT NULL,
  hour timestamptz NOT NULL,
  unit text NOT NULL DEFAULT '',
  service text NOT NULL DEFAULT '',
  requests bigint NOT NULL CHECK (requests >= 0),
  with_findings bigint NOT NULL CHECK (with_findings >= 0),
  PRIMARY KEY (gateway_id, seq, hour, unit, service)
);

-- What the shipper and the verifier need: the primary keys above ((gateway_id, seq) order).
-- What the readers need first; the section below adds their other indexes and rollups.
CREATE INDEX IF NOT EXISTS pw_records_type ON pw_records (gateway_id, type, seq);
CREATE INDEX IF NOT EXISTS pw_events_time ON pw_events (time);
CREATE INDEX IF NOT EXISTS pw_events_unit_time ON pw_events (unit, time);
CREATE INDEX IF NOT EXISTS pw_events_gateway_time ON pw_events (gateway_id, time);
CREATE INDEX IF NOT EXISTS pw_triage_target ON pw_triage (target, time, seq);
CREATE INDEX IF NOT EXISTS pw_traffic_hour ON pw_traffic (hour, unit);

-- ==== Read indexes and rollups: what central::CentralStore's queries need ====
-- The review page's list, newest first: violations only (the default), or narrowed by user,
-- service or province, each leading an index that ends in time so a page comes out in order and
-- the drop-downs' distinct values are skip scans (one probe per value).
CREATE INDEX IF NOT EXISTS pw_events_violation_time ON pw_events (time) WHERE violation;
CREATE INDEX IF NOT EXISTS pw_events_user_time ON pw_events (user_name, time);
CREATE INDEX IF NOT EXISTS pw_events_service_time ON pw_events (service, time);
CREATE INDEX IF NOT EXISTS pw_events_province_time ON pw_events (province, time);
-- Rule and category filters without a unit (`rules @> ARRAY[$]`, `categories @> ARRAY[$]`).
CREATE INDEX IF NOT EXISTS pw_events_categories ON pw_events USING gin (categories);
CREATE INDEX IF NOT EXISTS pw_events_rules ON pw_events USING gin (rules);
-- The usage chart's violation counts, rolled up by CentralStore (central/central_store.cpp) from
-- pw_events past each gateway's mark, per local day of a time zone (the organisation's: the
-- charts' days and ISO weeks are local), so a chart over millions of events reads thousands of
-- rows. pw_usage_daily counts each violation once; pw_usage_daily_categories once per category
-- it has. The marks rely on each gateway's events arriving in seq order, as the shipper commits.
CREATE TABLE IF NOT EXISTS pw_usage_daily (
  zone text NOT NULL,
  day date NOT NULL,
  gateway_id text NOT NULL,
  unit text NOT NULL,
  service text NOT NULL,
  violations bigint NOT NULL,
  PRIMARY KEY (zone, day, gateway_id, unit, service)
);
CREATE TABLE IF NOT EXISTS pw_usage_daily_categories (
  zone text NOT NULL,
  day date NOT NULL,
  gateway_id text NOT NULL,
  unit text NOT NULL,
  category text NOT NULL,
  violations bigint NOT NULL,
  PRIMARY KEY (zone, day, gateway_id, unit, category)
);
CREATE TABLE IF NOT EXISTS pw_usage_daily_mark (
  zone text NOT NULL,
  gateway_id text NOT NULL,
  seq bigint NOT NULL,  -- the gateway's events up to this seq are counted for this zone
  PRIMARY KEY (zone, gateway_id)
);
