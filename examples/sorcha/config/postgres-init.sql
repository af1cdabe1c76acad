-- Databases of the Sorcha services, created on the first start of PostgreSQL.
CREATE DATABASE sorcha_wallet;
CREATE DATABASE sorcha_tenant;
CREATE DATABASE sorcha_peer;
CREATE DATABASE sorcha_blueprint;
