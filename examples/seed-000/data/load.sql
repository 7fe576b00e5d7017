-- What psql would load (kept for the seed's shape; busybox has no psql).
CREATE TABLE IF NOT EXISTS totals (name text, total integer);
