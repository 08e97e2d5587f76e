DROP TABLE audit_logs;
DROP TABLE api_keys;
DROP TABLE users;
