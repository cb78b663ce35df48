-- Runs once, when the postgres container initialises its data directory: one database per
-- service (DATABASE_URL=.../pharmacy + "_<service>"; see shared/config.py database_url_for).
CREATE DATABASE pharmacy_gateway;
CREATE DATABASE pharmacy_billing;
CREATE DATABASE pharmacy_customers;
CREATE DATABASE pharmacy_contacts;
CREATE DATABASE pharmacy_reminders;
CREATE DATABASE pharmacy_reporting;
