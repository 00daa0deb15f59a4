"""Bulk import of catalogue files (CSV, JSON, MARC): the file readers, the column cleaners, the comparison with
stored items and the writes, the batch runner with its leases and resume, and the admin import screen. The
``library_import`` command and the screen both run batches through ``importer``."""
